"""New payment page, "Try again" for a link that could not be created, and "Refresh status"."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods, require_POST


@require_http_methods(["GET", "POST"])
def payment_new(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Not built yet", status=501)


@require_POST
def payment_retry_link(request: HttpRequest, payment_id: str) -> HttpResponse:
    return HttpResponse("Not built yet", status=501)


@require_POST
def payment_refresh(request: HttpRequest, payment_id: str) -> HttpResponse:
    return HttpResponse("Not built yet", status=501)
