"""The server-rendered SVG chart of daily amounts."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from payments import charts
from payments.domain import DailyTotals, PaymentStatus, Totals

S = PaymentStatus


def days() -> list[DailyTotals]:
    return [
        DailyTotals(date(2026, 1, 1), {(S.SETTLED, "GBP"): Totals(2, Decimal("30.00"))}),
        DailyTotals(date(2026, 1, 2), {}),
        DailyTotals(
            date(2026, 1, 3),
            {
                (S.FAILED, "GBP"): Totals(1, Decimal("5.00")),
                (S.EXECUTED, "GBP"): Totals(1, Decimal("10.00")),
                (S.SETTLED, "EUR"): Totals(1, Decimal("99.00")),
            },
        ),
    ]


def test_chart_is_standalone_svg_with_a_bar_per_day_and_titles() -> None:
    svg = str(charts.daily_amounts_svg(days(), "GBP"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('<g class="bar">') == 3
    assert "1 Jan: £30.00 in 2" in svg
    assert "Failed: £5.00 (1)" in svg
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_currencies_are_never_added_together() -> None:
    rows = charts.day_rows(days(), "GBP")
    assert [r.total for r in rows] == [Decimal("30.00"), Decimal(0), Decimal("15.00")]
    assert charts.currencies_in(days()) == ["EUR", "GBP"]


def test_axis_top_is_a_round_number_above_the_largest_day() -> None:
    assert charts.nice_ceiling(Decimal("30")) == Decimal("50")
    assert charts.nice_ceiling(Decimal("120")) == Decimal("200")
    assert charts.nice_ceiling(Decimal("0")) == Decimal("1")


def test_empty_range_still_draws_axes() -> None:
    svg = str(charts.daily_amounts_svg([DailyTotals(date(2026, 1, 1), {})], "GBP"))
    assert "<line" in svg and 'class="series-' not in svg


def test_the_previous_period_is_a_dashed_line_with_one_point_per_day() -> None:
    svg = str(charts.daily_amounts_svg(days(), "GBP", previous=days()))
    line = svg.split('class="previous-period"', 1)[1].split("/>", 1)[0]
    points = line.split('points="', 1)[1].split('"', 1)[0].split()
    assert len(points) == len(days())
    assert "stroke-dasharray" in line
    assert "dashed line: the days compared with" in svg
    assert 'class="previous-period"' not in str(charts.daily_amounts_svg(days(), "GBP"))


def test_the_table_writes_each_series_amount_and_the_day_total() -> None:
    table = charts.table_rows(charts.day_rows(days(), "GBP"), "GBP")
    assert [day for day, _ in table] == ["Thu 1 Jan", "Fri 2 Jan", "Sat 3 Jan"]
    cells = [re.findall(r'<td class="num">([^<]*)</td>', row) for _, row in table]
    received, progress, pending, failed, reversed_, expired, total = cells[2]
    assert (received, failed, total) == ("£10.00", "£5.00", "£15.00")
    assert {progress, pending, reversed_, expired} == {"£0.00"}
    assert cells[0][-1] == "£30.00" and cells[1][-1] == "£0.00"
