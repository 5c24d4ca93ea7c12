from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {"DEBUG": settings.DEBUG, "MERCHANT_TIME_ZONE": settings.MERCHANT_TIME_ZONE}
