"""Where to send the browser after signing in: only ever somewhere on this site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, candidate: object) -> str | None:
    """Return `candidate` if it is a path on this site, else None (never an off-site URL).

    Only absolute paths are kept: `redirect()` would read anything else (`9999-12-31`,
    `payments:list`) as a URL pattern name and fail, and a relative path depends on the page
    it was typed on."""
    if not isinstance(candidate, str) or not candidate.startswith("/"):
        return None
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None
