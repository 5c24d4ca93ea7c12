"""`/healthz` for the load balancer: is this app server able to serve merchants?

It checks Django's database (users, sessions, the shared cache) and DynamoDB (payments), each
within `HEALTHZ_TIMEOUT_SECONDS`, and answers 200 or 503 with which one failed. It is a
middleware at the top of the stack, so a health check reaches it even when it comes by plain
HTTP to the instance's address: no `ALLOWED_HOSTS` check (load balancers send the target's IP
as Host), no https redirect, no session, no sign-in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

HEALTHZ_PATH = "/healthz"
# A hung dependency must not hang the check: each runs in this pool and is waited for with a
# deadline. A few workers, so one hung dependency cannot hold up the other's check for long.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")


def check_database() -> None:
    """Django's database answers a query (then the connection is closed: the pool thread is
    not a request, so Django would never close it otherwise)."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connections.close_all()


@lru_cache(maxsize=4)
def _health_db(endpoint: str | None, region: str, table: str, meta_table: str, timeout: int) -> Any:
    from payments import dynamo

    client = dynamo.make_client(endpoint_url=endpoint, region=region, timeout=timeout)
    return dynamo.Dynamo(client, table=table, meta_table=meta_table)


def check_dynamodb() -> None:
    """Both tables answer a read: a GetItem of a key that never exists (the app's IAM policy
    allows it; it proves credentials, table and network, and costs half a read unit)."""
    timeout = max(1, int(settings.HEALTHZ_TIMEOUT_SECONDS))
    from payments import dynamo

    dynamo.tables_ping(
        _health_db(
            settings.DYNAMODB_ENDPOINT_URL,
            settings.AWS_REGION,
            settings.DYNAMODB_TABLE,
            settings.DYNAMODB_META_TABLE,
            timeout,
        )
    )


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "dynamodb": check_dynamodb,
}


def run_checks(timeout: float) -> dict[str, str]:
    """Each check's outcome, "ok" or why not, all within `timeout` seconds in total."""
    deadline = time.monotonic() + timeout
    futures: dict[str, Future[None]] = {name: _pool.submit(check) for name, check in CHECKS.items()}
    results: dict[str, str] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            results[name] = f"no answer within {timeout:g} s"
        except Exception as error:
            logger.warning("healthz: %s failed: %s: %s", name, type(error).__name__, error)
            results[name] = f"failed ({type(error).__name__})"
        else:
            results[name] = "ok"
    return results


def healthz(request: HttpRequest) -> HttpResponse:
    """200 when every dependency answered in time, else 503; the body names each outcome."""
    if request.method not in {"GET", "HEAD"}:
        return JsonResponse({"error": "use GET"}, status=405, headers={"Allow": "GET, HEAD"})
    results = run_checks(float(settings.HEALTHZ_TIMEOUT_SECONDS))
    healthy = all(outcome == "ok" for outcome in results.values())
    if not healthy:
        logger.error("healthz: unhealthy: %s", results)
    response = JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results},
        status=200 if healthy else 503,
    )
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers `/healthz` before any other middleware (host check, https redirect, sessions)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.rstrip("/") == HEALTHZ_PATH:
            return healthz(request)
        return self.get_response(request)
