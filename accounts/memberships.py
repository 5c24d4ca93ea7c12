"""Who may act for which merchant account: personal accounts, members, roles, invitations.

Every rule about members lives here (the views only show forms and results). Rows are in
Django's database; nothing here touches DynamoDB.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import (
    Invitation,
    Membership,
    MerchantAccount,
    Role,
    hash_token,
    new_account_id,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# How long an invitation link can be used.
INVITATION_DAYS = 7


class MembershipRefused(Exception):
    """A members action that breaks a rule; `field` names the form field it concerns."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class InvitationUnusable(Exception):
    """The invitation link cannot be used (unknown, expired, revoked, used, wrong person)."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


@dataclass(frozen=True)
class Identity:
    """The signed-in person as their identity provider describes them."""

    sub: str
    name: str
    email: str
    email_verified: bool
    # The profile picture's URL (https only), or "".
    picture: str = ""

    @property
    def actor(self) -> str:
        """How the person is named on a payment's timeline: "Alice <alice@example.com>"."""
        if self.email and self.name and self.name != self.email:
            return f"{self.name} <{self.email}>"
        return self.email or self.name or self.sub


def identity_from(user: User, sub: str, extra: dict[str, Any] | None) -> Identity:
    extra = extra or {}
    email = str(extra.get("email") or user.email or "")
    name = str(extra.get("name") or user.get_full_name() or email or user.get_username())
    picture = extra.get("picture") or ""
    if not isinstance(picture, str) or not picture.startswith("https://"):
        picture = ""
    return Identity(
        sub=sub,
        name=name,
        email=email,
        email_verified=extra.get("email_verified") is True,
        picture=picture,
    )


def personal_account_ensure(user: User, *, sub: str, name: str) -> None:
    """Create `user`'s personal account (id = their `sub`) with them as owner, once.

    The id is the partition key their payments already have, so nothing is copied. If the
    account exists (even if this person was later removed from it) nothing changes."""
    if MerchantAccount.objects.filter(pk=sub).exists():
        return
    try:
        with transaction.atomic():
            account = MerchantAccount.objects.create(pk=sub, name=name[:100], personal=True)
            Membership.objects.create(user=user, account=account, role=Role.OWNER)
    except IntegrityError:
        pass  # made by a concurrent first request of the same person


def memberships_of(user: User) -> list[Membership]:
    """Every account `user` belongs to (personal first, then by name). Read per request:
    a removed member loses access at their next request."""
    return list(
        Membership.objects.filter(user=user)
        .select_related("account")
        .order_by("-account__personal", "account__name", "account_id")
    )


def business_account_create(user: User, *, name: str) -> Membership:
    """A new business account with `user` as its owner."""
    name = name.strip()
    if not name:
        raise MembershipRefused("name", "Enter the business's name.")
    with transaction.atomic():
        account = MerchantAccount.objects.create(pk=new_account_id(), name=name[:100])
        return Membership.objects.create(user=user, account=account, role=Role.OWNER)


def _owners(account: MerchantAccount) -> int:
    return Membership.objects.filter(account=account, role=Role.OWNER).count()


def member_role_change(actor: Membership, *, member_id: int, role: str) -> Membership:
    """Give member `member_id` of the actor's account the role `role` (owners only)."""
    _require_owner(actor)
    role = _parse_role(role)
    with transaction.atomic():
        member = _member_for_update(actor, member_id)
        if member.role == Role.OWNER and role != Role.OWNER and _locked_owners(actor) <= 1:
            raise MembershipRefused(
                "role", "The last owner cannot be demoted: make someone else an owner first."
            )
        member.role = role
        member.save(update_fields=["role"])
    return member


def member_remove(actor: Membership, *, member_id: int) -> Membership:
    """Remove member `member_id` (an owner may remove anyone; anyone may leave)."""
    if actor.pk != member_id:
        _require_owner(actor)
    with transaction.atomic():
        member = _member_for_update(actor, member_id)
        if member.role == Role.OWNER and _locked_owners(actor) <= 1:
            raise MembershipRefused(
                None,
                "The last owner cannot leave or be removed: make someone else an owner first.",
            )
        member.delete()
    return member


def _locked_owners(actor: Membership) -> int:
    # Lock the owners' rows (PostgreSQL) so two owners cannot demote each other at once.
    return len(
        list(
            Membership.objects.select_for_update()
            .filter(account_id=actor.account_id, role=Role.OWNER)
            .values_list("pk", flat=True)
        )
    )


def _member_for_update(actor: Membership, member_id: int) -> Membership:
    member = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(pk=member_id, account_id=actor.account_id)
        .first()
    )
    if member is None:
        raise MembershipRefused(None, "That person is not a member of this account.")
    return member


def _require_owner(actor: Membership) -> None:
    if not actor.can(Role.OWNER):
        raise MembershipRefused(None, "Only an owner can manage members.")


def _parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise MembershipRefused("role", "Choose a role: owner, operator or viewer.") from None


def invitation_create(actor: Membership, *, email: str, role: str) -> tuple[Invitation, str]:
    """Invite `email` to the actor's account as `role`. Returns the invitation and its token
    (shown once, as the link to send; only its hash is stored)."""
    _require_owner(actor)
    role = _parse_role(role)
    email = email.strip().lower()
    now = timezone.now()
    with transaction.atomic():
        open_ones = Invitation.objects.select_for_update().filter(
            account_id=actor.account_id,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        )
        # An expired invitation blocks nothing: close it so a new one can be sent.
        open_ones.filter(expires_at__lte=now).update(revoked_at=now)
        if open_ones.filter(expires_at__gt=now).exists():
            raise MembershipRefused(
                "email",
                f"{email} already has a pending invitation: revoke it to send a new one.",
            )
        if _member_with_email(actor.account_id, email):
            raise MembershipRefused("email", f"{email} is already a member of this account.")
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            account_id=actor.account_id,
            email=email,
            role=role,
            token_hash=hash_token(token),
            expires_at=now + timedelta(days=INVITATION_DAYS),
            invited_by=actor.user,
        )
    return invitation, token


def _member_with_email(account_id: str, email: str) -> bool:
    from social_django.models import UserSocialAuth

    member_users = Membership.objects.filter(account_id=account_id).values("user_id")
    if Membership.objects.filter(account_id=account_id, user__email__iexact=email).exists():
        return True
    # Auth0 users' emails are kept in their identity's extra_data.
    return any(
        str((social.extra_data or {}).get("email", "")).lower() == email
        for social in UserSocialAuth.objects.filter(user_id__in=member_users)
    )


def invitation_revoke(actor: Membership, *, invitation_id: int) -> Invitation:
    """Revoke a pending invitation of the actor's account (owners only)."""
    _require_owner(actor)
    invitation = Invitation.objects.filter(
        pk=invitation_id,
        account_id=actor.account_id,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).first()
    if invitation is None:
        raise MembershipRefused(None, "That invitation is no longer pending.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    return invitation


def invitations_pending(account_id: str) -> list[Invitation]:
    return list(
        Invitation.objects.filter(
            account_id=account_id,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).order_by("created_at")
    )


_GONE = "This invitation cannot be used"


def invitation_find(token: str) -> Invitation:
    """The usable invitation behind `token`, or `InvitationUnusable` saying why not."""
    invitation = (
        Invitation.objects.select_related("account", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationUnusable(_GONE, "This invitation link is not valid. Ask for a new one.")
    if invitation.accepted_at is not None:
        raise InvitationUnusable(_GONE, "This invitation has already been used.")
    if invitation.revoked_at is not None:
        raise InvitationUnusable(_GONE, "This invitation was revoked by the account's owner.")
    if invitation.expires_at <= timezone.now():
        raise InvitationUnusable(_GONE, "This invitation has expired. Ask for a new one.")
    return invitation


def invitation_accept(token: str, *, user: User, identity: Identity) -> Membership:
    """Join the invited account with the invited role: only once, only before it expires,
    and only as the person invited (their verified email equals the invited one)."""
    with transaction.atomic():
        invitation = invitation_find(token)
        # Lock and re-read: two tabs accepting at once use it once.
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise InvitationUnusable(_GONE, "This invitation has already been used.")
        if not identity.email_verified:
            raise InvitationUnusable(
                "Your email address is not verified",
                "Verify your email address with the sign-in provider, then open the link again.",
            )
        if identity.email.lower() != invitation.email.lower():
            raise InvitationUnusable(
                "This invitation is for someone else",
                f"You are signed in as {identity.email or 'a person with no email'}, but the "
                "invitation was sent to another address. Sign out and sign in with the invited "
                "address.",
            )
        if Membership.objects.filter(user=user, account_id=invitation.account_id).exists():
            raise InvitationUnusable(
                "You are already a member", "You are already a member of this account."
            )
        membership = Membership.objects.create(
            user=user, account_id=invitation.account_id, role=invitation.role
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership
