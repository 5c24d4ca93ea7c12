"""A merchant refunds a payment in two parts from its page, the simulator's bank executes both
refunds, and the list shows "refunded" and the statistics the net volume."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import create_payment

pytestmark = pytest.mark.browser


def money(text: str) -> Decimal:
    return Decimal(text.strip().lstrip("£").replace(",", ""))


def test_pay_refund_part_then_the_rest_and_see_refunded_and_net_volume(
    simulator_page: Page, live_app: str
) -> None:
    page = simulator_page
    link = create_payment(page, live_app, "30.00", "REFUND-ME", **{"Payer name": "Pat Payer"})
    detail_url = page.url

    page.goto(link)
    page.get_by_role("button", name="Pay now").click()
    page.get_by_role("button", name="Authorise payment").click()
    expect(page.get_by_test_id("payment-status")).to_have_text("executed")

    # Part: 10.00 of 30.00.
    page.goto(detail_url)
    page.get_by_role("link", name="Refund", exact=True).click()
    expect(page.get_by_label("Amount")).to_have_value("30.00")
    page.get_by_label("Amount").fill("10.00")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("refund-confirmation")).to_contain_text("£10.00")
    expect(page.get_by_test_id("refund-confirmation")).to_contain_text("GBP")
    expect(page.get_by_test_id("refund-confirmation")).to_contain_text("Pat Payer")
    page.get_by_role("button", name="Refund £10.00").click()
    expect(page).to_have_url(detail_url)
    expect(page.get_by_test_id("refund-amounts")).to_contain_text("remaining £20.00")

    page.goto(link)
    page.get_by_role("button", name="Execute refund").click()
    expect(page.get_by_test_id("refund-status")).to_have_text("executed")

    # The rest: the form offers exactly what remains.
    page.goto(detail_url)
    expect(page.get_by_test_id("refund-label")).to_have_text("partially refunded")
    page.get_by_role("link", name="Refund", exact=True).click()
    expect(page.get_by_label("Amount")).to_have_value("20.00")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Refund £20.00").click()
    expect(page.get_by_test_id("refund-amounts")).to_contain_text("remaining £0.00")

    page.goto(link)
    page.get_by_role("button", name="Execute refund").click()
    expect(page.get_by_test_id("refund-status")).to_have_text(["executed", "executed"])

    page.goto(f"{live_app}/")
    row = page.locator("tr", has_text="REFUND-ME")
    expect(row.get_by_test_id("refund-badge")).to_have_text("refunded")

    page.goto(f"{live_app}/stats/?range=7d")
    net = page.get_by_test_id("net-GBP")
    expect(net).to_contain_text("refunded £30.00 (2 refunds)")
    # Other browser tests of the session pay in GBP too: net = received − refunded.
    received = page.locator(".kpi", has_text="Received in GBP").locator(".kpi-value")
    assert money(net.locator(".kpi-value").inner_text()) == (
        money(received.inner_text()) - Decimal("30.00")
    )
