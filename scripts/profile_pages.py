#!/usr/bin/env python
"""Where a page's time goes: each page of `make load`, requested in-process (Django's test
client, production settings) against the benchmark's merchant, with its DynamoDB requests and
items counted and its time split into DynamoDB (while some request of the page was in flight,
sending to parsed), template rendering and the rest (middleware, view, decoding items). After
a warm-up (DynamoDB Local's JVM). Optionally prints a cProfile of one page.
`make profile` (PROFILE_SIZE, PROFILE_PAGE).

    .venv/bin/python scripts/profile_pages.py --size 10000            # medians of 30 each
    .venv/bin/python scripts/profile_pages.py --size 100000 --profile list
    .venv/bin/python scripts/profile_pages.py --profile list --profile-dump /tmp   # keep it

Uses the benchmark's cached data (`devtools/bench_data.py`); nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools import app_servers, bench_data  # noqa: E402


def production_environment(folder: Path) -> None:
    """The production settings module (debug off), every provider local. Set before the data
    is loaded: the loader's processes read the settings too."""
    os.environ.update(app_servers.production_settings(folder))
    os.environ.update(
        {
            "AUTH0_DOMAIN": "auth0.invalid",
            "AUTH0_CLIENT_ID": "x",
            "AUTH0_CLIENT_SECRET": "x",
            "LOG_LEVEL": "WARNING",
            # The pages measured never call TrueLayer; sandbox settings must still be present.
            "TRUELAYER_MODE": "sandbox",
            "TRUELAYER_CLIENT_ID": "profile",
            "TRUELAYER_CLIENT_SECRET": "profile",
            "TRUELAYER_SIGNING_KEY_ID": "profile",
            "TRUELAYER_SIGNING_PRIVATE_KEY": _signing_key(folder),
            "TRUELAYER_MERCHANT_ACCOUNT_ID": "profile",
        }
    )


def configure(endpoint: str, loaded: bench_data.Loaded) -> None:
    """Django set up on the loaded merchant's tables, with its own SQLite for the user."""
    import django
    from django.conf import settings

    django.setup()
    settings.DYNAMODB_ENDPOINT_URL = endpoint
    settings.DYNAMODB_TABLE = loaded.table
    settings.DYNAMODB_META_TABLE = loaded.meta_table
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)


def _signing_key(folder: Path) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP521R1())
    path = folder / "signing.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


class Counter:
    """DynamoDB requests, items read and the wall time some DynamoDB request of the page was in
    flight (sending to parsed; concurrent reads overlap, so counted once), from botocore's
    events, and the time spent rendering templates."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.items = 0
        self.template = 0.0
        self._intervals: list[tuple[float, float]] = []

    @property
    def seconds(self) -> float:
        """The union of the requests' intervals."""
        total, reached = 0.0, float("-inf")
        for start, end in sorted(self._intervals):
            if end > reached:
                total += end - max(start, reached)
                reached = end
        return total

    def before_send(self, **kwargs: Any) -> None:
        self._local.started = time.perf_counter()

    def after_call(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        now = time.perf_counter()
        started = getattr(self._local, "started", now)
        items = parsed.get("Count", 0) or sum(len(v) for v in parsed.get("Responses", {}).values())
        with self._lock:
            self.requests += 1
            self._intervals.append((started, now))
            self.items += items or (1 if "Item" in parsed else 0)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warm-up", type=float, default=20.0, help="seconds, unmeasured")
    parser.add_argument("--profile", default="", help="page name to cProfile")
    parser.add_argument(
        "--profile-dump", default="", help="folder to save each cProfile in (for pstats, snakeviz)"
    )
    parser.add_argument(
        "--endpoint", default=None, help="a running DynamoDB to load into (no cache; the test's)"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dashboard-profile-"))
    (folder / "data").mkdir()
    production_environment(folder)
    with bench_data.dynamodb(cache=args.endpoint is None, endpoint=args.endpoint) as (
        endpoint,
        cache,
    ):
        loaded = bench_data.ensure_loaded(endpoint, args.size, cache)
        configure(endpoint, loaded)
        try:
            _profile(args, endpoint, loaded)
        finally:
            if cache is None:  # uncached data is not kept
                from payments import dynamo

                dynamo.tables_drop(bench_data.bench_db(endpoint, loaded.table, loaded.meta_table))
    return 0


def _profile(args: argparse.Namespace, endpoint: str, loaded: bench_data.Loaded) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import load_http
    from django.contrib.auth.models import User
    from django.test import Client
    from social_django.models import UserSocialAuth

    from accounts.memberships import personal_account_ensure
    from payments import dynamo

    user = User.objects.create(username="bench")
    UserSocialAuth.objects.create(user=user, provider="auth0", uid=loaded.user_id)
    personal_account_ensure(user, sub=loaded.user_id, name="Bench")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    counter = Counter()
    # Template rendering time, outermost render only (includes are inside it).
    from django.template.backends.django import Template as DjangoTemplate

    original_render = DjangoTemplate.render
    depth = [0]

    def timed_render(self: Any, *a: Any, **kw: Any) -> Any:
        depth[0] += 1
        t0 = time.perf_counter()
        try:
            return original_render(self, *a, **kw)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                counter.template += time.perf_counter() - t0

    DjangoTemplate.render = timed_render  # type: ignore[method-assign]
    events = dynamo.get_dynamo().client.meta.events
    events.register("before-send.dynamodb", counter.before_send)
    events.register("after-call.dynamodb", counter.after_call)
    paths = load_http.pages(loaded, load_http.live_path(endpoint, loaded))
    # DynamoDB Local is a JVM: its first thousands of requests run before the JIT compiler
    # has warmed up (a Query of one item takes 6 ms cold, 1.3 ms warm). AWS is always warm.
    warm_until = time.monotonic() + args.warm_up
    while time.monotonic() < warm_until:
        for path in paths.values():
            client.get(path, secure=True)
    print(f"{loaded.size:,} payments; medians of {args.runs} after {args.warm_up:g} s warm-up")
    print(
        f"{'page':30} {'status':>6} {'ms':>7} {'dynamo ms':>9} {'template':>8} "
        f"{'rest ms':>8} {'req':>4} {'items':>6} {'KB':>6}"
    )
    for name, path in paths.items():
        if args.profile and args.profile not in name:
            continue
        totals, waits, rests, templates = [], [], [], []
        status = 0
        for _ in range(args.runs):
            counter.reset()
            t0 = time.perf_counter()
            response = client.get(path, secure=True)
            total = time.perf_counter() - t0
            status = response.status_code
            totals.append(total * 1000)
            waits.append(counter.seconds * 1000)
            templates.append(counter.template * 1000)
            rests.append((total - counter.seconds - counter.template) * 1000)
        print(
            f"{name:30} {status:>6} {statistics.median(totals):7.1f} "
            f"{statistics.median(waits):9.1f} {statistics.median(templates):8.1f} "
            f"{statistics.median(rests):8.1f} "
            f"{counter.requests:>4} {counter.items:>6} {len(response.content) / 1000:6.1f}"
        )
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.runs):
                client.get(path, secure=True)
            profile.disable()
            if args.profile_dump:
                folder = Path(args.profile_dump)
                folder.mkdir(parents=True, exist_ok=True)
                dump = folder / f"{name.split(' (')[0].replace(' ', '-')}.pstats"
                profile.dump_stats(dump)
                print(f"cProfile saved in {dump}")
            stats = pstats.Stats(profile).sort_stats("cumulative")
            stats.print_stats(45)
            stats.sort_stats("tottime").print_stats(30)
    if not args.profile:
        _engine(loaded, args.runs)


def _engine(loaded: bench_data.Loaded, runs: int) -> None:
    """DynamoDB's own time for one request and for several sent at once, on a bare client
    (no page around it): what no page can go below. On DynamoDB Local requests sent at once
    take about the sum of their times; on AWS they overlap."""
    from concurrent.futures import ThreadPoolExecutor

    from payments import dynamo

    client = dynamo.get_dynamo().client
    key = {"userId": {"S": loaded.user_id}, "paymentId": {"S": loaded.sample_id}}

    def get() -> None:
        client.get_item(TableName=loaded.table, Key=key)

    def page() -> None:
        client.query(
            TableName=loaded.table,
            KeyConditionExpression="userId = :u",
            ExpressionAttributeValues={":u": {"S": loaded.user_id}},
            ScanIndexForward=False,
            Limit=26,
            ProjectionExpression="userId, paymentId",
        )

    print("\nDynamoDB alone (bare client, no page):")
    with ThreadPoolExecutor(3) as pool:
        for name, call in (("GetItem", get), ("Query of 26 keys", page)):
            for at_once in (1, 2, 3):
                times = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    for future in [pool.submit(call) for _ in range(at_once)]:
                        future.result()
                    times.append((time.perf_counter() - t0) * 1000)
                print(f"  {name}, {at_once} at once: {statistics.median(times):.1f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
