"""Merchant accounts, who is a member of which, and invitations to join one.

A merchant account owns payments: its `id` is the DynamoDB partition key (`userId`) of its
payments, totals and bookkeeping items. These rows live in Django's database, not DynamoDB:
they are few, relational (person ⇄ account) and an invitation is accepted in one transaction.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from ulid import ULID


class Role(models.TextChoices):
    """What a member may do; each role can do everything the ones below it can."""

    OWNER = "owner", "Owner"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"


_RANK = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.OWNER: 3}


def role_at_least(role: str, needed: Role) -> bool:
    """Whether `role` (a stored value) is `needed` or above it (owner ≥ operator ≥ viewer)."""
    try:
        return _RANK[Role(role)] >= _RANK[needed]
    except ValueError:
        return False  # an unknown stored value grants nothing


def new_account_id() -> str:
    """A business account's id: never an Auth0 `sub`, so it cannot collide with a personal one."""
    return f"acct_{ULID()}"


def hash_token(token: str) -> str:
    """Invitation tokens are stored hashed: a database leak does not leak usable links."""
    return hashlib.sha256(token.encode()).hexdigest()


class MerchantAccount(models.Model):
    # Personal account: the owner's Auth0 `sub` (existing payments keep their partition);
    # business account: `acct_<ulid>`.
    id = models.CharField(primary_key=True, max_length=255)
    name = models.CharField(max_length=100)
    personal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    account = models.ForeignKey(MerchantAccount, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["user", "account"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.account_id} as {self.role}"

    def can(self, needed: Role) -> bool:
        return role_at_least(self.role, needed)


class Invitation(models.Model):
    account = models.ForeignKey(
        MerchantAccount, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()  # stored lower-cased; compared case-insensitively
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # At most one open invitation per address and account (expired ones are revoked
            # before a new one is made).
            models.UniqueConstraint(
                Lower("email"),
                "account",
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.account_id} as {self.role}"
