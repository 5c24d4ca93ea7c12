"""Statistics: totals by status and currency, success rate, comparison, and the SVG chart."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from payments import dynamo, selectors
from payments.domain import DateRange, PaymentStatus
from payments.dynamo import Dynamo
from tests.factories import ALICE, BOB, make_payments
from tests.views.conftest import HTMX, database_down

S = PaymentStatus
RANGE = "/stats/?range=custom&start=2026-01-01&end=2026-01-07"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def week(repo: Dynamo) -> None:
    # 1–7 Jan: executed, settled, failed, pending, authorizing, expired, executed (one a day).
    make_payments(
        repo,
        ALICE,
        7,
        step=timedelta(days=1),
        statuses=(S.EXECUTED, S.SETTLED, S.FAILED, S.PENDING, S.AUTHORIZING, S.EXPIRED),
    )
    # The week before: one failed payment.
    make_payments(
        repo, ALICE, 1, statuses=(S.FAILED,), start=datetime(2025, 12, 28, 12, tzinfo=UTC)
    )
    make_payments(repo, BOB, 5, statuses=(S.SETTLED,))


def test_stats_count_success_rate_and_comparison(alice: Client, week: None) -> None:
    page = alice.get(RANGE).content.decode()
    assert ">7<" in page  # payments created
    # started = all but pending and expired = 5; succeeded = executed+settled = 3
    assert "60.0%" in page
    assert "0.0% before" in page
    assert "Success rate</strong> = payments executed or settled" in page
    assert "25 Dec 2025 – 31 Dec 2025" in page  # the previous period of the same length
    assert "+600%" in page  # 7 payments vs 1


def test_stats_by_status_and_currency(alice: Client, week: None) -> None:
    page = alice.get(RANGE).content.decode()
    by_status = page.split('id="by-status-heading"', 1)[1]
    assert "Executed" in by_status and "Expired" in by_status
    assert "£26.00" in by_status  # executed: 10.00 + 16.00


def test_chart_is_server_rendered_svg_with_one_bar_per_day(alice: Client, week: None) -> None:
    page = alice.get(RANGE).content.decode()
    assert "<svg" in page and "Daily amounts in GBP" in page
    assert page.count('<g class="bar">') == 7
    assert "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_the_chart_table_gives_each_day_by_series_and_its_total(alice: Client, week: None) -> None:
    page = alice.get(RANGE).content.decode()
    table = page.split('<details class="chart-table">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', table)
    cells = {day: re.findall(r'<td class="num">([^<]*)</td>', body) for day, body in rows}
    assert len(cells) == 7
    # Executed or settled, in progress, pending, failed, reversed, expired; then the total.
    assert cells["Thu 1 Jan"] == ["£10.00", "£0.00", "£0.00", "£0.00", "£0.00", "£0.00", "£10.00"]
    assert cells["Sat 3 Jan"][3] == "£12.00" and cells["Sat 3 Jan"][-1] == "£12.00"


def test_htmx_request_gets_only_the_results(alice: Client, week: None) -> None:
    body = alice.get(RANGE, headers=HTMX).content.decode()
    assert "<html" not in body and 'id="stats-results"' in body


def test_default_period_is_the_last_30_days(alice: Client, repo: Dynamo) -> None:
    page = alice.get("/stats/").content.decode()
    assert "(30 days)" in page
    assert 'value="30d" selected' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("range=custom&start=2026-02-01&end=2026-01-01", "The end date is before the start date"),
        ("range=yesterday", "Unknown date range"),
        ("range=custom&start=2020-01-01&end=2026-01-01", "at most 366 days"),
        ("range=custom&end=nope", "Enter the end date like 31 Mar 2025"),
    ],
)
def test_bad_period_gives_the_page_with_a_clear_message(
    alice: Client, repo: Dynamo, query: str, message: str
) -> None:
    response = alice.get(f"/stats/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_failing_database_shows_the_dependency_page_with_503(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamo, "stats_period", database_down)
    assert alice.get("/stats/").status_code == 503


def test_this_month_compares_with_the_same_days_of_the_month_before(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("payments.forms.today", lambda: date(2026, 3, 26))
    page = alice.get("/stats/?range=month").content.decode()
    assert "1 Mar 2026 – 26 Mar 2026 (26 days), compared with 1 Feb 2026 – 26 Feb 2026" in page


def test_this_month_on_the_31st_compares_with_the_whole_shorter_month(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("payments.forms.today", lambda: date(2026, 3, 31))
    page = alice.get("/stats/?range=month").content.decode()
    assert "compared with 1 Feb 2026 – 28 Feb 2026" in page


def test_last_30_days_compares_with_the_30_before(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("payments.forms.today", lambda: date(2026, 3, 26))
    page = alice.get("/stats/?range=30d").content.decode()
    assert "25 Feb 2026 – 26 Mar 2026 (30 days), compared with 26 Jan 2026 – 24 Feb 2026" in page


def test_chart_draws_the_previous_period_as_a_line_in_a_keyboard_scroll_area(
    alice: Client, week: None
) -> None:
    page = alice.get(RANGE).content.decode()
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    # The week before had one failed payment (£10.00) on 28 Dec: day 4 of the previous period.
    assert 'class="previous-period"' in svg and "dashed line: the days compared with" in svg
    area = page.split('class="chart-scroll"', 1)[1].split(">", 1)[0]
    assert 'tabindex="0"' in area and 'role="region"' in area
    assert 'aria-label="Chart of daily amounts in GBP' in area
    assert "Previous period (25 Dec 2025 – 31 Dec 2025)" in page


def test_the_two_periods_are_read_at_the_same_time(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each read waits for the other to have started: read one after the other, they never
    meet and the barrier breaks."""
    both_started = threading.Barrier(2, timeout=5)
    real = dynamo.stats_period

    def meet_then_read(*args: Any, **kwargs: Any) -> Any:
        both_started.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(dynamo, "stats_period", meet_then_read)
    assert alice.get(RANGE).status_code == 200


def test_the_statistics_page_reads_at_most_two_items_per_day(repo: Dynamo) -> None:
    # Two payments on most days of both periods: more payments than days.
    make_payments(
        repo, ALICE, 28, step=timedelta(hours=12), start=datetime(2025, 12, 25, 9, tzinfo=UTC)
    )
    summary = selectors.payment_stats_summary(
        user_id=ALICE,
        date_range=DateRange.of_days("custom", date(2026, 1, 1), date(2026, 1, 7), LONDON),
        tz=LONDON,
        db=repo,
    )
    assert summary.now.count == 14 and summary.then.count == 14
    assert summary.items_read <= 2 * 7
