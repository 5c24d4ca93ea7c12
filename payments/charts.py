"""Server-rendered SVG chart of daily amounts by status: no JavaScript, no network, one string.

One chart per currency (amounts in different currencies are never added up). Each day is a
stacked bar; statuses are grouped into a few series so the colours stay readable, and every bar
has a `<title>` with its numbers (the page also offers the same numbers as a table).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

from payments.domain import DailyTotals, PaymentStatus
from payments.formatting import format_money

_S = PaymentStatus


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str
    statuses: frozenset[PaymentStatus]


# Bottom to top in each bar, and the legend's order.
SERIES: tuple[Series, ...] = (
    Series("received", "Executed or settled", "#1f8a5b", frozenset({_S.EXECUTED, _S.SETTLED})),
    Series(
        "progress",
        "In progress",
        "#3a6fd8",
        frozenset({_S.AUTHORIZATION_REQUIRED, _S.AUTHORIZING, _S.AUTHORIZED, _S.ATTEMPT_FAILED}),
    ),
    Series("pending", "Pending (not paid yet)", "#9aa3b2", frozenset({_S.PENDING})),
    Series("failed", "Failed", "#c8402f", frozenset({_S.FAILED})),
    Series("reversed", "Reversed (money returned)", "#7b3f98", frozenset({_S.REVERSED})),
    Series("expired", "Expired", "#d9a21b", frozenset({_S.EXPIRED})),
)

WIDTH = 720
HEIGHT = 260
LEFT = 64
RIGHT = 12
TOP = 12
BOTTOM = 30


@dataclass(frozen=True)
class DayRow:
    """One day of one currency, split by series (also used for the table under the chart)."""

    day: date
    amounts: tuple[Decimal, ...]  # in SERIES order
    counts: tuple[int, ...]

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, Decimal(0))

    @property
    def count(self) -> int:
        return sum(self.counts)


# Each status's series (its index in SERIES): a day's totals are read once, not once a series.
_SERIES_INDEX: dict[PaymentStatus, int] = {
    status: index for index, series in enumerate(SERIES) for status in series.statuses
}


def day_rows(days: Sequence[DailyTotals], currency: str) -> list[DayRow]:
    rows: list[DayRow] = []
    width = len(SERIES)
    for day in days:
        # Plain sums over the day's own totals (a few statuses): a 90-day page has 180 days.
        amounts = [Decimal(0)] * width
        counts = [0] * width
        for (status, total_currency), totals in day.totals.items():
            index = _SERIES_INDEX.get(status)
            if index is None or total_currency != currency:
                continue
            amounts[index] += totals.amount
            counts[index] += totals.count
        rows.append(DayRow(day.day, tuple(amounts), tuple(counts)))
    return rows


def table_rows(rows: Sequence[DayRow], currency: str) -> list[tuple[str, SafeString]]:
    """The chart's numbers for its table: each day ("Mon 3 Nov") with its series' amounts and
    total as the row's cells, written out here (a 90-day range has 630 amounts per currency:
    a template variable, or a `format_html`, each cost more than the page's DynamoDB reads)."""
    return [
        (
            f"{row.day:%a} {row.day.day} {row.day:%b}",
            mark_safe(  # noqa: S308 - every amount is escaped
                "".join(
                    f'<td class="num">{escape(format_money(a, currency))}</td>'
                    for a in (*row.amounts, row.total)
                )
            ),
        )
        for row in rows
    ]


def currencies_in(days: Sequence[DailyTotals]) -> list[str]:
    found = {currency for day in days for (_status, currency), t in day.totals.items() if t.count}
    return sorted(found)


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above `value` (the top of the axis)."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        candidate = step.scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)  # pragma: no cover


def _axis_label(value: Decimal, currency: str) -> str:
    whole = value.to_integral_value(rounding=ROUND_CEILING) == value
    text = format_money(value, currency)
    return text[:-3] if whole and text.endswith(".00") else text


def _day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


PREVIOUS_COLOUR = "#1b1f27"
# Over this many days the bars get too thin to read or point at: the chart is drawn wider and its
# scroll area scrolls (opening at the last day).
WIDE_AFTER_DAYS = 45


def is_wide(days: Sequence[DailyTotals]) -> bool:
    """Whether the chart of `days` is drawn wider than the page (and scrolls)."""
    return len(days) > WIDE_AFTER_DAYS


def daily_amounts_svg(
    days: Sequence[DailyTotals],
    currency: str,
    previous: Sequence[DailyTotals] = (),
    *,
    rows: Sequence[DayRow] | None = None,
) -> SafeString:
    """A stacked bar chart of each day's amounts in `currency`, by status group, with the
    previous period's daily totals (day 1 over day 1, …) as a dashed line when given. `rows`:
    `day_rows(days, currency)` when the caller has them already (the page's table)."""
    rows = day_rows(days, currency) if rows is None else rows
    before = [r.total for r in day_rows(previous, currency)][: len(rows)]
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top_value = nice_ceiling(max((r.total for r in rows), default=Decimal(0)))
    top_value = max(top_value, nice_ceiling(max(before, default=Decimal(0))))
    slot = plot_w / max(len(rows), 1)
    bar_w = max(slot * 0.72, 1.0)
    title_id = f"chart-{currency.lower()}-title"
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" role="img" aria-labelledby="{title_id}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="11">',
        f'<title id="{title_id}">Daily amounts in {escape(currency)} by status, '
        f"{len(rows)} days{', dashed line: the days compared with' if before else ''}</title>",
    ]
    # Horizontal grid lines with their amounts.
    for i in range(5):
        value = top_value * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#e3e6ec" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#5b6475">'
            f"{escape(_axis_label(value, currency))}</text>"
        )
    label_every = max(1, -(-len(rows) // 8))
    for index, row in enumerate(rows):
        x = LEFT + slot * index + (slot - bar_w) / 2
        y = float(TOP + plot_h)
        tooltip = [f"{_day_label(row.day)}: {format_money(row.total, currency)} in {row.count}"]
        for series, amount, count in zip(SERIES, row.amounts, row.counts, strict=True):
            if count:
                tooltip.append(f"{series.label}: {format_money(amount, currency)} ({count})")
        parts.append(f'<g class="bar"><title>{escape(chr(10).join(tooltip))}</title>')
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP}" width="{bar_w:.1f}" height="{plot_h}" '
            'fill="transparent"/>'
        )
        for series, amount in zip(SERIES, row.amounts, strict=True):
            if amount <= 0:
                continue
            height = float(amount / top_value) * plot_h
            y -= height
            parts.append(
                f'<rect class="series-{series.key}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{bar_w:.1f}" height="{max(height, 0.5):.1f}" fill="{series.colour}"/>'
            )
        parts.append("</g>")
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                f'fill="#5b6475">{escape(_day_label(row.day))}</text>'
            )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        'stroke="#9aa3b2" stroke-width="1"/>'
    )
    if before:
        points = " ".join(
            f"{LEFT + slot * index + slot / 2:.1f},"
            f"{TOP + plot_h - float(total / top_value) * plot_h:.1f}"
            for index, total in enumerate(before)
        )
        parts.append(
            f'<polyline class="previous-period" points="{points}" fill="none" '
            f'stroke="{PREVIOUS_COLOUR}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
