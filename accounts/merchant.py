"""Which merchant account a request acts for, and with which role.

Payments in DynamoDB are keyed by the merchant account's id (for a personal account the
owner's Auth0 `sub`, e.g. `auth0|65f0c0ffee`; for a business `acct_<ulid>`), never by
Django's integer user id. Views get it from `merchant_id(request)` and nowhere else, and say
which role they need with `role_required`:

    @require_GET
    @merchant_required
    @role_required(Role.VIEWER)
    def payment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
        result = selectors.payment_list(user_id=merchant_id(request), ...)
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect
from social_django.models import UserSocialAuth

from accounts.memberships import Identity, identity_from, memberships_of, personal_account_ensure
from accounts.models import Membership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails

logger = logging.getLogger(__name__)

P = ParamSpec("P")

AUTH0_PROVIDER = "auth0"
# Provider name of the identities made by the development sign-in (DEBUG only).
DEV_PROVIDER = "dev"

_IDENTITY_ATTRIBUTE = "_accounts_identity"
_MEMBERSHIP_ATTRIBUTE = "_accounts_membership"
_MEMBERSHIPS_ATTRIBUTE = "_accounts_memberships"
# The account this browser session works in (the header switcher); only an id, never a role.
CURRENT_ACCOUNT_SESSION_KEY = "accounts_current_account"


class AuthenticatedHttpRequest(HttpRequest):
    """A request that `merchant_required` let through: signed in, with django-htmx's details."""

    user: User
    htmx: HtmxDetails


class NotAMerchant(PermissionDenied):
    """The request has no signed-in merchant (anonymous, or a user with no Auth0 identity)."""


class RoleTooLow(PermissionDenied):
    """The current member's role does not allow this action."""


def dev_sign_in_enabled() -> bool:
    """Whether the development sign-in may be used now (checked per request, never cached)."""
    return bool(settings.DEBUG and getattr(settings, "DEV_SIGN_IN", False))


def identity(request: HttpRequest) -> Identity:
    """The signed-in person's identity of the active sign-in method (Auth0, or with the
    development sign-in the `dev` one): their `sub`, name and email.

    Raises `NotAMerchant` (a `PermissionDenied`, so a 403 if it escapes a view) when nobody
    is signed in or the signed-in user has no such identity (e.g. a `createsuperuser`
    account). A development identity left in a database means nothing in production."""
    cached = getattr(request, _IDENTITY_ATTRIBUTE, None)
    if isinstance(cached, Identity):
        return cached
    user = request.user
    if not user.is_authenticated:
        raise NotAMerchant("Sign in to see payments.")
    provider = DEV_PROVIDER if dev_sign_in_enabled() else AUTH0_PROVIDER
    socials = list(UserSocialAuth.objects.filter(user_id=user.pk, provider=provider)[:2])
    if len(socials) != 1:
        # Never guess between identities: the sign-in pipeline keeps it to one per user.
        logger.warning("user %s has %d %s identities; refused", user.pk, len(socials), provider)
        raise NotAMerchant("This account is not a merchant account.")
    social = socials[0]
    found = identity_from(user, social.uid, social.extra_data)
    setattr(request, _IDENTITY_ATTRIBUTE, found)
    return found


def current_membership(request: HttpRequest) -> Membership:
    """The membership the request acts through: the account chosen in this session (the
    header switcher), else the person's personal account, else their first one.

    Looked up on every request (never cached in the session), so a removed member loses the
    account at their next request. The personal account (id = Auth0 `sub`) is made on the
    first request of a person who has none yet."""
    cached = getattr(request, _MEMBERSHIP_ATTRIBUTE, None)
    if isinstance(cached, Membership):
        return cached
    person = identity(request)
    user = cast("User", request.user)
    memberships = memberships_of(user)
    if not any(m.account_id == person.sub for m in memberships):
        personal_account_ensure(user, sub=person.sub, name=person.name)
        memberships = memberships_of(user)
    if not memberships:
        raise NotAMerchant("You are not a member of any merchant account.")
    chosen = (
        request.session.get(CURRENT_ACCOUNT_SESSION_KEY) if hasattr(request, "session") else None
    )
    membership = next((m for m in memberships if m.account_id == chosen), None)
    if membership is None:
        membership = next((m for m in memberships if m.account_id == person.sub), memberships[0])
    setattr(request, _MEMBERSHIP_ATTRIBUTE, membership)
    setattr(request, _MEMBERSHIPS_ATTRIBUTE, memberships)
    return membership


def memberships(request: HttpRequest) -> list[Membership]:
    """Every account the signed-in person belongs to (for the switcher)."""
    current_membership(request)
    found: list[Membership] = getattr(request, _MEMBERSHIPS_ATTRIBUTE)
    return found


def merchant_id(request: HttpRequest) -> str:
    """Return the current merchant account's id: the `userId` partition of its payments.

    For a personal account that is the owner's Auth0 `sub`, so payments made before accounts
    existed are found where they are. Raises `NotAMerchant` like `identity`."""
    return current_membership(request).account_id


def login_url_for(next_path: str) -> str:
    """The sign-in page's URL that returns to `next_path` afterwards."""
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_path})}"


def merchant_required(
    view: Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Let only a signed-in merchant through to `view`.

    - anonymous page request: redirect to the sign-in page with `?next=<this URL>`;
    - anonymous HTMX request: 200 with `HX-Redirect` to the sign-in page, so the browser
      navigates there instead of swapping a sign-in form into a table. `next` is the page
      the fragment belongs to (`HX-Current-URL`) when it is on this site, else `/`;
    - signed in without an Auth0 identity: 403.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            htmx = getattr(request, "htmx", None)
            if htmx:
                return HttpResponseClientRedirect(login_url_for(htmx.current_url_abs_path or "/"))
            return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
        merchant_id(request)  # a user who is not a merchant stops here, with a 403
        return view(cast("AuthenticatedHttpRequest", request), *args, **kwargs)

    return wrapper


def role_required(
    needed: Role,
) -> Callable[
    [Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponse]],
    Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponse],
]:
    """Let through only a member whose role in the current account is `needed` or above
    (owner ≥ operator ≥ viewer); others get the 403 page and nothing happens. Goes below
    `merchant_required`."""

    def decorator(
        view: Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponse],
    ) -> Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponse]:
        @functools.wraps(view)
        def wrapper(
            request: AuthenticatedHttpRequest, /, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponse:
            membership = current_membership(request)
            if not membership.can(needed):
                raise RoleTooLow(
                    f"Your role in {membership.account.name} ({membership.get_role_display()}) "
                    f"cannot do this: it needs {needed.label.lower()} or above."
                )
            return view(request, *args, **kwargs)

        wrapper.required_role = needed  # type: ignore[attr-defined]  # read by the role tests
        return wrapper

    return decorator
