"""Who the signed-in merchant is, for every view that reads or changes payments.

Payments in DynamoDB are keyed by the merchant's Auth0 `sub` (`UserSocialAuth.uid`, e.g.
`auth0|65f0c0ffee`), never by Django's integer user id. Views get it from `merchant_id(request)`
and nowhere else:

    @require_GET
    @merchant_required
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

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails

logger = logging.getLogger(__name__)

P = ParamSpec("P")

AUTH0_PROVIDER = "auth0"
# Provider name of the identities made by the development sign-in (DEBUG only).
DEV_PROVIDER = "dev"

_CACHE_ATTRIBUTE = "_accounts_merchant_id"


class AuthenticatedHttpRequest(HttpRequest):
    """A request that `merchant_required` let through: signed in, with django-htmx's details."""

    user: User
    htmx: HtmxDetails


class NotAMerchant(PermissionDenied):
    """The request has no signed-in merchant (anonymous, or a user with no Auth0 identity)."""


def dev_sign_in_enabled() -> bool:
    """Whether the development sign-in may be used now (checked per request, never cached)."""
    return bool(settings.DEBUG and getattr(settings, "DEV_SIGN_IN", False))


def merchant_id(request: HttpRequest) -> str:
    """Return the signed-in merchant's id: their Auth0 `sub`, the `userId` of their payments.

    Raises `NotAMerchant` (a `PermissionDenied`, so a 403 if it escapes a view) when nobody
    is signed in or the signed-in user has no Auth0 identity (e.g. a `createsuperuser`
    account). Views decorated with `merchant_required` never see that.

    Only identities of the active sign-in method count: Auth0 ones, or with the development
    sign-in (DEBUG on, no Auth0 settings) the `dev` ones, so a development identity left in
    a database means nothing in production.
    """
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if isinstance(cached, str):
        return cached
    user = request.user
    if not user.is_authenticated:
        raise NotAMerchant("Sign in to see payments.")
    provider = DEV_PROVIDER if dev_sign_in_enabled() else AUTH0_PROVIDER
    uids = list(
        UserSocialAuth.objects.filter(user_id=user.pk, provider=provider).values_list(
            "uid", flat=True
        )[:2]
    )
    if len(uids) != 1:
        # Never guess between identities: the sign-in pipeline keeps it to one per user.
        logger.warning("user %s has %d %s identities; refused", user.pk, len(uids), provider)
        raise NotAMerchant("This account is not a merchant account.")
    uid = uids[0]
    setattr(request, _CACHE_ATTRIBUTE, uid)
    return uid


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
