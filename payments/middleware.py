"""Turns a payments-database error into a page that says what happened, never a traceback: each
error class names its own title and status (503 unavailable or busy, 409 conflict, 400 bad page
link, ...)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget

from payments.errors import RepositoryError

logger = logging.getLogger(__name__)


class DependencyErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RepositoryError):
            return None
        logger.warning("payments database error on %s: %s", request.path, exception.message)
        htmx = bool(getattr(request, "htmx", False))
        response = render(
            request,
            "errors/dependency.html#message" if htmx else "errors/dependency.html",
            {"title": exception.title, "message": exception.message},
            status=exception.status,
        )
        if exception.retry_after is not None:
            response["Retry-After"] = str(exception.retry_after)
        if htmx:
            # Swap the message into the page instead of leaving the old content silently.
            retarget(response, "#messages")
            reswap(response, "innerHTML")
        return response
