"""A merchant creates a payment, the payer pays it on the simulator's page, and the merchant
sees it executed on the payments list: the whole loop a newcomer tries after `make run`."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import create_payment

pytestmark = pytest.mark.browser


def test_create_pay_on_the_simulator_and_see_it_executed(
    simulator_page: Page, live_app: str
) -> None:
    page = simulator_page

    link = create_payment(page, live_app, "42.10", "BROWSER-1")
    assert link.startswith(f"{live_app}/simulator/pay/")

    page.goto(link)
    expect(page.get_by_test_id("simulator-banner")).to_contain_text("SIMULATOR")
    expect(page.get_by_test_id("amount")).to_contain_text("42.10 GBP")
    expect(page.get_by_test_id("reference")).to_have_text("BROWSER-1")
    page.get_by_role("button", name="Pay now").click()
    page.get_by_role("button", name="Authorise payment").click()
    expect(page.get_by_test_id("payment-status")).to_have_text("executed")

    page.goto(f"{live_app}/")
    row = page.locator("tr", has_text="BROWSER-1")
    expect(row).to_contain_text("Executed")


def test_a_failed_attempt_then_a_paid_second_shows_both_attempts_and_executed(
    simulator_page: Page, live_app: str
) -> None:
    page = simulator_page
    link = create_payment(page, live_app, "18.00", "TWO-TRIES")
    detail_url = page.url

    page.goto(link)
    page.get_by_role("button", name="Pay now").click()
    page.get_by_role("button", name="Fail payment").click()
    expect(page.get_by_test_id("payment-status").first).to_have_text("failed")

    page.goto(detail_url)
    expect(page.locator("#status-panel")).to_contain_text("Attempt failed")
    expect(page.locator("#status-panel")).to_contain_text("the payer can try again")

    page.goto(link)
    page.get_by_role("button", name="Pay now").click()
    page.get_by_role("button", name="Authorise payment").click()

    page.goto(detail_url)
    panel = page.locator("#status-panel")
    expect(panel).to_contain_text("Executed")
    expect(panel.get_by_test_id("attempt")).to_have_count(2)
    expect(panel.get_by_test_id("attempt").nth(0)).to_contain_text("Failed")
    expect(panel.get_by_test_id("attempt").nth(1)).to_contain_text("Executed")
    page.get_by_text("Webhooks received").click()
    expect(page.get_by_test_id("webhook-log")).to_contain_text("payment_executed")
