"""The development sign-in (DEBUG on, no Auth0 settings): a merchant without Auth0."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from social_django.models import UserSocialAuth

from accounts.merchant import DEV_PROVIDER

# Offered as one-click choices on the development sign-in page.
SAMPLE_MERCHANT_IDS = ("dev|alice", "dev|bob")


def dev_profile(merchant_id: str) -> dict[str, object]:
    """The profile of a development identity: `dev|alice` is alice@example.com and
    `dev|carol@shop.test` is carol@shop.test, both verified (so invitations can be accepted
    without Auth0). DEBUG only, like the development sign-in itself."""
    name = merchant_id.split("|", 1)[1]
    email = name if "@" in name else f"{name}@example.com"
    return {"name": merchant_id, "email": email.lower(), "email_verified": True}


@transaction.atomic
def dev_merchant_get_or_create(*, merchant_id: str) -> User:
    """Return the Django user behind development merchant `merchant_id`, creating it if new.

    The identity is a `UserSocialAuth` row with provider "dev", so `merchant_id(request)`
    returns `merchant_id` for it exactly as it returns the Auth0 `sub` for a real merchant.
    """
    social = (
        UserSocialAuth.objects.select_related("user")
        .filter(provider=DEV_PROVIDER, uid=merchant_id)
        .first()
    )
    if social is not None:
        user: User = social.user
        if "email" not in (social.extra_data or {}):  # made before identities had an email
            social.extra_data = {**(social.extra_data or {}), **dev_profile(merchant_id)}
            social.save(update_fields=["extra_data"])
        return user
    username = merchant_id
    suffix = 1
    while User.objects.filter(username=username).exists():
        suffix += 1
        username = f"{merchant_id}-{suffix}"
    user = User.objects.create_user(username=username)
    UserSocialAuth.objects.create(
        user=user, provider=DEV_PROVIDER, uid=merchant_id, extra_data=dev_profile(merchant_id)
    )
    return user
