"""The current membership for every template: which buttons to show, and the switcher."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.models import Membership, Role


class CurrentMember:
    """What a template may ask about the signed-in person's place in the current account.

    The server enforces roles with `role_required`; this only hides what a role cannot use."""

    def __init__(self, membership: Membership | None, memberships: list[Membership]) -> None:
        self.membership = membership
        self.memberships = memberships

    @property
    def account(self) -> Any:
        return self.membership.account if self.membership else None

    @property
    def role(self) -> str:
        return self.membership.role if self.membership else ""

    @property
    def can_operate(self) -> bool:
        return bool(self.membership and self.membership.can(Role.OPERATOR))

    @property
    def is_owner(self) -> bool:
        return bool(self.membership and self.membership.can(Role.OWNER))

    def __bool__(self) -> bool:
        return self.membership is not None


def _current(request: HttpRequest) -> CurrentMember:
    from accounts.merchant import NotAMerchant, current_membership, memberships

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return CurrentMember(None, [])
    try:
        return CurrentMember(current_membership(request), memberships(request))
    except NotAMerchant:
        return CurrentMember(None, [])


def membership(request: HttpRequest) -> dict[str, Any]:
    # Lazy: pages that never ask (sign-in, errors) make no query.
    return {"member": SimpleLazyObject(lambda: _current(request))}
