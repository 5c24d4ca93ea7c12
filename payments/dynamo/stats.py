"""The statistics aggregates: daily and monthly totals items in the meta table, kept in the
merchant's time zone (`settings.MERCHANT_TIME_ZONE`).

Written here (`stats_update_actions`, added to the transaction of every payment creation,
status change and refund, so the totals never drift from the payments) and read here:

- `stats_period` (the statistics page): one Query of the day items of a range gives its totals
  and its chart — one item per local day (more only on days a busy merchant's writes collided,
  see `shards.py`), whatever the history;
- `stats_for_range` (totals, e.g. the list's counts): month items for the whole months inside the
  range and day items at its edges, read concurrently; with no `start` and no `end`, every month
  item of the merchant ("all time": one item per month of history).

A totals item holds `c#<status>#<currency>` (count) and `a#<status>#<currency>` (amount) for the
payments created in that local day or month, by current status, and `rc#<cur>`/`ra#<cur>` for
their executed refunds. Ranges resolve to whole local days. When the zone setting changes, the
items must be rebuilt: `python manage.py rebuild_statistics` (`stats_rebuild.py`).
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

from payments.domain import (
    DailyTotals,
    PaymentStats,
    PaymentStatus,
    PaymentValidationError,
    Totals,
    require_user,
)
from payments.dynamo.client import Dynamo, Metrics, count, query, translate_errors
from payments.dynamo.concurrent import run_concurrently
from payments.dynamo.expressions import Expr
from payments.dynamo.items import serialize
from payments.dynamo.schema import DAY, MONTH, stats_pk
from payments.dynamo.shards import period_of, shard_for, shard_sk
from payments.formatting import merchant_zone

StatusCurrency = tuple[PaymentStatus, str]
Counters = dict[str, Decimal]
T = TypeVar("T")

# Open ends of an "all time" range, as `PaymentStats.start`/`end` (not datetime.min/max, which
# overflow when shown in a zone).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def stats_move_actions(
    db: Dynamo,
    user_id: str,
    created_at: str,
    currency: str,
    amount: Decimal,
    *,
    add: PaymentStatus,
    remove: PaymentStatus | None = None,
) -> list[dict[str, Any]]:
    """Transaction actions that count a payment (created at `created_at`) under status `add`
    in its day and month items, and uncount it from `remove` (its previous status)."""
    return stats_update_actions(
        db, user_id, created_at, status_moves(currency, amount, add=add, remove=remove)
    )


def status_moves(
    currency: str, amount: Decimal, *, add: PaymentStatus, remove: PaymentStatus | None = None
) -> dict[str, Any]:
    """The counter changes of a payment moving from `remove` to `add`."""
    moves: dict[str, Any] = {f"c#{add.value}#{currency}": 1, f"a#{add.value}#{currency}": amount}
    if remove is not None:
        moves |= {f"c#{remove.value}#{currency}": -1, f"a#{remove.value}#{currency}": -amount}
    return moves


def refund_moves(currency: str, count_delta: int, amount_delta: Decimal) -> dict[str, Any]:
    """The counter changes of executed refunds: `rc#<cur>` (how many) and `ra#<cur>` (how
    much), bucketed like everything else by the payment's creation day."""
    return {f"rc#{currency}": count_delta, f"ra#{currency}": amount_delta}


def local_day(created_at: str | datetime, tz: tzinfo | None = None) -> date:
    """The day, in the merchant's zone (or `tz`), of a `createdAt` timestamp."""
    moment = datetime.fromisoformat(created_at) if isinstance(created_at, str) else created_at
    return moment.astimezone(tz or merchant_zone()).date()


def stats_periods(day: date) -> tuple[tuple[str, str], tuple[str, str]]:
    """((DAY, "2026-02-26"), (MONTH, "2026-02")): the aggregate periods a day counts in."""
    return (DAY, day.isoformat()), (MONTH, day.isoformat()[:7])


def stats_update_actions(
    db: Dynamo, user_id: str, created_at: str, moves: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Transaction actions adding `moves` to the day and month items (in the merchant's zone)
    of a payment created at `created_at`: shard 0 unless that period is hot (`shards.py`)."""
    actions: list[dict[str, Any]] = []
    for grain, period in stats_periods(local_day(created_at)):
        pk = stats_pk(grain, user_id)
        expr = Expr()
        actions.append(
            {
                "Update": {
                    "TableName": db.meta_table,
                    "Key": serialize({"pk": pk, "sk": shard_sk(period, shard_for(pk, period))}),
                    "UpdateExpression": expr.additions(moves),
                    **expr.kwargs(),
                }
            }
        )
    return actions


def stats_counters_add(
    db: Dynamo, *, key: Mapping[str, Any], moves: Mapping[str, Any], metrics: Metrics | None = None
) -> None:
    """Add `moves` to one aggregate item (its `pk`/`sk` in `key`) in one UpdateItem, outside any
    transaction: for a bulk load (demo data) that counted many payments at once and sends each
    day's and month's sums in one write. ADD is not idempotent: an unanswered write raises
    `DatabaseUnavailable(outcome_unknown=True)` and must not be blindly repeated."""
    expr = Expr()
    count(metrics, requests=1)
    with translate_errors(write=True):
        db.client.update_item(
            TableName=db.meta_table,
            Key=serialize({"pk": key["pk"], "sk": key["sk"]}),
            UpdateExpression=expr.additions(moves),
            **expr.kwargs(),
        )


# --- reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsPeriod:
    """A range's totals and its per-day totals, from one read of its day items."""

    stats: PaymentStats
    days: list[DailyTotals]


def stats_period(
    db: Dynamo,
    *,
    user_id: str,
    start: datetime,
    end: datetime,
    metrics: Metrics | None = None,
) -> StatsPeriod:
    """Totals of the payments created in [start, end) (whole local days of the merchant's
    zone) and the same per day, every day of the range included: one Query of the range's day
    items, so the chart and the totals cost one item per day (per shard on busy days)."""
    require_user(user_id)
    tz = merchant_zone()
    first, last = _day_bounds(start, end, tz)
    assert first is not None and last is not None
    used = Metrics()
    per_day = _read(db, used, DAY, user_id, first.isoformat(), last.isoformat())
    days = []
    day = first
    while day <= last:
        days.append(DailyTotals(day, _totals(per_day.get(day.isoformat(), {}))))
        day += timedelta(days=1)
    if metrics is not None:
        metrics.add(used.requests, used.items_read)
    stats = _stats(list(per_day.values()), first, last, tz, used)
    return StatsPeriod(stats, days)


def stats_for_range(
    db: Dynamo,
    *,
    user_id: str,
    start: datetime | None = None,
    end: datetime | None = None,
    metrics: Metrics | None = None,
) -> PaymentStats:
    """Totals of the payments created in [start, end), by current status and currency.

    The range resolves to whole local days in the merchant's zone (`start`'s day through the
    day before `end`); `start=None` means since the first payment, `end=None` up to now, both
    None "all time". Whole months inside the range are read from month items, the days at its
    edges from day items, concurrently: at most ~60 day items plus one item per month (more
    only where a busy merchant's writes were spread over shards), never the payments."""
    require_user(user_id)
    tz = merchant_zone()
    first, last = _day_bounds(start, end, tz)
    reads: list[tuple[str, str | None, str | None]] = []
    if (
        first is not None
        and last is not None
        and (first.year, first.month)
        == (
            last.year,
            last.month,
        )
    ):
        reads.append((DAY, first.isoformat(), last.isoformat()))
    else:
        month_first: date | None = None
        month_last: date | None = None
        if first is not None:
            month_first = first if first.day == 1 else _next_month(first)
            if first.day != 1:
                reads.append((DAY, first.isoformat(), (month_first - _DAY).isoformat()))
        if last is not None:
            month_last = last.replace(day=1) if _is_month_end(last) else _previous_month(last)
            if not _is_month_end(last):
                reads.append((DAY, last.replace(day=1).isoformat(), last.isoformat()))
        if month_first is None or month_last is None or month_first <= month_last:
            reads.append(
                (
                    MONTH,
                    month_first.isoformat()[:7] if month_first else None,
                    month_last.isoformat()[:7] if month_last else None,
                )
            )
    parts = [Metrics() for _ in reads]
    answers = run_concurrently(
        [
            _reader(db, used, grain, user_id, low, high)
            for used, (grain, low, high) in zip(parts, reads, strict=True)
        ]
    )
    used = Metrics()
    for part in parts:
        used.add(part.requests, part.items_read)
    if metrics is not None:
        metrics.add(used.requests, used.items_read)
    return _stats([c for answer in answers for c in answer.values()], first, last, tz, used)


def refund_totals_for_range(
    db: Dynamo,
    *,
    user_id: str,
    start: datetime,
    end: datetime,
    metrics: Metrics | None = None,
) -> dict[str, tuple[int, Decimal]]:
    """Executed refunds of the payments created in [start, end), per currency: (count,
    amount). The same read as `stats_for_range` (whose `refunds` field this is)."""
    stats = stats_for_range(db, user_id=user_id, start=start, end=end, metrics=metrics)
    return {c: (t.count, t.amount) for c, t in stats.refunds.items()}


def stats_daily(
    db: Dynamo,
    *,
    user_id: str,
    start: datetime,
    end: datetime,
    tz: tzinfo | None = None,
    metrics: Metrics | None = None,
) -> list[DailyTotals]:
    """Per local day of the merchant's zone (for charts), every day of [start, end) included:
    one Query of the day items. (`tz` is accepted for callers that pass the merchant's zone;
    the days are always those of the zone the aggregates are kept in.)"""
    return stats_period(db, user_id=user_id, start=start, end=end, metrics=metrics).days


# --- helpers --------------------------------------------------------------------------------

_DAY = timedelta(days=1)


def _reader(
    db: Dynamo, used: Metrics, grain: str, user_id: str, low: str | None, high: str | None
) -> Callable[[], dict[str, Counters]]:
    return lambda: _read(db, used, grain, user_id, low, high)


def _read(
    db: Dynamo,
    metrics: Metrics | None,
    grain: str,
    user_id: str,
    low: str | None,
    high: str | None,
) -> dict[str, Counters]:
    """Every item of `grain` whose period is in [low, high] (None: open), all pages, with the
    shards of each period summed: {period: counters}."""
    expr = Expr()
    condition = f"{expr.name('pk')} = {expr.value(stats_pk(grain, user_id))}"
    # Shards sort after their period ("2026-02-26#03"): "~" sorts after every shard number.
    if low is not None and high is not None:
        condition += (
            f" AND {expr.name('sk')} BETWEEN {expr.value(low)} AND {expr.value(high + '#~')}"
        )
    elif low is not None:
        condition += f" AND {expr.name('sk')} >= {expr.value(low)}"
    elif high is not None:
        condition += f" AND {expr.name('sk')} <= {expr.value(high + '#~')}"
    kwargs: dict[str, Any] = {
        "TableName": db.meta_table,
        "KeyConditionExpression": condition,
        **expr.kwargs(),
    }
    out: dict[str, Counters] = {}
    while True:
        answer = query(db, metrics, **kwargs)
        for raw in answer.get("Items", []):
            counters = out.setdefault(period_of(raw["sk"]["S"]), {})
            _add_raw_counters(counters, raw)
        if "LastEvaluatedKey" not in answer:
            return out
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


_COUNTER_PREFIXES = ("c#", "a#", "rc#", "ra#")
_ZERO = Decimal(0)


def add_counters(target: Counters, item: Mapping[str, Any]) -> None:
    """Add an aggregate item's counters (every `c#`, `a#`, `rc#`, `ra#` number) into `target`.
    Shards are summed before anything is dropped: one shard may hold a payment's +1 and
    another its -1 after a status change."""
    for name, value in item.items():
        if name.startswith(_COUNTER_PREFIXES):
            target[name] = target.get(name, _ZERO) + Decimal(value)


def _add_raw_counters(target: Counters, raw: Mapping[str, Any]) -> None:
    """`add_counters` on an item as DynamoDB answers it (`{"N": "12.50"}` values): the page
    reads ~30 numbers per day item, and only these, so the rest of the item is not decoded."""
    for name, value in raw.items():
        if name.startswith(_COUNTER_PREFIXES):
            target[name] = target.get(name, _ZERO) + Decimal(value["N"])


def _stats(
    buckets: Sequence[Counters],
    first: date | None,
    last: date | None,
    tz: tzinfo,
    used: Metrics,
) -> PaymentStats:
    summed: Counters = {}
    for bucket in buckets:
        add_counters(summed, bucket)
    start = datetime.combine(first, time.min, tzinfo=tz) if first else EARLIEST
    end = datetime.combine(last + _DAY, time.min, tzinfo=tz) if last else LATEST
    refunds = {
        name[3:]: Totals(int(value), summed.get(f"ra#{name[3:]}", Decimal(0)))
        for name, value in summed.items()
        if name.startswith("rc#") and value
    }
    return PaymentStats(
        start=start,
        end=end,
        totals=_totals(summed),
        requests=used.requests,
        items_read=used.items_read,
        refunds=refunds,
    )


def _totals(counters: Mapping[str, Decimal]) -> dict[StatusCurrency, Totals]:
    out: dict[StatusCurrency, Totals] = {}
    for name, value in counters.items():
        if not value or not name.startswith("c#"):
            continue
        key = _count_key(name)
        if key is not None:
            out[key] = Totals(int(value), counters.get("a" + name[1:], _ZERO))
    return out


@functools.lru_cache(maxsize=1024)
def _count_key(name: str) -> StatusCurrency | None:
    """(status, currency) of a `c#<status>#<currency>` counter; None for a status this version
    does not know (a newer version's counter is left alone, not misread)."""
    _, status, currency = name.split("#", 2)
    try:
        return PaymentStatus(status), currency
    except ValueError:
        return None


def _day_bounds(
    start: datetime | None, end: datetime | None, tz: tzinfo
) -> tuple[date | None, date | None]:
    """The first and last local day of [start, end) (None where open)."""
    for name, moment in (("start", start), ("end", end)):
        if moment is not None and moment.tzinfo is None:
            raise PaymentValidationError(name, "Date ranges need a time zone.")
    if start is not None and end is not None and start >= end:
        raise PaymentValidationError("end", "The end of the date range must be after its start.")
    first = start.astimezone(tz).date() if start is not None else None
    last = (end - timedelta(microseconds=1)).astimezone(tz).date() if end is not None else None
    return first, last


def _is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _previous_month(day: date) -> date:
    return (day.replace(day=1) - _DAY).replace(day=1)
