"""The dashboard in real Chromium against DynamoDB Local: filters and the back button, search as
you type, Load more, detail page, CSV export and the statistics chart."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from tests.factories import make_payments, merchant_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = PaymentStatus


@pytest.fixture
def merchant(live_app: str, page: Page) -> str:
    """A fresh merchant (own DynamoDB partition), signed in in the browser."""
    merchant_id = f"auth0|browser{uuid.uuid4().hex[:12]}"
    client = Client()
    client.force_login(
        merchant_user(merchant_id), backend="django.contrib.auth.backends.ModelBackend"
    )
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_app,
            }
        ]
    )
    return merchant_id


@pytest.fixture
def repo(live_app: str) -> Dynamo:
    return dynamo.dynamo_from_settings()


def rows(page: Page) -> list[str]:
    return page.locator("#results a.row-link").all_inner_texts()


def test_status_filter_updates_the_table_and_url_and_back_restores(
    page: Page, live_app: str, merchant: str, repo: Dynamo
) -> None:
    make_payments(repo, merchant, 4, statuses=(S.PENDING, S.FAILED))
    page.goto(f"{live_app}/")
    expect(page.locator("#results a.row-link")).to_have_count(4)

    page.get_by_label("Failed", exact=True).check()
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.locator("#results a.row-link")).to_have_count(2)
    assert sorted(rows(page)) == ["INV 1", "INV 3"]

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"status="))
    expect(page.locator("#results a.row-link")).to_have_count(4)
    expect(page.get_by_label("Failed", exact=True)).not_to_be_checked()

    page.goto(f"{live_app}/?status=failed")  # the same URL opened directly: the full page
    expect(page.locator("#results a.row-link")).to_have_count(2)
    expect(page.get_by_label("Failed", exact=True)).to_be_checked()


def test_search_updates_results_as_you_type(
    page: Page, live_app: str, merchant: str, repo: Dynamo
) -> None:
    make_payments(repo, merchant, 3, reference="HAY {i}")
    make_payments(repo, merchant, 1, reference="NEEDLE 9", start=datetime(2026, 2, 1, tzinfo=UTC))
    page.goto(f"{live_app}/")
    expect(page.locator("#results a.row-link")).to_have_count(4)
    page.get_by_label("Search payments").press_sequentially("needle", delay=40)
    expect(page.locator("#results a.row-link")).to_have_count(1)
    assert rows(page) == ["NEEDLE 9"]
    expect(page).to_have_url(re.compile(r"q=needle"))


def test_load_more_appends_the_next_page(
    page: Page,
    live_app: str,
    merchant: str,
    repo: Dynamo,
    settings: SettingsWrapper,
) -> None:
    settings.PAYMENTS_PAGE_SIZE = 5
    make_payments(repo, merchant, 8)
    page.goto(f"{live_app}/")
    expect(page.locator("#results a.row-link")).to_have_count(5)
    page.get_by_role("link", name="Load more").click()
    expect(page.locator("#results a.row-link")).to_have_count(8)
    expect(page.get_by_role("link", name="Load more")).to_have_count(0)
    assert rows(page) == [f"INV {i}" for i in range(7, -1, -1)]


def test_open_a_payment_from_the_list(
    page: Page, live_app: str, merchant: str, repo: Dynamo
) -> None:
    (payment,) = make_payments(repo, merchant, 1, statuses=(S.SETTLED,))
    page.goto(f"{live_app}/")
    page.get_by_role("link", name="INV 0").click()
    expect(page).to_have_url(f"{live_app}/payments/{payment.payment_id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("£10.00")
    expect(page.locator("#status-panel")).to_contain_text("Settled")


def test_export_downloads_the_filtered_payments(
    page: Page, live_app: str, merchant: str, repo: Dynamo
) -> None:
    made = make_payments(repo, merchant, 4, statuses=(S.PENDING, S.FAILED))
    page.goto(f"{live_app}/?status=failed")
    with page.expect_download() as info:
        page.get_by_role("button", name="Export CSV").click()
    lines = open(info.value.path(), encoding="utf-8-sig").read().splitlines()  # noqa: SIM115
    assert lines[0].startswith("Payment ID,Created (Europe/London)")
    assert [line.split(",")[0] for line in lines[1:-1]] == [made[3].payment_id, made[1].payment_id]
    assert lines[-1] == "# 2 payments"


def test_statistics_chart_is_visible(
    page: Page, live_app: str, merchant: str, repo: Dynamo
) -> None:
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    make_payments(
        repo,
        merchant,
        5,
        start=today - timedelta(days=4),
        step=timedelta(days=1),
        statuses=(S.SETTLED, S.FAILED),
    )
    page.goto(f"{live_app}/stats/?range=7d")
    chart = page.locator("svg.chart").first
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 100  # type: ignore[index]
    expect(page.locator("svg.chart rect.series-received").first).to_be_visible()
    page.get_by_label("Period").select_option("30d")
    expect(page).to_have_url(re.compile(r"range=30d"))
    expect(page.locator(".results-summary")).to_contain_text("(30 days)")


def test_filters_work_without_javascript(
    browser: Browser, page: Page, live_app: str, merchant: str, repo: Dynamo
) -> None:
    make_payments(repo, merchant, 4, statuses=(S.PENDING, S.FAILED))
    context = browser.new_context(java_script_enabled=False)
    try:
        # Playwright types a read Cookie and a SetCookieParam apart; the fields are the same.
        context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
        plain = context.new_page()
        plain.goto(f"{live_app}/")
        plain.get_by_label("Failed", exact=True).check()
        plain.get_by_role("button", name="Apply").click()
        expect(plain).to_have_url(re.compile(r"status=failed"))
        expect(plain.locator("#results a.row-link")).to_have_count(2)
    finally:
        context.close()


def test_filter_error_is_swapped_into_place_with_debug_on(
    page: Page, live_app: str, merchant: str, settings: SettingsWrapper
) -> None:
    # DEBUG on adds django-htmx's debug helper, which would replace the page with any 400.
    settings.DEBUG = True
    page.goto(f"{live_app}/")
    expect(page.locator("script[src*='django-htmx.js']")).to_have_count(1)

    page.get_by_label("Created").select_option("custom")
    page.get_by_label("From").fill("2026-03-10")
    # Dates are text typed as the page writes them: the filter applies when the field is left.
    page.get_by_label("To").fill("1 Mar 2026")
    page.get_by_label("To").press("Tab")

    expect(page.locator("#results [role=alert]")).to_contain_text("before the start date")
    expect(page.get_by_role("heading", name="Payments", level=1)).to_be_visible()
    expect(page.locator("#filters")).to_be_visible()


def test_statistics_on_a_phone_scroll_the_chart_not_the_page_and_open_at_today(
    page: Page, live_app: str, merchant: str, repo: Dynamo
) -> None:
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    make_payments(repo, merchant, 3, start=today - timedelta(days=2), step=timedelta(days=1))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_app}/stats/?range=30d")
    area = page.locator(".chart-scroll").first
    expect(area).to_be_visible()
    expect(page.locator("polyline.previous-period").first).to_be_attached()
    # Nothing scrolls sideways but the chart's own area, which opens at its last day (today).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sizes = area.evaluate("a => [a.scrollWidth, a.clientWidth, a.scrollLeft]")
    assert sizes[0] > sizes[1] and sizes[2] >= sizes[0] - sizes[1] - 1
    # Keyboard users reach it and scroll it with the arrow keys.
    area.focus()
    expect(area).to_be_focused()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        f"() => document.querySelector('.chart-scroll').scrollLeft < {sizes[2]}", timeout=5000
    )
