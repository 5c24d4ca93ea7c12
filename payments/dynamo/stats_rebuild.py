"""Rebuilding the statistics aggregates from the payments themselves.

Needed when what the aggregates depend on changes: the merchant's time zone
(`MERCHANT_TIME_ZONE`: the day and month items are local days and months), and once on upgrade
from the UTC hourly/daily items of before. `stats_items` is also what a bulk loader writes next
to payments it loads by batch (instead of one transaction each).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from payments.domain import Payment, from_minor_units, require_user
from payments.dynamo.client import Dynamo, Metrics, count, query, translate_errors
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, serialize
from payments.dynamo.listing import payment_iter
from payments.dynamo.schema import STATS_GRAINS, stats_pk
from payments.dynamo.shards import shard_sk
from payments.dynamo.stats import (
    Counters,
    add_counters,
    local_day,
    refund_moves,
    stats_periods,
    status_moves,
)
from payments.lifecycle import RefundStatus


def payment_counters(payment: Payment) -> dict[str, Any]:
    """What one payment adds to its day and month items: its current status, and its
    executed refunds (the same counters the transactions keep)."""
    counters = status_moves(payment.currency, payment.amount, add=payment.status)
    executed = [
        r.amount_minor or 0 for r in payment.lifecycle.refunds if r.status is RefundStatus.EXECUTED
    ]
    if executed:
        counters |= refund_moves(
            payment.currency, len(executed), from_minor_units(sum(executed), payment.currency)
        )
    return counters


def stats_items(user_id: str, payments: Iterable[Payment]) -> list[dict[str, Any]]:
    """The day and month items (shard 0, plain values) that count `payments` of one merchant
    in the merchant's zone: what their transactions would have added up to."""
    periods: dict[tuple[str, str], Counters] = {}
    for payment in payments:
        moves = {k: Decimal(v) for k, v in payment_counters(payment).items()}
        for grain, period in stats_periods(local_day(payment.created_at)):
            add_counters(periods.setdefault((grain, period), {}), moves)
    return [
        {"pk": stats_pk(grain, user_id), "sk": shard_sk(period, 0), **counters}
        for (grain, period), counters in sorted(periods.items())
    ]


@dataclass
class RebuildReport:
    """What a rebuild did (or, with `dry_run`, would do) for the merchants it looked at."""

    merchants: int = 0
    payments: int = 0
    written: int = 0
    deleted: int = 0
    # Day/month periods whose stored totals differed from the payments, per merchant.
    differing: dict[str, list[str]] = field(default_factory=dict)


def stats_rebuild(
    db: Dynamo,
    *,
    user_ids: Collection[str],
    dry_run: bool = False,
    metrics: Metrics | None = None,
) -> RebuildReport:
    """Write every statistics item of the merchants `user_ids` again from their payments, in
    the merchant's current zone, and delete the items that no longer apply (other shards, other
    days, the UTC hourly/daily items of before).

    Run it with the app stopped (or no payment writes for these merchants): a payment written
    while its merchant is rebuilt may be missed or counted twice. With `dry_run`, only compare
    and report."""
    report = RebuildReport()
    for user_id in sorted(set(user_ids)):
        require_user(user_id)
        # Streamed: a merchant's history is never all in memory.
        payments = _counting(payment_iter(db, user_id=user_id, metrics=metrics), report)
        new_items = stats_items(user_id, payments)
        old_items = list(_stats_items_of(db, user_id, metrics))
        report.merchants += 1
        differing = _differences(new_items, old_items)
        if differing:
            report.differing[user_id] = differing
        new_keys = {(item["pk"], item["sk"]) for item in new_items}
        stale = [item for item in old_items if (item["pk"], item["sk"]) not in new_keys]
        report.deleted += len(stale)
        report.written += len(new_items)
        if dry_run:
            continue
        for item in new_items:
            count(metrics, requests=1)
            with translate_errors(write=True):
                db.client.put_item(TableName=db.meta_table, Item=serialize(item))
        for item in stale:
            count(metrics, requests=1)
            with translate_errors(write=True):
                db.client.delete_item(
                    TableName=db.meta_table, Key=serialize({"pk": item["pk"], "sk": item["sk"]})
                )
    return report


def _counting(payments: Iterable[Payment], report: RebuildReport) -> Iterator[Payment]:
    for payment in payments:
        report.payments += 1
        yield payment


def _stats_items_of(db: Dynamo, user_id: str, metrics: Metrics | None) -> Iterator[dict[str, Any]]:
    """Every statistics item of one merchant, of every grain (current and legacy)."""
    for grain in STATS_GRAINS:
        expr = Expr()
        kwargs: dict[str, Any] = {
            "TableName": db.meta_table,
            "KeyConditionExpression": f"{expr.name('pk')} = {expr.value(stats_pk(grain, user_id))}",
            **expr.kwargs(),
        }
        while True:
            answer = query(db, metrics, **kwargs)
            yield from (deserialize(raw) for raw in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def _differences(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> list[str]:
    """`DAY 2026-02-03`-style names of the periods whose totals differ (shards summed; a
    legacy item counts as differing: it should not exist)."""

    def summed(items: list[dict[str, Any]]) -> dict[tuple[str, str], Counters]:
        out: dict[tuple[str, str], Counters] = {}
        for item in items:
            counters = out.setdefault((item["pk"], str(item["sk"]).split("#", 1)[0]), {})
            add_counters(counters, item)
        return {key: {k: v for k, v in c.items() if v} for key, c in out.items()}

    want, have = summed(new), summed(old)
    return sorted(
        f"{pk.split('#')[1]} {period}"
        for pk, period in set(want) | set(have)
        if want.get((pk, period), {}) != have.get((pk, period), {})
    )
