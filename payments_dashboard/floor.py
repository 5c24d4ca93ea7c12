"""`/ping/`: a signed-in view that does nothing, the framework's floor for the HTTP load script.

It goes through the same middleware as every dashboard page (session, user, CSRF, security
headers) and reads nothing else, so `scripts/load_http.py` can show how much of a page's time
is the page's own work. It tells the signed-in user nothing they do not know."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET


@require_GET
@login_required
def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
