"""The signed-in merchant's name and picture for the page header."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from accounts.merchant import NotAMerchant, dev_sign_in_enabled, identity

register = template.Library()


@dataclass(frozen=True)
class Profile:
    name: str
    picture: str
    dev: bool


@register.simple_tag(takes_context=True)
def signed_in_profile(context: template.Context) -> Profile | None:
    """Name and picture from the Auth0 profile (falling back to the user's own fields): the
    identity the request was let in with, so the header costs no query of its own."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return None
    dev = dev_sign_in_enabled()
    try:
        person = identity(request)
    except NotAMerchant:  # e.g. a `createsuperuser` account: no identity of this sign-in
        return Profile(name=user.get_full_name() or user.get_username(), picture="", dev=dev)
    return Profile(name=person.name, picture=person.picture, dev=dev)
