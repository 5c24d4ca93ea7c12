#!/usr/bin/env python
"""`make load`: the dashboard over HTTP, under gunicorn with its production settings, loaded.

Starts, all on 127.0.0.1 (nothing leaves the machine): DynamoDB Local holding one merchant with
N realistic payments (the benchmark's data, `devtools/bench_data.py`, cached by schema
fingerprint), the production tests' fake Auth0 (HTTPS), and one gunicorn app server with
`DJANGO_DEBUG=0` (`devtools/app_servers.py`; 2 workers × 4 threads unless told). Signs in as
that merchant through the real Auth0 flow (as tests/production does), then requests each page
for a bounded time at concurrency 1 and 8 (threads, one `requests.Session` each):

    floor        GET /ping/ — signed in, does nothing: the framework's own cost
    list         GET /
    3 statuses   GET /?status=failed&status=pending&status=settled
    search       GET /?q=booking
    stats 30 d   GET /stats/?range=custom&start=…&end=…   (the last 30 days of the data)
    detail       GET /payments/<id>/

after a warm-up (every page, unmeasured, `--warm-up` seconds: DynamoDB Local's JVM answers
~5× slower until its JIT compiler has warmed up), and prints p50/p95/p99 latency, requests per
second and failed requests per page, and whether
each page's p95 is within 3× the floor's at concurrency 1 (issue 15). Run:

    .venv/bin/python scripts/load_http.py                          # 100,000 payments, 20 s each
    .venv/bin/python scripts/load_http.py --size 10000 --seconds 5
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_dashboard.test_settings")
for _name, _value in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
    os.environ.setdefault(_name, _value)

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402

from devtools import app_servers, bench_data  # noqa: E402
from devtools.tls import make_tls  # noqa: E402
from tests.production.fake_providers import (  # noqa: E402
    AUTH0_CLIENT_ID,
    AUTH0_CLIENT_SECRET,
    start_fakes,
)

FLOOR_FACTOR = 3.0  # issue 15: each page's p95 within 3× the floor at concurrency 1
CONCURRENCY = (1, 8)
MAX_REQUESTS = 20_000  # per page and concurrency, whatever the time: the loop always ends
_CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Result:
    page: str
    concurrency: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # ms, successful requests
    failed: int = 0
    failure: str = ""
    size: int = 0  # bytes of the last successful answer's body (before any compression)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1]

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def server_env(
    endpoint: str, loaded: bench_data.Loaded, fake: Any, tls: Any, folder: Path
) -> dict[str, str]:
    """Production settings (debug off), every provider local, the benchmark's tables."""
    return {
        **app_servers.base_environment(),
        **app_servers.production_settings(folder),  # SQLite for users and sessions: one server
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "DYNAMODB_TABLE": loaded.table,
        "DYNAMODB_META_TABLE": loaded.meta_table,
        "AUTH0_DOMAIN": fake.auth0_domain,
        "AUTH0_CLIENT_ID": AUTH0_CLIENT_ID,
        "AUTH0_CLIENT_SECRET": AUTH0_CLIENT_SECRET,
        "TRUELAYER_MODE": "sandbox",
        "TRUELAYER_CLIENT_ID": settings.TRUELAYER_CLIENT_ID,
        "TRUELAYER_CLIENT_SECRET": settings.TRUELAYER_CLIENT_SECRET,
        "TRUELAYER_SIGNING_KEY_ID": settings.TRUELAYER_SIGNING_KEY_ID,
        "TRUELAYER_SIGNING_PRIVATE_KEY": settings.TRUELAYER_SIGNING_PRIVATE_KEY,
        "TRUELAYER_MERCHANT_ACCOUNT_ID": settings.TRUELAYER_MERCHANT_ACCOUNT_ID,
        "TRUELAYER_AUTH_URL": fake.url,
        "TRUELAYER_API_URL": fake.url,
        "TRUELAYER_WEBHOOK_JKU_ALLOWLIST": fake.jku,
        "REQUESTS_CA_BUNDLE": str(tls.ca),
        "LOG_LEVEL": "WARNING",
    }


def sign_in(base: str, fake: Any, ca: str, sub: str) -> requests.Session:
    """A browser session signed in as `sub` through the Auth0 flow (fake Auth0)."""
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", verify=ca, timeout=30)
    match = _CSRF_RE.search(page.text)
    if page.status_code != 200 or not match:
        raise RuntimeError(f"no sign-in form at /accounts/login/ ({page.status_code})")
    started = session.post(
        f"{base}/login/auth0/",
        data={"csrfmiddlewaretoken": match.group(1)},
        headers={"Origin": base, "Referer": f"{base}/accounts/login/"},
        verify=ca,
        timeout=30,
        allow_redirects=False,
    )
    if started.status_code != 302:
        raise RuntimeError(f"sign-in did not start ({started.status_code})")
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    code = fake.issue_code(sub)
    done = session.get(
        f"{base}/complete/auth0/?code={code}&state={state}",
        verify=ca,
        timeout=30,
        allow_redirects=False,
    )
    if done.status_code != 302:
        raise RuntimeError(f"sign-in did not complete ({done.status_code}): {done.text[:300]}")
    return session


def live_path(endpoint: str, loaded: bench_data.Loaded) -> str:
    """The list's live-update request for its first page (every row, as if none were final:
    the browser sends only the rows that can still change)."""
    from payments import dynamo

    db = bench_data.bench_db(endpoint, loaded.table, loaded.meta_table)
    page = dynamo.payment_list(db, user_id=loaded.user_id, page_size=25)
    return "/live/?" + urlencode([("v", f"{p.payment_id}:v{p.version}") for p in page.items])


def pages(loaded: bench_data.Loaded, live: str) -> dict[str, str]:
    last = (bench_data.END - timedelta(days=1)).date()
    first = last - timedelta(days=29)
    return {
        "floor (/ping/)": "/ping/",
        "list": "/",
        "filter 3 statuses": "/?status=failed&status=pending&status=settled",
        "search 'booking'": "/?q=booking",
        "statistics 30 days": f"/stats/?range=custom&start={first}&end={last}",
        "detail": f"/payments/{loaded.sample_id}/",
        # What a list page costs every polling interval: one request, one BatchGetItem of its
        # rows, 204 when nothing moved.
        "list live update (25 rows)": live,
    }


def hammer(
    base: str, path: str, cookies: Any, ca: str, concurrency: int, seconds: float, name: str
) -> Result:
    """`concurrency` threads requesting `path` back to back for `seconds` (and at most
    MAX_REQUESTS in all)."""
    result = Result(name, concurrency, seconds)
    lock = threading.Lock()
    issued = [0]
    deadline = time.monotonic() + seconds

    def worker() -> None:
        session = requests.Session()
        session.cookies.update(cookies)
        while time.monotonic() < deadline:
            with lock:
                if issued[0] >= MAX_REQUESTS:
                    return
                issued[0] += 1
            t0 = time.perf_counter()
            try:
                answer = session.get(base + path, verify=ca, timeout=30, allow_redirects=False)
                ok, why = answer.status_code in (200, 204), f"HTTP {answer.status_code}"
            except requests.RequestException as error:
                ok, why = False, type(error).__name__
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                if ok:
                    result.latencies.append(elapsed)
                    result.size = len(answer.content)
                else:
                    result.failed += 1
                    result.failure = why

    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    result.seconds = time.monotonic() - started
    return result


def warm_up(base: str, paths: list[str], cookies: Any, ca: str, seconds: float) -> None:
    """Every page, round after round at concurrency 2, for `seconds`, unmeasured. DynamoDB Local
    is a JVM: until its JIT compiler has seen a few thousand requests, a Query of one item
    takes ~6 ms instead of ~1.3 ms (AWS DynamoDB has no such start). The app's workers fill
    their template and formatting caches the same way a server in service has."""
    if seconds <= 0:
        return
    print(f"warming up: every page for {seconds:g} s, unmeasured", flush=True)
    deadline = time.monotonic() + seconds

    def worker() -> None:
        session = requests.Session()
        session.cookies.update(cookies)
        while time.monotonic() < deadline:
            for path in paths:
                session.get(base + path, verify=ca, timeout=30, allow_redirects=False)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(worker) for _ in range(2)]:
            future.result()


def report(results: list[Result]) -> int:
    print(
        "\n| page | concurrency | requests | p50 ms | p95 ms | p99 ms | requests/s | failed | "
        "KB | p95 vs floor (c=1) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    floor = next((r for r in results if r.page.startswith("floor") and r.concurrency == 1), None)
    failures = 0
    for r in results:
        verdict = ""
        if r.concurrency == 1 and floor is not None and not r.page.startswith("floor"):
            factor = r.percentile(95) / floor.percentile(95)
            ok = factor <= FLOOR_FACTOR and not r.failed
            failures += not ok
            verdict = f"{factor:.1f}× {'PASS' if ok else 'FAIL'} (≤ {FLOOR_FACTOR:.0f}×)"
        failed = f"{r.failed} ({r.failure})" if r.failed else "0"
        print(
            f"| {r.page} | {r.concurrency} | {len(r.latencies)} | {r.percentile(50):.1f} | "
            f"{r.percentile(95):.1f} | {r.percentile(99):.1f} | {r.rps:.1f} | {failed} | "
            f"{r.size / 1000:.1f} | {verdict} |",
            flush=True,
        )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="payments of the merchant")
    parser.add_argument("--seconds", type=float, default=20, help="per page and concurrency")
    parser.add_argument(
        "--warm-up", type=float, default=30, help="seconds of unmeasured requests first"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--no-cache", action="store_true", help="load into an in-memory DB")
    parser.add_argument(
        "--endpoint", default=None, help="a running DynamoDB to load into (implies --no-cache)"
    )
    args = parser.parse_args(argv)
    print(f"machine: {bench_data.machine()}")
    return run(args)


def run(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="dashboard-load-"))
    (folder / "data").mkdir()
    with bench_data.dynamodb(cache=not args.no_cache, endpoint=args.endpoint) as (endpoint, cache):
        loaded = bench_data.ensure_loaded(endpoint, args.size, cache)
        tls = make_tls(folder / "tls")
        fakes = start_fakes(tls)
        server = None
        try:
            env = server_env(endpoint, loaded, fakes.fake, tls, folder)
            app_servers.prepare(env)
            server = app_servers.start(
                "load",
                env,
                tls,
                folder / "server.log",
                workers=args.workers,
                threads=args.threads,
                access_log=False,
            )
            ca = str(tls.ca)
            session = sign_in(server.url, fakes.fake, ca, loaded.user_id)
            print(
                f"gunicorn {args.workers} workers × {args.threads} threads, production settings, "
                f"{server.url}; {loaded.size:,} payments; {args.seconds:g} s per page and "
                f"concurrency",
                flush=True,
            )
            paths = pages(loaded, live_path(endpoint, loaded))
            for path in paths.values():
                check = session.get(server.url + path, verify=ca, timeout=60)
                if check.status_code not in (200, 204):
                    raise RuntimeError(f"{path} answered {check.status_code}: {check.text[:300]}")
            warm_up(server.url, list(paths.values()), session.cookies, ca, args.warm_up)
            results: list[Result] = []
            for name, path in paths.items():
                for concurrency in CONCURRENCY:
                    results.append(
                        hammer(
                            server.url, path, session.cookies, ca, concurrency, args.seconds, name
                        )
                    )
            failures = report(results)
        finally:
            if server is not None:
                server.stop()
            fakes.stop()
            if cache is None:  # uncached data is not kept
                from payments import dynamo

                dynamo.tables_drop(bench_data.bench_db(endpoint, loaded.table, loaded.meta_table))
    print(f"\n{failures} page(s) FAILED" if failures else "\nevery page PASSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
