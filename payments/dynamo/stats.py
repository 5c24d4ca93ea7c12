"""The statistics aggregates: hourly and daily totals items in the meta table.

Written here (`stats_move_actions`, added to the transaction of every payment creation and
status change, so the totals never drift from the payments) and read here (`stats_for_range`,
`stats_daily`): a range costs its number of days plus the hours at its ragged edges, never the
number of payments. A totals item holds `c#<status>#<currency>` (count) and
`a#<status>#<currency>` (amount) for the payments created in that hour or day, by current status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from payments.domain import (
    DailyTotals,
    PaymentStats,
    PaymentStatus,
    PaymentValidationError,
    Totals,
    require_user,
)
from payments.dynamo.client import Dynamo, Metrics, query
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, serialize
from payments.dynamo.schema import DAILY, HOURLY, stats_pk

# Up to this long, daily series are built from hourly items (exact local days in any zone).
_HOURLY_SERIES_LIMIT = timedelta(days=93)

StatusCurrency = tuple[PaymentStatus, str]


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
    in its hour and day items, and uncount it from `remove` (its previous status)."""
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
    much), bucketed like everything else by the payment's creation time."""
    return {f"rc#{currency}": count_delta, f"ra#{currency}": amount_delta}


def stats_update_actions(
    db: Dynamo, user_id: str, created_at: str, moves: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Transaction actions adding `moves` to the hour and day items of `created_at`."""
    actions: list[dict[str, Any]] = []
    for grain, key in ((HOURLY, created_at[:13]), (DAILY, created_at[:10])):
        expr = Expr()
        actions.append(
            {
                "Update": {
                    "TableName": db.meta_table,
                    "Key": serialize({"pk": stats_pk(grain, user_id), "sk": key}),
                    "UpdateExpression": expr.additions(moves),
                    **expr.kwargs(),
                }
            }
        )
    return actions


def stats_for_range(
    db: Dynamo,
    *,
    user_id: str,
    start: datetime,
    end: datetime,
    metrics: Metrics | None = None,
) -> PaymentStats:
    """Totals of the payments created in [start, end) (resolved to the hour), by current
    status and currency. Reads one aggregate item per whole UTC day in the range and one per
    hour at its ragged edges: the cost follows the length of the range, not the history."""
    require_user(user_id)
    start_h, end_h = _hour_range(start, end)
    used = Metrics()
    buckets = _range_buckets(db, used, user_id, start_h, end_h)
    totals: dict[StatusCurrency, Totals] = {}
    refunds: dict[str, Totals] = {}
    for bucket in buckets:
        _merge_into(totals, _bucket_totals(bucket))
        for currency, refunded in _bucket_refunds(bucket).items():
            refunds[currency] = refunds.get(currency, Totals()) + refunded
    if metrics is not None:
        metrics.add(used.requests, used.items_read)
    return PaymentStats(
        start=start_h,
        end=end_h,
        totals=totals,
        requests=used.requests,
        items_read=used.items_read,
        refunds={c: t for c, t in refunds.items() if t.count},
    )


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


def _bucket_refunds(bucket: Mapping[str, Any]) -> dict[str, Totals]:
    return {
        name[3:]: Totals(int(value), Decimal(bucket.get(f"ra#{name[3:]}", 0)))
        for name, value in bucket.items()
        if name.startswith("rc#")
    }


def _range_buckets(
    db: Dynamo, metrics: Metrics | None, user_id: str, start_h: datetime, end_h: datetime
) -> list[dict[str, Any]]:
    """Daily items for the whole UTC days of the range, hourly items for its ragged edges."""
    first_day = _ceil_day(start_h)
    last_day = _floor_day(end_h)
    buckets: list[dict[str, Any]] = []
    if first_day < last_day:
        buckets += _buckets(db, metrics, DAILY, user_id, first_day, last_day - timedelta(days=1))
        if start_h < first_day:
            buckets += _buckets(db, metrics, HOURLY, user_id, start_h, first_day - _HOUR)
        if last_day < end_h:
            buckets += _buckets(db, metrics, HOURLY, user_id, last_day, end_h - _HOUR)
    else:
        buckets += _buckets(db, metrics, HOURLY, user_id, start_h, end_h - _HOUR)
    return buckets


def stats_daily(
    db: Dynamo,
    *,
    user_id: str,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    metrics: Metrics | None = None,
) -> list[DailyTotals]:
    """Per local day in `tz` (for charts): from hourly aggregates when the range is up to 93
    days, else from UTC-day aggregates. Days with nothing are included with empty totals."""
    require_user(user_id)
    start_h, end_h = _hour_range(start, end)
    days: dict[date, dict[StatusCurrency, Totals]] = {}
    day = start_h.astimezone(tz).date()
    last = (end_h - _HOUR).astimezone(tz).date()
    while day <= last:
        days[day] = {}
        day += timedelta(days=1)
    if end_h - start_h <= _HOURLY_SERIES_LIMIT:
        for bucket in _buckets(db, metrics, HOURLY, user_id, start_h, end_h - _HOUR):
            moment = datetime.strptime(bucket["sk"], "%Y-%m-%dT%H").replace(tzinfo=UTC)
            _merge_into(days.setdefault(moment.astimezone(tz).date(), {}), _bucket_totals(bucket))
    else:
        first, last_moment = _floor_day(start_h), _floor_day(end_h - _HOUR)
        for bucket in _buckets(db, metrics, DAILY, user_id, first, last_moment):
            day_totals = days.setdefault(date.fromisoformat(bucket["sk"]), {})
            _merge_into(day_totals, _bucket_totals(bucket))
    return [DailyTotals(d, totals) for d, totals in sorted(days.items())]


_HOUR = timedelta(hours=1)
_KEY_FORMATS = {HOURLY: "%Y-%m-%dT%H", DAILY: "%Y-%m-%d"}


def _buckets(
    db: Dynamo,
    metrics: Metrics | None,
    grain: str,
    user_id: str,
    first: datetime,
    last: datetime,
) -> list[dict[str, Any]]:
    """Every totals item of `grain` from `first` to `last` inclusive (UTC), all pages."""
    key_format = _KEY_FORMATS[grain]
    expr = Expr()
    condition = (
        f"{expr.name('pk')} = {expr.value(stats_pk(grain, user_id))} AND {expr.name('sk')} "
        f"BETWEEN {expr.value(first.astimezone(UTC).strftime(key_format))} "
        f"AND {expr.value(last.astimezone(UTC).strftime(key_format))}"
    )
    kwargs: dict[str, Any] = {
        "TableName": db.meta_table,
        "KeyConditionExpression": condition,
        **expr.kwargs(),
    }
    items: list[dict[str, Any]] = []
    while True:
        answer = query(db, metrics, **kwargs)
        items.extend(deserialize(raw) for raw in answer.get("Items", []))
        if "LastEvaluatedKey" not in answer:
            return items
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def _bucket_totals(bucket: Mapping[str, Any]) -> dict[StatusCurrency, Totals]:
    out: dict[StatusCurrency, Totals] = {}
    for name, value in bucket.items():
        if not name.startswith("c#"):
            continue
        _, status, currency = name.split("#", 2)
        try:
            key = (PaymentStatus(status), currency)
        except ValueError:
            continue
        out[key] = Totals(int(value), Decimal(bucket.get(f"a#{status}#{currency}", 0)))
    return out


def _merge_into(
    target: dict[StatusCurrency, Totals], more: Mapping[StatusCurrency, Totals]
) -> None:
    for key, value in more.items():
        if value.count:
            target[key] = target.get(key, Totals()) + value


def _hour_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start_h, end_h = _floor_hour(start), _floor_hour(end)
    if start_h >= end_h:
        raise PaymentValidationError("end", "The end of the date range must be after its start.")
    return start_h, end_h


def _floor_hour(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise PaymentValidationError("start", "Date ranges need a time zone.")
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _floor_day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _ceil_day(moment: datetime) -> datetime:
    floor = _floor_day(moment)
    return floor if floor == moment else floor + timedelta(days=1)
