"""TrueLayer webhook endpoint."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def truelayer_webhook(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Not built yet", status=501)
