"""The signed-in merchant's name and picture for the page header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from social_django.models import UserSocialAuth

from accounts.merchant import AUTH0_PROVIDER, DEV_PROVIDER, dev_sign_in_enabled

register = template.Library()


@dataclass(frozen=True)
class Profile:
    name: str
    picture: str
    dev: bool


@register.simple_tag(takes_context=True)
def signed_in_profile(context: template.Context) -> Profile | None:
    """Name and picture from the Auth0 profile (falling back to the user's own fields)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    dev = dev_sign_in_enabled()
    social = UserSocialAuth.objects.filter(
        user_id=user.pk, provider=DEV_PROVIDER if dev else AUTH0_PROVIDER
    ).first()
    extra: dict[str, Any] = social.extra_data if social and social.extra_data else {}
    name = extra.get("name") or user.get_full_name() or extra.get("email") or user.get_username()
    picture = extra.get("picture") or ""
    if not isinstance(picture, str) or not picture.startswith("https://"):
        picture = ""
    return Profile(name=str(name), picture=picture, dev=dev)
