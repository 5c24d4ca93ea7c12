"""The project's URLs plus two stand-in payment views protected like the real ones."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from accounts.merchant import AuthenticatedHttpRequest, merchant_id, merchant_required
from payments_dashboard.urls import urlpatterns as project_urlpatterns


@require_GET
@merchant_required
def whose_payments(request: AuthenticatedHttpRequest) -> HttpResponse:
    return HttpResponse(f"payments of {merchant_id(request)}")


@require_GET
@merchant_required
def page(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "base.html")


urlpatterns = [
    path("test/payments/", whose_payments, name="test-payments"),
    path("test/page/", page, name="test-page"),
    *project_urlpatterns,
]
