"""When the merchant last proved who they are, in this browser session: moving money (a
refund) asks for a sign-in no older than REFUND_REAUTH_MINUTES.

The time is kept in the session (not `User.last_login`, which a sign-in in another browser
would refresh) and set by Django's `user_logged_in` signal, so Auth0, the development sign-in
and the re-confirmation all set it the same way."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest

SIGNED_IN_AT = "accounts_signed_in_at"


def mark_signed_in(request: HttpRequest) -> None:
    request.session[SIGNED_IN_AT] = int(time.time())


def signed_in_recently(request: HttpRequest, *, minutes: int | None = None) -> bool:
    """Whether this session's sign-in is at most `minutes` (REFUND_REAUTH_MINUTES) old."""
    limit = settings.REFUND_REAUTH_MINUTES if minutes is None else minutes
    signed_in_at = request.session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int):
        return False
    return time.time() - signed_in_at <= limit * 60


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        mark_signed_in(request)
