"""Steps added to social-auth's sign-in pipeline (see SOCIAL_AUTH_PIPELINE in settings)."""

from __future__ import annotations

from typing import Any


def start_from_signed_out(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Match the Auth0 identity to its own user, never to whoever is signed in now.

    social-auth's default links a new identity to the signed-in user, which would give one
    Django user two merchant ids. Starting from no user keeps one user = one Auth0 `sub`.
    """
    return {"user": None}


def personal_account(
    backend: Any, uid: str, user: Any = None, details: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    """Give the person their personal merchant account (id = their Auth0 `sub`) at sign-in;
    `merchant_id` also makes it on the first request of someone signed in before accounts."""
    from accounts.memberships import personal_account_ensure

    if user is None:
        return
    details = details or {}
    name = str(details.get("fullname") or details.get("email") or uid)
    personal_account_ensure(user, sub=uid, name=name)
