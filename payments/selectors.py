"""Reads for the dashboard, HackSoft-style: keyword-only typed functions named
`<entity>_<action>`, every one scoped to the merchant it is given. Views call these and never
the data layer; the query logic (search post-filtering, the statistics summary) lives here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from functools import partial
from typing import TypedDict, TypeVar, cast

from payments import dynamo
from payments.domain import (
    SUCCESSFUL_STATUSES,
    DailyTotals,
    DateRange,
    Payment,
    PaymentFilters,
    PaymentStats,
    PaymentStatus,
    Totals,
)
from payments.dynamo import Dynamo

A = TypeVar("A")
B = TypeVar("B")


@dataclass(frozen=True)
class PaymentListResult:
    payments: list[Payment]
    next_cursor: str | None = None
    budget_exhausted: bool = False
    searched: int = 0  # items a search read for this page


class _ListFilters(TypedDict):
    statuses: list[PaymentStatus]
    currency: str | None
    created_from: datetime | None
    created_to: datetime | None


def _list_filters(filters: PaymentFilters) -> _ListFilters:
    """The list filters as the data layer's keyword arguments."""
    return {
        "statuses": filters.statuses,
        "currency": filters.currency,
        "created_from": filters.date_range.start,
        "created_to": filters.date_range.end,
    }


def payment_get_for_merchant(
    *, user_id: str, payment_id: str, db: Dynamo | None = None
) -> Payment | None:
    """The merchant's own payment with this id (one GetItem), or None: another merchant's
    payment is simply not found."""
    return dynamo.payment_get(db or dynamo.get_dynamo(), user_id=user_id, payment_id=payment_id)


def payment_rows_for_merchant(
    *, user_id: str, payment_ids: list[str], db: Dynamo | None = None
) -> list[Payment]:
    """The list rows of these payments of the merchant (BatchGetItem, row attributes only);
    ids of other merchants are simply not found."""
    return dynamo.payment_rows_get(
        db or dynamo.get_dynamo(), user_id=user_id, payment_ids=payment_ids
    )


def payment_versions_for_merchant(
    *, user_id: str, payment_ids: list[str], db: Dynamo | None = None
) -> dict[str, int]:
    """{payment id: version} of these payments of the merchant (BatchGetItem, keys and version
    only); ids of other merchants are simply not found."""
    return dynamo.payment_versions_get(
        db or dynamo.get_dynamo(), user_id=user_id, payment_ids=payment_ids
    )


def payment_list(
    *, user_id: str, filters: PaymentFilters, page_size: int, db: Dynamo | None = None
) -> PaymentListResult:
    """One page of the merchant's payments, newest first, through the filters' cursor."""
    page = dynamo.payment_list(
        db or dynamo.get_dynamo(),
        user_id=user_id,
        page_size=page_size,
        cursor=filters.cursor,
        **_list_filters(filters),
    )
    return PaymentListResult(page.items, page.next_cursor)


def payment_search(
    *,
    user_id: str,
    query: str,
    filters: PaymentFilters,
    page_size: int,
    budget: int,
    db: Dynamo | None = None,
) -> PaymentListResult:
    """What a search finds among the payments the list's filters match, a full page at a time
    (the filters are applied inside the search's reads)."""
    found = dynamo.payment_search(
        db or dynamo.get_dynamo(),
        user_id=user_id,
        query=query,
        cursor=filters.cursor,
        budget=budget,
        page_size=page_size,
        **_list_filters(filters),
    )
    return PaymentListResult(
        found.items, found.next_cursor, found.budget_exhausted, found.items_read
    )


@dataclass(frozen=True)
class PaymentCounts:
    """How many payments the list's filters match and what they add up to (per currency), and
    per status how many match the other filters (for the status chips)."""

    count: int = 0
    amounts: list[tuple[str, Decimal]] = field(default_factory=list)
    by_status: dict[PaymentStatus, int] = field(default_factory=dict)


def payment_counts(
    *,
    user_id: str,
    filters: PaymentFilters,
    db: Dynamo | None = None,
) -> PaymentCounts:
    """Count and totals of the payments the filters (status, currency, created date) match,
    from the statistics aggregates: the cost follows the days of the range, not the payments.
    Without a date range it counts all time."""
    # No start: since the first payment; no end: up to now (month items, days at the edges).
    stats = dynamo.stats_for_range(
        db or dynamo.get_dynamo(),
        user_id=user_id,
        start=filters.date_range.start,
        end=filters.date_range.end,
    )
    count = 0
    amounts: dict[str, Decimal] = {}
    by_status: dict[PaymentStatus, int] = {}
    for (status, currency), totals in stats.totals.items():
        if filters.currency and currency != filters.currency:
            continue
        by_status[status] = by_status.get(status, 0) + totals.count
        if filters.statuses and status not in filters.statuses:
            continue
        count += totals.count
        amounts[currency] = amounts.get(currency, Decimal(0)) + totals.amount
    return PaymentCounts(count, sorted(amounts.items()), by_status)


def payment_export_rows(
    *, user_id: str, filters: PaymentFilters, query: str = "", db: Dynamo | None = None
) -> Iterator[Payment]:
    """Every payment the filters (and the search `query`, when given) match, newest first,
    read page by page as it is consumed: exactly the rows the list shows, all its pages."""
    db = db or dynamo.get_dynamo()
    if not query:
        return dynamo.payment_iter(db, user_id=user_id, **_list_filters(filters))
    return _search_rows(db, user_id=user_id, query=query, filters=filters)


def _search_rows(
    db: Dynamo, *, user_id: str, query: str, filters: PaymentFilters
) -> Iterator[Payment]:
    cursor: str | None = None
    while True:
        found = dynamo.payment_search(
            db,
            user_id=user_id,
            query=query,
            cursor=cursor,
            page_size=dynamo.MAX_PAGE_SIZE,
            **_list_filters(filters),
        )
        yield from found.items
        if found.next_cursor is None:
            return
        cursor = found.next_cursor


# --- statistics --------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodSummary:
    count: int
    started: int  # every status except pending and expired
    succeeded: int
    received: dict[str, Decimal]  # executed or settled, per currency
    created: dict[str, Totals]

    @property
    def success_rate(self) -> Decimal | None:
        if not self.started:
            return None
        return (Decimal(self.succeeded) * 100 / self.started).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class StatusLine:
    status: PaymentStatus
    count: int
    amounts: list[tuple[str, Decimal]]


@dataclass(frozen=True)
class CurrencyLine:
    currency: str
    now: Totals
    then: Totals
    received: Decimal
    received_before: Decimal
    received_change: str
    # Executed refunds of this period's payments, and what is left of what was received.
    refunded: Decimal = Decimal(0)
    refunds: int = 0

    @property
    def net(self) -> Decimal:
        return self.received - self.refunded


@dataclass(frozen=True)
class StatsSummary:
    """A period compared with the one before it, and its per-day totals for the charts."""

    previous: DateRange
    now: PeriodSummary
    then: PeriodSummary
    count_change: str
    rate_change: str
    status_lines: list[StatusLine]
    currency_lines: list[CurrencyLine]
    days: list[DailyTotals]
    # The previous period's days, in order (drawn as a line over the bars), and what was read.
    previous_days: list[DailyTotals] = field(default_factory=list)
    items_read: int = 0


def summarise(stats: PaymentStats) -> PeriodSummary:
    started = succeeded = 0
    received: dict[str, Decimal] = {}
    for (status, currency), totals in stats.totals.items():
        if status not in (PaymentStatus.PENDING, PaymentStatus.EXPIRED):
            started += totals.count
        if status in SUCCESSFUL_STATUSES:
            succeeded += totals.count
            received[currency] = received.get(currency, Decimal(0)) + totals.amount
    return PeriodSummary(stats.count, started, succeeded, received, stats.by_currency())


def change(now: Decimal | int, before: Decimal | int) -> str:
    """`+12%`, `-3%`, `new` or `no change`, for a figure next to the one of the period before."""
    if not before:
        return "new" if now else "no change"
    percent = (Decimal(now) - Decimal(before)) * 100 / Decimal(before)
    return f"{percent:+.0f}%"


def read_concurrently(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """Two independent reads at once (boto3 clients are thread-safe): the time of the slower,
    not the sum (`dynamo.run_concurrently`)."""
    a, b = dynamo.run_concurrently([first, second])
    return cast(A, a), cast(B, b)


def payment_stats_summary(
    *, user_id: str, date_range: DateRange, tz: tzinfo, db: Dynamo | None = None
) -> StatsSummary:
    """Totals for a date range by status and currency, compared with the period before it,
    and its daily totals in `tz`. Reads pre-aggregated totals: the cost follows the days."""
    db = db or dynamo.get_dynamo()
    previous = date_range.previous()
    assert date_range.start is not None and date_range.end is not None
    assert previous.start is not None and previous.end is not None
    # Two independent Queries of day items (≈ one item per day each), run at once.
    ranges = [(date_range.start, date_range.end), (previous.start, previous.end)]
    current_period, previous_period = read_concurrently(
        *(
            partial(dynamo.stats_period, db, user_id=user_id, start=start, end=end)
            for start, end in ranges
        )
    )
    current, before = current_period.stats, previous_period.stats
    days = current_period.days
    now, then = summarise(current), summarise(before)
    by_status = current.by_status()
    status_lines = [
        StatusLine(
            status,
            sum(t.count for t in by_status[status].values()),
            sorted((c, t.amount) for c, t in by_status[status].items()),
        )
        for status in PaymentStatus
        if status in by_status
    ]
    currency_lines = []
    for c in sorted(set(now.created) | set(then.created)):
        received = now.received.get(c, Decimal(0))
        received_before = then.received.get(c, Decimal(0))
        refunded = current.refunds.get(c, Totals())
        currency_lines.append(
            CurrencyLine(
                currency=c,
                now=now.created.get(c, Totals()),
                then=then.created.get(c, Totals()),
                received=received,
                received_before=received_before,
                received_change=change(received, received_before),
                refunded=refunded.amount,
                refunds=refunded.count,
            )
        )
    rate_change = (
        f"{now.success_rate - then.success_rate:+.1f} points"
        if now.success_rate is not None and then.success_rate is not None
        else ""
    )
    return StatsSummary(
        previous=previous,
        now=now,
        then=then,
        count_change=change(now.count, then.count),
        rate_change=rate_change,
        status_lines=status_lines,
        currency_lines=currency_lines,
        days=days,
        previous_days=previous_period.days,
        items_read=current.items_read + before.items_read,
    )
