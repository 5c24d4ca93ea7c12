"""Forms in Chromium: a failed submit moves focus to an error summary whose links move focus to
their fields; each invalid field is described by its error; the reference stops at 18
characters and its counter is announced only once typing pauses."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_failed_submit_focuses_the_summary_and_its_links_focus_the_fields(
    simulator_page: Page, live_app: str
) -> None:
    page = simulator_page
    page.goto(f"{live_app}/payments/new/")
    page.get_by_label("Amount").fill("12,50")
    page.get_by_label("Reference").fill("INV(1)")
    page.get_by_role("button", name="Create payment link").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There are 2 problems")
    summary.get_by_role("link", name="Reference:").click()
    expect(page.get_by_label("Reference")).to_be_focused()

    amount = page.get_by_label("Amount")
    expect(amount).to_have_attribute("aria-invalid", "true")
    # The accessible description is the hint and the error, read from their real ids.
    expect(amount).to_have_accessible_description(
        "In pounds or euros, e.g. 12.50 or £1,250.00. "
        "'12,50' is not an amount. Write the amount "
        "like 12.50, £12.50 or 1,250.00."
    )


def test_the_reference_stops_at_18_characters_and_its_count_is_announced_after_a_pause(
    simulator_page: Page, live_app: str
) -> None:
    page = simulator_page
    page.goto(f"{live_app}/payments/new/")
    reference = page.get_by_label("Reference")
    reference.press_sequentially("INV-2026-0001-EXTRA-LONG")
    expect(reference).to_have_value("INV-2026-0001-EXTR")  # 18 characters, then nothing
    status = page.locator('[data-count-status-for="id_reference"]')
    expect(page.locator('[data-count-for="id_reference"]')).to_have_text(
        "No characters left: 18 is the most"
    )
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("No characters left: 18 is the most")  # after the pause
    reference.press("Backspace")
    # Mid-typing, the live region still says what it said: nothing is announced per key.
    expect(status).to_have_text("No characters left: 18 is the most")
    expect(status).to_have_text("1 character left of 18")
