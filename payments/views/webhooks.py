"""TrueLayer webhook endpoint: verification and handling live in `services.webhook_receive`,
which the simulator calls too."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import services
from payments.errors import RepositoryError

logger = logging.getLogger(__name__)

# TrueLayer retries any non-2xx on its own schedule; this says when trying again makes sense.
RETRY_AFTER_SECONDS = 60


@csrf_exempt  # TrueLayer signs its requests instead (Tl-Signature)
@require_POST
def truelayer_webhook(request: HttpRequest) -> JsonResponse:
    try:
        result = services.webhook_receive(
            method=request.method or "POST",
            path=request.path,
            headers=dict(request.headers),
            body=request.body,
        )
        status, message = result.status, result.message
    except RepositoryError as error:
        # The payments database is down or busy: TrueLayer must retry (applying an event is
        # idempotent by its event id, so a retry is safe whatever happened).
        logger.warning("webhook not applied, database error: %s", error.message)
        status, message = 503, error.message
    response = JsonResponse({"result": message}, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
