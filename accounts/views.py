"""Sign-in page, sign-out, the sign-in failure page and the development sign-in."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.dev import SAMPLE_MERCHANT_IDS, dev_merchant_get_or_create
from accounts.forms import DevSignInForm
from accounts.merchant import dev_sign_in_enabled
from accounts.recent import mark_signed_in
from accounts.redirects import safe_next

# What each social-core error code means to a merchant. Codes come from the error page's
# query string, so only these texts are ever shown, never text from the URL.
_EXPIRED = (
    "This sign-in has expired",
    "The sign-in was already used or took too long (for example after pressing Back, or "
    "finishing it in another tab). Nothing is wrong with your account: start again.",
)
_UNVERIFIED = (
    "We could not verify your sign-in",
    "Auth0's answer could not be verified, so you were not signed in. If this keeps "
    "happening, check that your computer's clock is right and tell us.",
)
_UNREACHABLE = (
    "Auth0 could not be reached",
    "The sign-in service did not answer, so you were not signed in. Try again in a minute.",
)
_MISCONFIGURED = (
    "Sign-in is not set up correctly",
    "Auth0 refused this application's credentials. Please tell the team that runs this "
    "dashboard; trying again will not help until it is fixed.",
)
_FAILURES: dict[str, tuple[str, str]] = {
    "authorization_declined": (
        "Sign-in was cancelled",
        "You cancelled signing in at Auth0, so you are not signed in.",
    ),
    "session_context_missing": _EXPIRED,
    "state_mismatch": _EXPIRED,
    "missing_parameter": _EXPIRED,
    "invalid_parameter": _EXPIRED,
    "authorization_code_rejected": (
        "Auth0 did not accept this sign-in",
        "Auth0 refused to complete the sign-in (the code it gave may have expired or been "
        "used already). Start again.",
    ),
    "credential_rejected": _UNVERIFIED,
    "invalid_signature": _UNVERIFIED,
    "invalid_claim": _UNVERIFIED,
    "missing_claim": _UNVERIFIED,
    "malformed_response": _UNVERIFIED,
    "nonce_mismatch": _UNVERIFIED,
    "response_not_yet_valid": _UNVERIFIED,
    "response_expired": (
        "Your sign-in expired before it arrived",
        "Auth0's answer was already out of date when it reached us. Start again; if it keeps "
        "happening, check that your computer's clock is right.",
    ),
    "connection_failed": _UNREACHABLE,
    "timeout": _UNREACHABLE,
    "unavailable": _UNREACHABLE,
    "rate_limited": _UNREACHABLE,
    "tls_error": _UNREACHABLE,
    "http_error": _UNREACHABLE,
    "invalid_setting": _MISCONFIGURED,
    "missing_setting": _MISCONFIGURED,
}
_UNKNOWN = ("Sign-in failed", "Something went wrong while signing you in. Please try again.")


@require_GET
def login_page(request: HttpRequest) -> HttpResponse:
    """The sign-in page: one button that starts the Auth0 sign-in (a POST, with `next`)."""
    next_url = safe_next(request, request.GET.get("next"))
    if request.user.is_authenticated:
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    context = {
        "next": next_url,
        "dev_sign_in": dev_sign_in_enabled(),
        "form": DevSignInForm(),
        "sample_merchant_ids": SAMPLE_MERCHANT_IDS,
    }
    return render(request, "accounts/login.html", context)


@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """End the Django session, then Auth0's, so the next sign-in asks for credentials again.

    A GET (a typed or bookmarked URL) only shows a page with the sign-out button: signing out
    stays a POST with a CSRF token, so no other site can sign a merchant out."""
    if request.method == "GET":
        return render(request, "accounts/logout.html")
    auth_logout(request)
    messages.success(request, "You have signed out.")
    login_url = reverse("accounts:login")
    if dev_sign_in_enabled():
        return redirect(login_url)
    query = urlencode(
        {
            "client_id": settings.SOCIAL_AUTH_AUTH0_KEY,
            "returnTo": request.build_absolute_uri(login_url),
        }
    )
    return HttpResponseRedirect(f"https://{settings.SOCIAL_AUTH_AUTH0_DOMAIN}/v2/logout?{query}")


@never_cache
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form from a stale tab (signed out or in again elsewhere, or open
    for long). Says to reload and try again; the page carries a fresh token, so its Sign out
    button works. An htmx request makes the page reload itself instead."""
    response = render(request, "errors/csrf.html", status=403)
    if getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"
    return response


@require_GET
@never_cache
def error(request: HttpRequest) -> HttpResponse:
    """The page a failed sign-in lands on (SOCIAL_AUTH_LOGIN_ERROR_URL): what happened, and
    a way to try again that still leads where the merchant was going."""
    title, explanation = _FAILURES.get(request.GET.get("error_code", ""), _UNKNOWN)
    # social-auth keeps the sign-in's `next` in the session until a sign-in succeeds.
    next_url = safe_next(request, request.session.get("next"))
    retry_url = reverse("accounts:login")
    if next_url:
        retry_url += "?" + urlencode({"next": next_url})
    context = {"title": title, "explanation": explanation, "retry_url": retry_url}
    return render(request, "accounts/error.html", context)


@require_http_methods(["GET", "POST"])
def dev_login(request: HttpRequest) -> HttpResponse:
    """Development sign-in: become any merchant id, no password. Exists only with DEBUG on
    and no Auth0 settings; checked on every request, not only when URLs load."""
    if not dev_sign_in_enabled():
        raise Http404("The development sign-in is off.")
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = DevSignInForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        user = dev_merchant_get_or_create(merchant_id=form.cleaned_data["merchant_id"])
        auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    context = {
        "next": next_url,
        "form": form,
        "sample_merchant_ids": SAMPLE_MERCHANT_IDS,
    }
    return render(request, "accounts/dev_login.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def reauth(request: HttpRequest) -> HttpResponse:
    """ "Sign in again" before moving money: Auth0 with `prompt=login` (the page posts
    `reauth=1` to the sign-in start), or, with the development sign-in, a button that
    re-confirms. Either way the merchant then returns to `next` (the filled-in form)."""
    if not request.user.is_authenticated:
        return redirect(
            reverse("accounts:login") + "?" + urlencode({"next": request.get_full_path()})
        )
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST":
        if not dev_sign_in_enabled():
            raise Http404("Re-confirm through Auth0.")
        mark_signed_in(request)
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    context = {
        "next": next_url,
        "dev_sign_in": dev_sign_in_enabled(),
        "minutes": settings.REFUND_REAUTH_MINUTES,
    }
    return render(request, "accounts/reauth.html", context)
