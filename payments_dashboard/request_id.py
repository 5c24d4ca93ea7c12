"""A request id on every log line, so one merchant's failing request can be followed across
app servers and matched with the load balancer's log.

The id comes from the load balancer's `X-Request-ID` header when it sends a sane one (nginx
`$request_id`; on an AWS ALB use `X-Amzn-Trace-Id`), otherwise a new one is made. It is sent
back in the response's `X-Request-ID` and added to every log record as `request_id` ("-"
outside a request).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished, request_started
from django.http import HttpRequest, HttpResponse

_current: ContextVar[str] = ContextVar("request_id", default="-")
_SANE = re.compile(r"^[A-Za-z0-9=;._-]{1,100}$")
_ENVIRON_KEYS = ("HTTP_X_REQUEST_ID", "HTTP_X_AMZN_TRACE_ID")


def current_request_id() -> str:
    """The id of the request this thread is serving, "-" outside one."""
    return _current.get()


def _on_request_started(sender: object, environ: dict[str, Any] | None = None, **_: Any) -> None:
    # A signal, not only the middleware: Django logs "Not Found" and 500s (django.request)
    # after the middleware chain has returned, and those lines need the id most.
    environ = environ or {}
    incoming = next((str(environ[k]) for k in _ENVIRON_KEYS if environ.get(k)), "")
    # A client could send anything: only a short, plain token goes into the logs.
    _current.set(incoming if _SANE.match(incoming) else uuid.uuid4().hex)


def _on_request_finished(sender: object, **_: Any) -> None:
    _current.set("-")


request_started.connect(_on_request_started, dispatch_uid="payments_dashboard.request_id")
request_finished.connect(_on_request_finished, dispatch_uid="payments_dashboard.request_id")


class RequestIdMiddleware:
    """Sends the request's id back in `X-Request-ID`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Request-ID"] = current_request_id()
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (for the `%(request_id)s` in the log format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True
