"""Browser tests: Debian's Chromium driven by Playwright's sync API against the live app.

`live_app` serves the Django app (pytest-django's `live_server`, in a thread of this process)
against the session's DynamoDB Local, with tables of their own for this session. `page` is a
fresh browser context and page per test. Without /usr/bin/chromium the tests are skipped, except
in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import skip_or_fail

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse the
# database work pytest-django does around each test (SynchronousOnlyOperation).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def browser_dynamodb(dynamodb_local_endpoint: str) -> Iterator[dict[str, Any]]:
    """Points the app's settings at DynamoDB Local with table names unique to this session and
    creates the tables through payments.dynamo. Restores the settings afterwards."""
    from django.conf import settings

    suffix = uuid.uuid4().hex[:8]
    overrides: dict[str, Any] = {
        "DYNAMODB_ENDPOINT_URL": dynamodb_local_endpoint,
        "DYNAMODB_TABLE": f"BrowserPayments{suffix}",
        "DYNAMODB_META_TABLE": f"BrowserPayments{suffix}Meta",
    }
    saved = {name: getattr(settings, name) for name in overrides}
    for name, value in overrides.items():
        setattr(settings, name, value)
    try:
        from payments import dynamo

        dynamo.tables_ensure(dynamo.dynamo_from_settings())
        yield overrides
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


@pytest.fixture
def live_app(live_server: LiveServer, browser_dynamodb: dict[str, Any]) -> str:
    """Base URL (no trailing slash) of the app served against DynamoDB Local."""
    return str(live_server.url)


@pytest.fixture
def simulator_page(
    page: Page,
    live_app: str,
    settings: Any,
    transactional_db: None,
    simulator_on: None,
) -> Page:
    """The browser signed in as ALICE on the live app, in simulator mode with links pointing at
    the live app (so the payer's pages open in the same browser)."""
    from django.conf import settings as django_settings
    from django.test import Client

    from tests.factories import ALICE, sign_in

    settings.TRUELAYER_SIMULATOR_BASE_URL = live_app
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    client = Client()
    sign_in(client, ALICE)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_app}]
    )
    return page


def create_payment(page: Page, live_app: str, amount: str, reference: str, **extra: str) -> str:
    """Fill in and submit "New payment" (`extra`: more fields by label); the simulator link
    it made. The page is left on the new payment's detail page."""
    import re

    from playwright.sync_api import expect

    page.goto(f"{live_app}/payments/new/")
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Reference").fill(reference)
    for label, value in extra.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Create payment link").click()
    expect(page).to_have_url(re.compile(r"/payments/[0-9A-Z]{26}/$"))
    return page.locator("#payment-link").input_value()
