"""Where to send the browser after signing in: only ever somewhere on this site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, candidate: object) -> str | None:
    """Return `candidate` if it is a URL on this site, else None (never an off-site URL)."""
    if not isinstance(candidate, str) or not candidate:
        return None
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None
