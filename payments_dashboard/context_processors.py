from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

SIMULATOR_PACKAGE = "simulator."


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "DEBUG": settings.DEBUG,
        "MERCHANT_TIME_ZONE": settings.MERCHANT_TIME_ZONE,
        "SIMULATOR_MODE": simulator_mode(),
    }


def simulator_mode() -> bool:
    """True while the local simulator stands in for TrueLayer (the provider setting names it).
    Never in production: the simulator needs DEBUG, and the banner asks for it too."""
    provider = str(getattr(settings, "TRUELAYER_PROVIDER", ""))
    return bool(settings.DEBUG) and provider.startswith(SIMULATOR_PACKAGE)
