"""Statistics: totals by status and currency, success rate, comparison, and the SVG chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from tests.factories import ALICE, BOB, make_payments
from tests.views.conftest import HTMX, database_down

S = PaymentStatus
RANGE = "/stats/?range=custom&start=2026-01-01&end=2026-01-07"


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
    monkeypatch.setattr(dynamo, "stats_for_range", database_down)
    assert alice.get("/stats/").status_code == 503
