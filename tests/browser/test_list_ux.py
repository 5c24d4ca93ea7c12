"""The list and detail pages in real Chromium (issue 12): Back and Forward show the controls of
the URL shown, Back from a payment returns to the same rows and scroll position, one live
request per page (none while hidden or when nothing can change), and the phone layout."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from playwright.sync_api import Browser, Page, Request, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from payments.views import dashboard
from tests.factories import make_payments, merchant_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = PaymentStatus
# Lets a test say the tab is hidden: Chromium's headless tab is always "visible".
VISIBILITY_SWITCH = """
Object.defineProperty(document, "visibilityState", {
  configurable: true, get: function () { return window.__visibility || "visible"; }
});
"""


def sign_in(page: Page, live_app: str) -> str:
    merchant_id = f"auth0|browser{uuid.uuid4().hex[:12]}"
    client = Client()
    client.force_login(
        merchant_user(merchant_id), backend="django.contrib.auth.backends.ModelBackend"
    )
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_app}]
    )
    return merchant_id


@pytest.fixture
def merchant(live_app: str, page: Page) -> str:
    return sign_in(page, live_app)


@pytest.fixture
def repo(live_app: str) -> Dynamo:
    return dynamo.dynamo_from_settings()


@pytest.fixture
def phone(browser: Browser, live_app: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def rows(page: Page) -> int:
    return page.locator("#results tr.payment-row").count()


def test_back_and_forward_show_the_filters_of_the_url(
    page: Page, live_app: str, merchant: str, repo: Dynamo
) -> None:
    # 0 pending GBP, 1 failed EUR, 2 failed GBP, 3 pending EUR, 4 failed GBP, 5 failed EUR
    make_payments(
        repo, merchant, 6, currencies=("GBP", "EUR"), statuses=(S.PENDING, S.FAILED, S.FAILED)
    )
    page.goto(f"{live_app}/")
    failed = page.get_by_label("Failed", exact=True)
    currency = page.get_by_label("Currency")

    failed.check()
    expect(page).to_have_url(re.compile(r"status=failed"))
    currency.select_option("EUR")
    expect(page).to_have_url(re.compile(r"status=failed.*currency=EUR"))
    expect(page.locator("#results tr.payment-row")).to_have_count(2)

    page.go_back()  # status=failed only
    expect(page).not_to_have_url(re.compile(r"currency=EUR"))
    expect(page.locator("#results tr.payment-row")).to_have_count(4)
    expect(page.get_by_label("Failed", exact=True)).to_be_checked()
    expect(page.get_by_label("Currency")).to_have_value("")

    page.go_back()  # nothing
    expect(page.locator("#results tr.payment-row")).to_have_count(6)
    expect(page.get_by_label("Failed", exact=True)).not_to_be_checked()

    page.go_forward()
    page.go_forward()
    expect(page).to_have_url(re.compile(r"status=failed.*currency=EUR"))
    expect(page.get_by_label("Failed", exact=True)).to_be_checked()
    expect(page.get_by_label("Currency")).to_have_value("EUR")
    expect(page.locator("#results-count")).to_contain_text("1–2 of 2 payments")

    # The next change after Back submits what the controls show, not what was there before.
    page.go_back()
    expect(page.get_by_label("Currency")).to_have_value("")
    page.get_by_label("Pending", exact=True).check()
    expect(page).to_have_url(re.compile(r"status=pending"))
    assert "currency=EUR" not in page.url and "status=failed" in page.url


def test_back_from_a_payment_returns_to_the_same_rows_and_scroll_position(
    page: Page, live_app: str, merchant: str, repo: Dynamo, settings: SettingsWrapper
) -> None:
    settings.PAYMENTS_PAGE_SIZE = 10
    make_payments(repo, merchant, 25, statuses=(S.SETTLED,))
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto(f"{live_app}/")
    expect(page.locator("#results-count")).to_have_text(re.compile(r"1–10 of 25 payments"))
    page.get_by_role("link", name="Load more").click()
    expect(page.locator("#results tr.payment-row")).to_have_count(20)
    expect(page).to_have_url(re.compile(r"pages=2"))
    expect(page.locator("#results-count")).to_have_text(re.compile(r"1–20 of 25 payments"))

    target = page.get_by_role("link", name="INV 7", exact=True)
    target.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 200
    target.click()
    expect(page).to_have_url(re.compile(r"/payments/[0-9A-Z]{26}/$"))

    page.go_back()
    expect(page).to_have_url(re.compile(r"pages=2"))
    expect(page.locator("#results tr.payment-row")).to_have_count(20)
    page.wait_for_function("window.scrollY > 0")
    assert abs(page.evaluate("window.scrollY") - scrolled) < 40

    page.reload()  # the URL alone brings the 20 rows back
    expect(page.locator("#results tr.payment-row")).to_have_count(20)


def test_the_whole_row_opens_the_payment(
    page: Page, live_app: str, merchant: str, repo: Dynamo
) -> None:
    (payment,) = make_payments(repo, merchant, 1, statuses=(S.SETTLED,))
    page.goto(f"{live_app}/")
    # A real mouse click on a cell that is not the link: the stretched link takes it.
    box = page.locator("#results tr.payment-row td[data-label='Created']").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(f"{live_app}/payments/{payment.payment_id}/")


def live_requests(page: Page) -> list[str]:
    seen: list[str] = []

    def on_request(request: Request) -> None:
        if "/live/" in request.url or "/status/" in request.url:
            seen.append(request.url)

    page.on("request", on_request)
    return seen


def test_one_live_request_per_poll_for_the_whole_list_and_none_while_hidden(
    page: Page, live_app: str, merchant: str, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "POLL_LIST", "every 1s")
    made = make_payments(repo, merchant, 12)  # all pending: every row can change
    page.add_init_script(VISIBILITY_SWITCH)
    seen = live_requests(page)
    page.goto(f"{live_app}/")
    expect(page.locator("#results tr.payment-row")).to_have_count(12)
    page.wait_for_timeout(3_500)
    # One request a second for all 12 rows (it was 12 a poll: one per row).
    assert 2 <= len(seen) <= 5, seen
    assert all("/live/" in url for url in seen)
    assert all(p.payment_id in seen[0] for p in made)

    page.evaluate("window.__visibility = 'hidden'")
    page.wait_for_timeout(500)
    before = len(seen)
    page.wait_for_timeout(2_500)
    assert len(seen) == before, "no request while the tab is hidden"

    page.evaluate("window.__visibility = 'visible'")
    page.wait_for_timeout(2_500)
    assert len(seen) > before


def test_live_update_swaps_a_moved_row_and_stops_when_none_can_change(
    page: Page, live_app: str, merchant: str, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import reach

    monkeypatch.setattr(dashboard, "POLL_LIST", "every 1s")
    (payment,) = make_payments(repo, merchant, 1)
    seen = live_requests(page)
    page.goto(f"{live_app}/")
    expect(page.locator("#results .live-status")).to_contain_text("Pending")
    reach(repo, payment, S.FAILED)
    expect(page.locator("#results .live-status")).to_contain_text("Failed")
    page.wait_for_timeout(500)
    before = len(seen)
    page.wait_for_timeout(2_500)
    assert len(seen) == before, "nothing on the page can change: no more requests"


def test_the_detail_page_polls_once_and_closes_the_link_live(
    page: Page, live_app: str, merchant: str, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import reach

    monkeypatch.setattr(dashboard, "POLL_DETAIL", "every 1s")
    (payment,) = make_payments(repo, merchant, 1)
    payment = dynamo.payment_link_set(
        repo,
        user_id=merchant,
        payment_id=payment.payment_id,
        link_id="link-live",
        link_url="https://payment.truelayer-sandbox.com/link/live",
        response={"id": "link-live"},
    )
    seen = live_requests(page)
    page.goto(f"{live_app}/payments/{payment.payment_id}/")
    expect(page.get_by_label("Send this link to the payer")).to_be_visible()
    page.wait_for_timeout(2_500)
    assert 1 <= len(seen) <= 4, seen  # one request a poll, for the whole page
    reach(repo, payment, S.EXPIRED)
    expect(page.get_by_test_id("link-closed")).to_contain_text("Link closed — expired")
    expect(page.get_by_label("Send this link to the payer")).to_have_count(0)
    expect(page.get_by_role("button", name="Refresh status")).to_have_count(0)


def test_phone_filters_fold_first_payment_visible_nothing_scrolls_sideways(
    phone: Page, live_app: str, repo: Dynamo
) -> None:
    merchant = sign_in(phone, live_app)
    dynamo.payment_create(
        repo,
        user_id=merchant,
        amount=__import__("decimal").Decimal("12.50"),
        currency="GBP",
        reference="A-VERY-LONG-REF-18",
        payer_name="Maximilian Alexander Featherstonehaugh-Worthington",
        payer_email="maximilian.alexander.featherstonehaugh@very-long-domain.example.com",
    )
    make_payments(repo, merchant, 3, statuses=(S.FAILED,))
    phone.goto(f"{live_app}/?status=failed")
    summary = phone.locator("#filters-toggle > summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Failed")
    expect(phone.locator("#filters")).to_be_hidden()
    first = phone.locator("#results tr.payment-row").first
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844, box
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.goto(f"{live_app}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    summary.click()
    expect(phone.locator("#filters")).to_be_visible()
    phone.get_by_label("Failed", exact=True).check()
    expect(phone.locator("#filters-active")).to_have_text("Failed")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
