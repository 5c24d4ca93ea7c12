"""An owner invites a viewer to a business account; the viewer signs in through the invitation
link, sees the account's payments, has no Refund button, and a refund forced by hand is 403.
Sign-in is the development sign-in (its identities have a verified email, see the README); the
Auth0 side of invitations is covered in tests/accounts/test_invitations.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, create_payment

pytestmark = pytest.mark.browser


def dev_sign_in(page: Page, merchant_id: str) -> None:
    page.get_by_label("Merchant id").fill(merchant_id)
    page.get_by_role("button", name="Sign in as this merchant").click()


def test_owner_invites_a_viewer_who_sees_payments_but_cannot_refund(
    page: Page,
    browser: Browser,
    live_app: str,
    settings: Any,
    transactional_db: None,
    simulator_on: None,
) -> None:
    settings.DEV_SIGN_IN = True
    settings.TRUELAYER_SIMULATOR_BASE_URL = live_app
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False

    # The owner: a business account, a paid payment in it, and an invitation.
    page.goto(f"{live_app}/accounts/login/")
    dev_sign_in(page, "dev|olivia")
    page.goto(f"{live_app}/accounts/new/")
    page.get_by_label("Business name").fill("Olivia's Shop")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Members of Olivia's Shop")).to_be_visible()
    link = create_payment(page, live_app, "25.00", "TEAM-1")
    detail_url = page.url
    page.goto(link)
    page.get_by_role("button", name="Pay now").click()
    page.get_by_role("button", name="Authorise payment").click()
    expect(page.get_by_test_id("payment-status")).to_have_text("executed")
    page.goto(detail_url)
    expect(page.get_by_role("link", name="Refund", exact=True)).to_be_visible()
    page.goto(f"{live_app}/accounts/members/")
    page.get_by_label("Email address").fill("vera@example.com")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Invite").click()
    invitation = page.get_by_test_id("invitation-link").input_value()
    assert re.match(rf"{re.escape(live_app)}/invitations/[^/]+/$", invitation)

    # The viewer, in a browser of her own.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    viewer = context.new_page()
    try:
        viewer.goto(invitation)
        expect(viewer.get_by_role("heading", name="Join Olivia's Shop")).to_be_visible()
        viewer.get_by_role("link", name="Sign in to accept").click()
        dev_sign_in(viewer, "dev|vera")
        viewer.get_by_role("button", name="Accept the invitation").click()
        expect(viewer.get_by_text("You joined Olivia's Shop as viewer.")).to_be_visible()
        viewer.get_by_role("link", name="TEAM-1").click()
        expect(viewer).to_have_url(detail_url)
        expect(viewer.locator("#status-panel")).to_contain_text("Executed")
        expect(viewer.get_by_role("link", name="Refund", exact=True)).to_have_count(0)
        expect(viewer.get_by_role("link", name="New payment")).to_have_count(0)

        # A refund posted by hand (as a curious viewer could) is refused by the server.
        token = viewer.locator("input[name=csrfmiddlewaretoken]").first.input_value()
        forced = viewer.request.post(
            f"{detail_url}refund/",
            form={"amount": "25.00", "reference": "R", "confirm": "yes"},
            headers={"X-CSRFToken": token},
        )
        assert forced.status == 403
        assert "You cannot do this here" in forced.text()
        viewer.goto(detail_url)
        expect(viewer.get_by_test_id("refund")).to_have_count(0)
    finally:
        context.close()
