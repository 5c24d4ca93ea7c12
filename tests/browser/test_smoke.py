"""Smoke test: the app serves pages, static files and a screenshot in real Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_app_serves_pages_and_static_files(page: Page, live_app: str, tmp_path: Path) -> None:
    htmx = page.request.get(f"{live_app}/static/js/htmx.min.js")
    assert htmx.ok, htmx.status
    assert "htmx" in htmx.text()[:2000]

    try:
        login_path = reverse("accounts:login")
    except NoReverseMatch:
        login_path = None  # Sign-in page not built yet: check the 404 page renders instead.

    if login_path is not None:
        response = page.goto(f"{live_app}{login_path}")
        assert response is not None and response.ok, response and response.status
        # Sign-in starts with a POST (social-auth refuses GET), so the page is a form.
        assert page.locator("form[method=post i]").count() >= 1
        # The page loaded htmx from our own static files.
        page.wait_for_function("() => typeof window.htmx === 'object'")
    else:
        response = page.goto(f"{live_app}/no-such-page-{tmp_path.name}/")
        assert response is not None and response.status == 404
        assert page.locator("body").inner_text().strip()

    screenshot = tmp_path / "smoke.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 1000
