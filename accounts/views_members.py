"""The members page (invite, change a role, remove, revoke), accepting an invitation, creating
a business account and switching between accounts. Every rule is in `accounts.memberships`;
these views show forms and results and work without JavaScript."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from social_django.models import UserSocialAuth

from accounts import memberships as service
from accounts.emails import invitation_email_send, invitation_emails_enabled
from accounts.forms import BusinessAccountForm, InviteForm, RoleForm
from accounts.merchant import (
    AUTH0_PROVIDER,
    CURRENT_ACCOUNT_SESSION_KEY,
    DEV_PROVIDER,
    AuthenticatedHttpRequest,
    current_membership,
    dev_sign_in_enabled,
    identity,
    memberships,
    merchant_required,
)
from accounts.models import Membership, Role
from accounts.redirects import safe_next


def _member_rows(account_id: str) -> list[dict[str, Any]]:
    """Each member with the name and email of their identity (one query for all)."""
    members = list(
        Membership.objects.filter(account_id=account_id)
        .select_related("user")
        .order_by("created_at", "pk")
    )
    provider = DEV_PROVIDER if dev_sign_in_enabled() else AUTH0_PROVIDER
    socials = {
        s.user_id: s
        for s in UserSocialAuth.objects.filter(
            user_id__in=[m.user_id for m in members], provider=provider
        )
    }
    rows = []
    for m in members:
        social = socials.get(m.user_id)
        person = service.identity_from(
            m.user, social.uid if social else "", (social.extra_data if social else None)
        )
        rows.append({"membership": m, "name": person.name, "email": person.email})
    return rows


def _members_page(
    request: AuthenticatedHttpRequest,
    *,
    invite_form: InviteForm | None = None,
    errors: list[str] | None = None,
    invitation_link: str = "",
    status: int = 200,
) -> HttpResponse:
    membership = current_membership(request)
    context = {
        "account": membership.account,
        "me": membership,
        "rows": _member_rows(membership.account_id),
        "invitations": service.invitations_pending(membership.account_id)
        if membership.can(Role.OWNER)
        else [],
        "invite_form": invite_form or InviteForm(),
        "roles": RoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
        "errors": errors or [],
        "invitation_link": invitation_link,
    }
    return render(request, "accounts/members.html", context, status=status)


@require_GET
@merchant_required
def members(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who can use the current account, with which role. Owners also manage them here."""
    return _members_page(request)


@require_POST
@merchant_required
def member_invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Invite an email address; the page then shows the link to send (shown only once)."""
    membership = current_membership(request)
    if not membership.can(Role.OWNER):
        raise _owner_only(membership)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _members_page(request, invite_form=form, status=400)
    try:
        invitation, token = service.invitation_create(
            membership, email=form.cleaned_data["email"], role=form.cleaned_data["role"]
        )
    except service.MembershipRefused as refused:
        form.add_error(refused.field if refused.field in form.fields else None, refused.message)
        return _members_page(request, invite_form=form, status=400)
    link = request.build_absolute_uri(reverse("invitation", args=[token]))
    created = (
        f"Invitation created for {invitation.email} as {invitation.get_role_display().lower()}."
    )
    if not invitation_emails_enabled():
        messages.success(request, f"{created} Send them the link below; it works once, for 7 days.")
        return _members_page(request, invitation_link=link, status=201)
    me = identity(request)
    problem = invitation_email_send(invitation, link=link, inviter=me.name or me.email or me.sub)
    if problem is None:
        messages.success(
            request,
            f"{created} We emailed them the link; it is also below, to send another way. It "
            "works once, for 7 days.",
        )
    else:
        messages.warning(
            request,
            f"{created} The email was not sent ({problem}): send them the link below yourself; "
            "it works once, for 7 days.",
        )
    return _members_page(request, invitation_link=link, status=201)


@require_POST
@merchant_required
def member_role(request: AuthenticatedHttpRequest, member_id: int) -> HttpResponse:
    membership = current_membership(request)
    if not membership.can(Role.OWNER):
        raise _owner_only(membership)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _members_page(request, errors=[str(e) for e in form.errors["role"]], status=400)
    try:
        member = service.member_role_change(
            membership, member_id=member_id, role=form.cleaned_data["role"]
        )
    except service.MembershipRefused as refused:
        return _members_page(request, errors=[refused.message], status=400)
    messages.success(request, f"Role changed to {member.get_role_display().lower()}.")
    return redirect("accounts:members")


@require_POST
@merchant_required
def member_remove(request: AuthenticatedHttpRequest, member_id: int) -> HttpResponse:
    """Remove a member (owners), or leave the account (anyone but its last owner)."""
    membership = current_membership(request)
    try:
        service.member_remove(membership, member_id=member_id)
    except service.MembershipRefused as refused:
        if not membership.can(Role.OWNER) and membership.pk != member_id:
            raise _owner_only(membership) from None
        return _members_page(request, errors=[refused.message], status=400)
    if membership.pk == member_id:
        request.session.pop(CURRENT_ACCOUNT_SESSION_KEY, None)
        messages.success(request, f"You left {membership.account.name}.")
        return redirect("payments:list")
    messages.success(request, "The member was removed. They lose access at their next click.")
    return redirect("accounts:members")


@require_POST
@merchant_required
def invitation_revoke(request: AuthenticatedHttpRequest, invitation_id: int) -> HttpResponse:
    membership = current_membership(request)
    if not membership.can(Role.OWNER):
        raise _owner_only(membership)
    try:
        invitation = service.invitation_revoke(membership, invitation_id=invitation_id)
    except service.MembershipRefused as refused:
        return _members_page(request, errors=[refused.message], status=400)
    messages.success(request, f"The invitation for {invitation.email} was revoked.")
    return redirect("accounts:members")


def _owner_only(membership: Membership) -> Exception:
    from accounts.merchant import RoleTooLow

    return RoleTooLow(
        f"Only an owner of {membership.account.name} can manage its members "
        f"(your role: {membership.get_role_display().lower()})."
    )


@require_http_methods(["GET", "POST"])
@merchant_required
def account_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Create a business account (the person becomes its owner) and switch to it."""
    form = BusinessAccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        membership = service.business_account_create(request.user, name=form.cleaned_data["name"])
        request.session[CURRENT_ACCOUNT_SESSION_KEY] = membership.account_id
        messages.success(request, f"{membership.account.name} is ready. Invite your team here.")
        return redirect("accounts:members")
    status = 400 if form.is_bound else 200
    return render(request, "accounts/account_new.html", {"form": form}, status=status)


@require_POST
@merchant_required
def account_switch(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Work in another of the person's accounts, for this browser session. Anything but one
    of their own accounts is a 404 and changes nothing."""
    wanted = request.POST.get("account", "")
    chosen = next((m for m in memberships(request) if m.account_id == wanted), None)
    if chosen is None:
        raise Http404("You are not a member of that account.")
    request.session[CURRENT_ACCOUNT_SESSION_KEY] = chosen.account_id
    messages.info(request, f"Now working in {chosen.account.name}.")
    # Back to the same kind of page, never to a payment of the account just left.
    next_url = safe_next(request, request.POST.get("next"))
    if next_url not in {reverse("payments:stats"), reverse("accounts:members")}:
        next_url = reverse("payments:list")
    return redirect(next_url)


@require_http_methods(["GET", "POST"])
@never_cache
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """`/invitations/<token>/`: who invites whom to what; signed out, a sign-in that comes
    back here; signed in, an Accept button. An unusable link says why and does nothing."""
    try:
        found = service.invitation_find(token)
    except service.InvitationUnusable as gone:
        return _invitation_refused(request, gone, status=410)
    here = reverse("invitation", args=[token])
    context: dict[str, Any] = {"invitation": found, "here": here}
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect(reverse("accounts:login") + "?" + urlencode({"next": here}))
        context["login_url"] = reverse("accounts:login") + "?" + urlencode({"next": here})
        return render(request, "accounts/invitation.html", context)
    try:
        person = identity(request)
    except PermissionDenied:
        return _invitation_refused(
            request,
            service.InvitationUnusable(
                "Sign in with your merchant identity", "This user cannot join merchant accounts."
            ),
            status=403,
        )
    context["person"] = person
    if request.method == "GET":
        return render(request, "accounts/invitation.html", context)
    try:
        membership = service.invitation_accept(token, user=request.user, identity=person)
    except service.InvitationUnusable as refused:
        return _invitation_refused(request, refused, status=403)
    request.session[CURRENT_ACCOUNT_SESSION_KEY] = membership.account_id
    messages.success(
        request,
        f"You joined {membership.account.name} as {membership.get_role_display().lower()}.",
    )
    return redirect("payments:list")


def _invitation_refused(
    request: HttpRequest, refused: service.InvitationUnusable, *, status: int
) -> HttpResponse:
    context = {"title": refused.title, "message": refused.message}
    return render(request, "accounts/invitation_refused.html", context, status=status)
