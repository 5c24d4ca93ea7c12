"""Smoke test: the app serves pages, static files and a screenshot in real Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_app_serves_pages_and_static_files(page: Page, live_app: str, tmp_path: Path) -> None:
    response = page.goto(f"{live_app}{reverse('accounts:login')}")
    assert response is not None and response.status == 200, response and response.status
    # Sign-in starts with a POST (social-auth refuses GET), so the page is a form.
    assert page.locator("form[method=post i]").count() >= 1

    # htmx 2.0.x comes from django-htmx's static files ({% htmx_script %}), not a vendored copy.
    script = page.locator("script[src*='django_htmx/htmx-2']")
    assert script.count() == 1
    served = page.request.get(f"{live_app}{script.get_attribute('src')}")
    assert served.status == 200
    page.wait_for_function("() => typeof window.htmx === 'object'")
    assert page.evaluate("() => window.htmx.version").startswith("2.0.")
    # No inline script: everything the page runs is an external file (a CSP needs no nonce).
    assert page.locator("script:not([src])").count() == 0

    screenshot = tmp_path / "smoke.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 1000
