"""TrueLayer webhook endpoint: verification and handling live in `services.webhook_receive`,
which the simulator calls too."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import services


@csrf_exempt  # TrueLayer signs its requests instead (Tl-Signature)
@require_POST
def truelayer_webhook(request: HttpRequest) -> JsonResponse:
    result = services.webhook_receive(
        method=request.method or "POST",
        path=request.path,
        headers=dict(request.headers),
        body=request.body,
    )
    response = JsonResponse({"result": result.message}, status=result.status)
    if result.retry_after is not None:
        response["Retry-After"] = str(result.retry_after)
    return response
