#!/usr/bin/env python
"""What `reconcile_payments` costs in DynamoDB work, against the size of the history.

Loads N payments for several merchants into DynamoDB Local (BatchWriteItem, realistic items made
by the real write path and cloned), of which K are open and due a check, then runs the real
`services.payments_reconcile` against an in-process stand-in for TrueLayer (no network) that
says "nothing changed" for most and "executed" for every tenth. Counts every DynamoDB request
and the items each read (botocore events on the client, so nothing is estimated), and times the
run. Run:

    .venv/bin/python scripts/bench_reconcile.py                       # N = 100,000, K = 1,000
    .venv/bin/python scripts/bench_reconcile.py --payments 10000 --open 100

Without --endpoint it starts its own DynamoDB Local in memory on a free port (Java 17 needed).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_dashboard.test_settings")

import django  # noqa: E402

django.setup()

from ulid import ULID  # noqa: E402

from devtools import dynamodb_local  # noqa: E402
from payments import dynamo, services  # noqa: E402
from payments.domain import format_timestamp, utc_now  # noqa: E402
from payments.dynamo import Dynamo  # noqa: E402
from payments.dynamo.items import deserialize, payment_key, serialize  # noqa: E402
from payments.dynamo.lifecycle import open_shard  # noqa: E402
from payments.lifecycle import AttemptSeen, AttemptStatus  # noqa: E402

MERCHANTS = [f"auth0|bench-merchant-{i}" for i in range(10)]


class StandInTrueLayer:
    """Answers like TrueLayer for the benchmark's links: every tenth attempt has executed."""

    def __init__(self) -> None:
        self.calls = 0

    def get_payment_link(self, link_id: str) -> dict[str, Any]:
        self.calls += 1
        return {"id": link_id, "status": "enabled"}

    def list_link_payments(self, link_id: str) -> list[dict[str, Any]]:
        self.calls += 1
        status = "executed" if zlib.crc32(link_id.encode()) % 10 == 0 else "authorization_required"
        return [{"id": f"tl-{link_id}", "status": status, "created_at": "2026-11-01T10:00:00Z"}]

    def get_payment(self, truelayer_payment_id: str) -> dict[str, Any]:
        raise NotImplementedError("reconciliation reads the link and its payments only")

    def create_payment_link(self, request: Any) -> Any:
        raise NotImplementedError("the benchmark creates no link")

    def list_refunds(self, truelayer_payment_id: str) -> list[dict[str, Any]]:
        # Reconciliation also reads the refunds of a refundable (here: executed) payment.
        self.calls += 1
        return []

    def create_refund(self, request: Any) -> str:
        raise NotImplementedError("the benchmark makes no refund")

    def cancel_payment(self, truelayer_payment_id: str, idempotency_key: str) -> None:
        raise NotImplementedError("the benchmark cancels nothing")


def prototypes(db: Dynamo) -> tuple[dict[str, Any], dict[str, Any]]:
    """A closed (settled) and an open (authorization required) payment item, as the real write
    path stores them: history, attempts, link, provider responses and all."""
    items = []
    for n, status in enumerate((AttemptStatus.SETTLED, AttemptStatus.AUTHORIZATION_REQUIRED)):
        payment = dynamo.payment_create(
            db, user_id="proto", amount="42.50", currency="GBP", reference="INV-PROTO"
        )
        dynamo.payment_link_set(
            db,
            user_id="proto",
            payment_id=payment.payment_id,
            link_id=f"proto-{payment.payment_id}",
            link_url="https://payment.truelayer-sandbox.com/proto",
            response={"id": f"proto-{payment.payment_id}", "uri": "https://x" * 20},
        )
        at = utc_now()
        for step in (AttemptStatus.AUTHORIZATION_REQUIRED, status):
            dynamo.payment_observe(
                db,
                user_id="proto",
                payment_id=payment.payment_id,
                observation=AttemptSeen(f"tl-proto-{n}", step, at, created_at=at),
                source="bench",
            )
        raw = db.client.get_item(TableName=db.table, Key=payment_key("proto", payment.payment_id))
        items.append(deserialize(raw["Item"]))
    return items[0], items[1]


def load(db: Dynamo, total: int, open_count: int) -> None:
    closed, opened = prototypes(db)
    due = format_timestamp(utc_now() - timedelta(minutes=1))
    start = datetime(2025, 11, 1, tzinfo=UTC)
    open_every = max(1, total // max(open_count, 1))

    def item(i: int) -> dict[str, Any]:
        created = start + timedelta(seconds=i * 300)
        payment_id = str(ULID.from_datetime(created))
        is_open = i % open_every == 0 and i // open_every < open_count
        base = dict(opened if is_open else closed)
        base.update(
            userId=MERCHANTS[i % len(MERCHANTS)],
            paymentId=payment_id,
            createdAt=format_timestamp(created),
            paymentLinkId=f"link-{i}",
        )
        if is_open:
            base["openShard"] = open_shard(payment_id)
            base["checkAt"] = due
            base["attempts"] = {f"tl-link-{i}": opened["attempts"]["tl-proto-1"]}
        return base

    def write(chunk: range) -> None:
        for first in range(chunk.start, chunk.stop, 25):
            batch = [
                {"PutRequest": {"Item": serialize(item(i))}}
                for i in range(first, min(first + 25, chunk.stop))
            ]
            pending: dict[str, Any] = {db.table: batch}
            while pending:
                answer = db.client.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}

    t0 = time.perf_counter()
    step = -(-total // 4)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, [range(s, min(s + step, total)) for s in range(0, total, step)]))
    print(f"loaded {total:,} payments ({open_count:,} open) in {time.perf_counter() - t0:.0f} s")


def count_work(db: Dynamo) -> Counter[str]:
    counts: Counter[str] = Counter()

    def after(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        counts[f"requests:{model.name}"] += 1
        counts["requests"] += 1
        if model.name == "Query":
            counts["items read"] += int(parsed.get("ScannedCount", 0))
        elif model.name == "GetItem":
            counts["items read"] += 1 if parsed.get("Item") else 0

    db.client.meta.events.register("after-call.dynamodb", after)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=1_000)
    parser.add_argument("--endpoint", default=None)
    args = parser.parse_args()
    server = None
    endpoint = args.endpoint
    if endpoint is None:
        server = dynamodb_local.start_on_free_port(None)
        endpoint = server.endpoint_url
    try:
        suffix = str(os.getpid())
        db = dynamo.dynamo_from_settings(
            endpoint_url=endpoint, table=f"BenchRec{suffix}", meta_table=f"BenchRec{suffix}Meta"
        )
        dynamo.tables_ensure(db, wait_seconds=60)
        load(db, args.payments, args.open)
        counts = count_work(db)
        provider = StandInTrueLayer()
        t0 = time.perf_counter()
        report = services.payments_reconcile(db=db, provider=provider, limit=args.open * 2)
        elapsed = time.perf_counter() - t0
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}; "
            f"DynamoDB Local at {endpoint}"
        )
        print(
            f"reconcile_payments over {args.payments:,} payments, {args.open:,} open and due: "
            f"checked {report.checked:,}, corrected {len(report.changed):,} in {elapsed:.1f} s"
        )
        kinds = Counter(change for _, change in report.changed)
        print(f"  what changed: {dict(kinds)}")
        print(f"  TrueLayer calls: {provider.calls:,}")
        print(f"  DynamoDB requests: {counts['requests']:,}, items read: {counts['items read']:,}")
        for name, value in sorted(counts.items()):
            if name.startswith("requests:"):
                print(f"    {name.removeprefix('requests:')}: {value:,}")
        per_open = counts["items read"] / max(report.checked, 1)
        print(f"  items read per payment checked: {per_open:.1f} (history size does not enter)")
        second = count_work(db)
        again = services.payments_reconcile(db=db, provider=provider, limit=args.open * 2)
        print(
            f"an immediate second run: checked {again.checked}, "
            f"{second['requests']} requests, {second['items read']} items read"
        )
        dynamo.tables_drop(db)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
