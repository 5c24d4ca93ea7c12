#!/usr/bin/env python
"""Benchmark every access pattern of the data layer (`payments.dynamo`) against DynamoDB Local.

Seeds N payments for one merchant (through the real write path), then runs each access pattern
R times and prints the DynamoDB requests made, the items read and the median time. Run:

    .venv/bin/python scripts/bench_repository.py                 # N = 1,000 and 10,000
    .venv/bin/python scripts/bench_repository.py --sizes 500 --repeat 5
    .venv/bin/python scripts/bench_repository.py --endpoint http://127.0.0.1:8765

Without --endpoint it starts its own DynamoDB Local in memory on a free port (Java 17 needed).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_dashboard.test_settings")

import django  # noqa: E402

django.setup()

from devtools import dynamodb_local  # noqa: E402
from payments import dynamo  # noqa: E402
from payments.domain import PaymentStatus as S  # noqa: E402
from payments.dynamo import Dynamo, Metrics  # noqa: E402
from tests.factories import observations_for  # noqa: E402

USER = "auth0|benchmark"
END = datetime(2026, 11, 1, tzinfo=UTC)
OUTCOMES = [S.PENDING, S.EXECUTED, S.SETTLED, S.SETTLED, S.FAILED, S.AUTHORIZING]


def seed(db: Dynamo, n: int, days: int) -> dict[str, str]:
    rng = random.Random(n)
    start = END - timedelta(days=days)
    samples: dict[str, str] = {}
    t0 = time.perf_counter()
    for i in range(n):
        created = start + timedelta(seconds=(days * 86400) * i // n)
        payment = dynamo.payment_create(
            db,
            user_id=USER,
            amount=Decimal(rng.randint(100, 50_000)) / 100,
            currency="GBP" if i % 4 else "EUR",
            reference=f"INV-{i:06d}",
            now=created,
        )
        status = rng.choice(OUTCOMES)
        for observation in observations_for(payment, status, at=created):
            dynamo.payment_observe(
                db,
                user_id=USER,
                payment_id=payment.payment_id,
                observation=observation,
                source="bench",
            )
        if i == n // 2:
            samples["payment_id"] = payment.payment_id
            dynamo.payment_link_set(
                db,
                user_id=USER,
                payment_id=payment.payment_id,
                link_id="pl_bench",
                link_url="https://x",
                response={},
            )
            samples["amount"] = str(payment.amount)
    print(f"  seeded {n} payments over {days} days in {time.perf_counter() - t0:.1f} s", flush=True)
    return samples


def measure(name: str, repeat: int, call: Callable[[Metrics], Any]) -> tuple[str, int, int, float]:
    """Median time of `repeat` runs, and the DynamoDB work of one run (its own Metrics)."""
    timings: list[float] = []
    metrics = Metrics()
    for _ in range(repeat):
        metrics = Metrics()
        t0 = time.perf_counter()
        call(metrics)
        timings.append((time.perf_counter() - t0) * 1000)
    return name, metrics.requests, metrics.items_read, statistics.median(timings)


def run(endpoint: str, n: int, repeat: int) -> list[tuple[str, int, int, float]]:
    db = Dynamo(
        dynamo.make_client(endpoint_url=endpoint, region="eu-west-2"),
        table=f"Bench{n}-{time.time_ns()}",
        meta_table=f"BenchMeta{n}-{time.time_ns()}",
    )
    dynamo.tables_ensure(db)
    days = 90
    samples = seed(db, n, days)
    page5: dict[str, str | None] = {"cursor": None}
    cursor = None
    for _ in range(4):
        cursor = dynamo.payment_list(db, user_id=USER, cursor=cursor).next_cursor
    page5["cursor"] = cursor
    week = (END - timedelta(days=7), END)
    patterns: list[tuple[str, Callable[[Metrics], Any]]] = [
        ("list newest first, page 1", lambda m: dynamo.payment_list(db, metrics=m, user_id=USER)),
        (
            "list, page 5 (cursor)",
            lambda m: dynamo.payment_list(db, metrics=m, user_id=USER, cursor=page5["cursor"]),
        ),
        (
            "filter 1 status",
            lambda m: dynamo.payment_list(db, metrics=m, user_id=USER, statuses=[S.FAILED]),
        ),
        (
            "filter 3 statuses",
            lambda m: dynamo.payment_list(
                db, metrics=m, user_id=USER, statuses=[S.FAILED, S.PENDING, S.SETTLED]
            ),
        ),
        (
            "filter last 7 days",
            lambda m: dynamo.payment_list(
                db, metrics=m, user_id=USER, created_from=week[0], created_to=week[1]
            ),
        ),
        (
            "filter status+currency+7 days",
            lambda m: dynamo.payment_list(
                db,
                metrics=m,
                user_id=USER,
                statuses=[S.SETTLED],
                currency="EUR",
                created_from=week[0],
                created_to=week[1],
            ),
        ),
        (
            "open one payment",
            lambda m: dynamo.payment_get(
                db, metrics=m, user_id=USER, payment_id=samples["payment_id"]
            ),
        ),
        (
            "stats 7 days",
            lambda m: dynamo.stats_for_range(
                db, metrics=m, user_id=USER, start=week[0], end=week[1]
            ),
        ),
        (
            "stats 90 days, ragged edges",
            lambda m: dynamo.stats_for_range(
                db,
                metrics=m,
                user_id=USER,
                start=END - timedelta(days=90, hours=5),
                end=END - timedelta(hours=3),
            ),
        ),
        (
            "search by payment id",
            lambda m: dynamo.payment_search(
                db, metrics=m, user_id=USER, query=samples["payment_id"]
            ),
        ),
        (
            "search by link id",
            lambda m: dynamo.payment_search(db, metrics=m, user_id=USER, query="pl_bench"),
        ),
        (
            "search reference words, page 1",
            lambda m: dynamo.payment_search(db, metrics=m, user_id=USER, query="inv-0001"),
        ),
        (
            "search the oldest payment's reference",
            lambda m: dynamo.payment_search(db, metrics=m, user_id=USER, query="INV-000000"),
        ),
        (
            "search reference + status failed",
            lambda m: dynamo.payment_search(
                db, metrics=m, user_id=USER, query="inv", statuses=[S.FAILED]
            ),
        ),
        (
            "search amount",
            lambda m: dynamo.payment_search(db, metrics=m, user_id=USER, query=samples["amount"]),
        ),
    ]
    return [measure(name, repeat, call) for name, call in patterns]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument(
        "--endpoint", default=None, help="use a running DynamoDB (default: start one)"
    )
    args = parser.parse_args()
    server = None
    endpoint = args.endpoint
    if endpoint is None:
        server = dynamodb_local.start_on_free_port(None)
        endpoint = server.endpoint_url
    try:
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, DynamoDB at {endpoint}; "
            f"median of {args.repeat} runs\n"
        )
        results = {n: run(endpoint, n, args.repeat) for n in args.sizes}
        units = write_units(endpoint)
    finally:
        if server is not None:
            server.stop()
    header = (
        "| access pattern | "
        + " | ".join(f"N={n:,}: requests / items read / median ms" for n in args.sizes)
        + " |"
    )
    print(header)
    print("|" + "---|" * (len(args.sizes) + 1))
    for row in range(len(results[args.sizes[0]])):
        name = results[args.sizes[0]][row][0]
        cells = [
            f"{r[row][1]} / {r[row][2]} / {r[row][3]:.1f}" for r in (results[n] for n in args.sizes)
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    print("\n".join(units))
    return 0


def write_units(endpoint: str) -> list[str]:
    """Write units per create and per status change next to the starting table's 3 and 4."""
    from write_units import write_units_report  # scripts/ is sys.path[0] for a script here

    stamp = time.time_ns()
    db = Dynamo(
        dynamo.make_client(endpoint_url=endpoint, region="eu-west-2"),
        table=f"BenchUnits-{stamp}",
        meta_table=f"BenchUnitsMeta-{stamp}",
    )
    dynamo.tables_ensure(db)
    try:
        return write_units_report(db)
    finally:
        dynamo.tables_drop(db)


if __name__ == "__main__":
    raise SystemExit(main())
