"""Builders for merchant accounts and members in the accounts and views tests."""

from __future__ import annotations

from typing import Any

from django.test import Client

from accounts.merchant import CURRENT_ACCOUNT_SESSION_KEY
from accounts.models import Membership, MerchantAccount, Role
from tests.factories import merchant_user


def person(sub: str, name: str, email: str) -> Any:
    """A Django user with an Auth0 identity `sub` whose profile has `email` (verified)."""
    user = merchant_user(sub, name)
    social = user.social_auth.get(provider="auth0")
    social.extra_data = {"name": name, "email": email, "email_verified": True}
    social.save()
    return user


def business(name: str, *members: tuple[Any, Role], account_id: str | None = None) -> str:
    """A business account with `members` ((user, role) pairs); returns its id."""
    account = MerchantAccount.objects.create(pk=account_id or f"acct_{name.lower()}", name=name)
    for user, role in members:
        Membership.objects.create(user=user, account=account, role=role)
    return str(account.pk)


def work_in(client: Client, account_id: str) -> None:
    """Choose `account_id` in the header switcher (the real POST)."""
    response = client.post("/accounts/switch/", {"account": account_id})
    assert response.status_code == 302, response
    assert client.session[CURRENT_ACCOUNT_SESSION_KEY] == account_id
