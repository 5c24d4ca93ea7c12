#!/usr/bin/env python
"""One busy merchant's write throughput when transactions conflict as they do on AWS.

DynamoDB Local runs transactions one at a time, so it never shows what AWS does when two
transactions touch one item at once (it cancels one: `TransactionConflict`). This benchmark puts
`devtools.transaction_conflicts.ConflictingClient` in front of DynamoDB Local: each transaction
holds its items for `--hold` seconds (AWS's own transaction latency) and any other transaction
touching one of them meanwhile is cancelled, as on AWS. Then T threads write payments for ONE
merchant for `--seconds`: each write is a creation plus one status change (two transactions, both
adding to the merchant's day and month aggregate items), with the app's own retry policy
(`retry_on_conflict`: 10 attempts, jittered backoff). Two designs:

- "one item": every write adds to the single day item and the single month item (the design
  before sharding, whose hour + day items contended the same way);
- "sharded": the same items in up to 8 shards, a period moving to random shards once it has seen
  a conflict (`payments/dynamo/shards.py`).

It prints, per design and thread count: writes/s that landed, writes that gave up (the merchant
would see "changed at the same time, try again"), transactions cancelled by the model, and then
checks that the statistics equal a brute-force count of the payments written and how many day
items the statistics page reads. Run:

    .venv/bin/python scripts/bench_hot_merchant.py                   # 1, 4, 16, 32 threads, 5 s
    .venv/bin/python scripts/bench_hot_merchant.py --seconds 10 --hold 0.025
    .venv/bin/python scripts/bench_hot_merchant.py --endpoint http://127.0.0.1:8765

Without --endpoint it starts its own DynamoDB Local in memory on a free port (Java 17 needed).
Throughput is bounded by DynamoDB Local (one machine, transactions in series) as well as by the
model; the comparison between the designs, at the same thread count, is the point.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_dashboard.test_settings")

import django  # noqa: E402

django.setup()

from devtools import dynamodb_local  # noqa: E402
from devtools.transaction_conflicts import HOLD, conflicting  # noqa: E402
from payments import dynamo  # noqa: E402
from payments.domain import PaymentStatus as S  # noqa: E402
from payments.domain import Totals  # noqa: E402
from payments.dynamo import Dynamo, shards  # noqa: E402
from payments.errors import Conflict  # noqa: E402
from payments.formatting import merchant_zone  # noqa: E402
from payments.lifecycle import AttemptSeen, AttemptStatus  # noqa: E402

DESIGNS = (("one item", 1), ("sharded", 8))
OUTCOMES = (AttemptStatus.EXECUTED, AttemptStatus.FAILED, AttemptStatus.AUTHORIZING)


@dataclass
class Run:
    design: str
    threads: int
    landed: int
    gave_up: int
    cancelled: int
    transactions: int
    seconds: float
    stats_equal: bool
    day_items_read: int

    @property
    def per_second(self) -> float:
        return self.landed / self.seconds


def write_for(db: Dynamo, user: str, seconds: float, worker: int) -> tuple[int, int]:
    """Create-and-change payments until `seconds` have passed: (landed, gave up)."""
    landed = gave_up = 0
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline:
        i += 1
        try:
            payment = dynamo.payment_create(
                db,
                user_id=user,
                amount=Decimal(100 + i % 900) / 100,
                currency="GBP",
                reference=f"HOT {worker}-{i}",
            )
        except Conflict:
            gave_up += 1
            continue
        try:
            # One status change: TrueLayer reports an attempt (one transaction).
            dynamo.payment_observe(
                db,
                user_id=user,
                payment_id=payment.payment_id,
                observation=AttemptSeen(
                    f"tl-{payment.payment_id}", OUTCOMES[i % len(OUTCOMES)], datetime.now(UTC)
                ),
                source="bench",
            )
            landed += 1
        except Conflict:
            gave_up += 1
    return landed, gave_up


def brute_force(db: Dynamo, user: str) -> dict[tuple[S, str], Totals]:
    totals: dict[tuple[S, str], Totals] = {}
    for payment in dynamo.payment_iter(db, user_id=user):
        key = (payment.status, payment.currency)
        totals[key] = totals.get(key, Totals()) + Totals(1, payment.amount)
    return totals


def run(
    base: Dynamo, design: str, shard_count: int, threads: int, seconds: float, hold: float
) -> Run:
    shards.SHARDS = shard_count
    shards.forget_hot()
    user = f"auth0|hot-{shard_count}-{threads}-{time.time_ns()}"
    db, double = conflicting(base, hold=hold)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda w: write_for(db, user, seconds, w), range(threads)))
    elapsed = time.perf_counter() - started
    landed = sum(r[0] for r in results)
    gave_up = sum(r[1] for r in results)
    stats = dynamo.stats_for_range(base, user_id=user)
    today = datetime.now(merchant_zone()).date()
    tz = merchant_zone()
    period = dynamo.stats_period(
        base,
        user_id=user,
        start=datetime.combine(today - timedelta(days=1), day_time.min, tzinfo=tz),
        end=datetime.combine(today + timedelta(days=1), day_time.min, tzinfo=tz),
    )
    return Run(
        design,
        threads,
        landed,
        gave_up,
        double.conflicts,
        double.transactions,
        elapsed,
        stats.totals == brute_force(base, user) and period.stats.totals == stats.totals,
        period.stats.items_read,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="1,4,16,32")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--hold", type=float, default=HOLD, help="seconds a transaction holds its items"
    )
    parser.add_argument("--endpoint", default=None)
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]
    server = None
    endpoint = args.endpoint
    if endpoint is None:
        server = dynamodb_local.start_on_free_port(None)
        endpoint = server.endpoint_url
    try:
        base = Dynamo(
            dynamo.make_client(
                endpoint_url=endpoint,
                region="eu-west-2",
                max_pool_connections=max(thread_counts) + 4,
            ),
            table=f"BenchHot-{time.time_ns()}",
            meta_table=f"BenchHotMeta-{time.time_ns()}",
        )
        dynamo.tables_ensure(base)
        print(
            f"One merchant, create + one status change per write, {args.seconds:g} s per run; "
            f"transactions hold their items {args.hold * 1000:g} ms (AWS model); "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"DynamoDB Local at {endpoint}"
        )
        print(
            f"{'design':<10} {'threads':>7} {'writes/s':>9} {'landed':>7} {'gave up':>8} "
            f"{'cancelled/txns':>15} {'stats = count':>14} {'day items read (2 days)':>24}"
        )
        for design, shard_count in DESIGNS:
            for threads in thread_counts:
                r = run(base, design, shard_count, threads, args.seconds, args.hold)
                print(
                    f"{r.design:<10} {r.threads:>7} {r.per_second:>9.1f} {r.landed:>7} "
                    f"{r.gave_up:>8} {f'{r.cancelled}/{r.transactions}':>15} "
                    f"{'yes' if r.stats_equal else 'NO':>14} {r.day_items_read:>24}"
                )
        dynamo.tables_drop(base)
    finally:
        shards.SHARDS = 8
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
