"""The product's own pages: a stale tab's CSRF failure (reload, and a sign-out that works),
`GET /accounts/logout/`, and a readable "Back to your payments" button on the 404 page."""

from __future__ import annotations

import re
from pathlib import Path

from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.factories import ALICE, sign_in

ROOT = Path(__file__).resolve().parents[2]


def token_in(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_get_logout_shows_a_sign_out_button_and_signs_nobody_out(alice: Client) -> None:
    response = alice.get("/accounts/logout/")
    assert response.status_code == 200
    assert b'<form method="post" action="/accounts/logout/">' in response.content
    assert SESSION_KEY in alice.session


def test_get_logout_when_signed_out_offers_to_sign_in(client: Client, db: None) -> None:
    response = client.get("/accounts/logout/")
    assert response.status_code == 200
    assert b"You are signed out." in response.content


def test_a_stale_tab_gets_our_page_and_its_sign_out_button_works(db: None) -> None:
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, ALICE)
    browser.get("/accounts/logout/")  # sets the CSRF cookie

    # The form of a tab opened before the token changed.
    stale = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": "x" * 64})
    page = stale.content.decode()
    assert stale.status_code == 403
    assert "Reload the page and try again" in page
    assert "CSRF verification failed" not in page
    assert SESSION_KEY in browser.session

    signed_out = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": token_in(page)})
    assert signed_out.status_code == 302
    assert SESSION_KEY not in browser.session


def test_a_stale_htmx_request_reloads_the_page(db: None) -> None:
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, ALICE)
    response = browser.post("/payments/new/", {}, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response["HX-Refresh"] == "true"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_404_pages_button_is_readable(alice: Client) -> None:
    response = alice.get("/no-such-page/")
    assert response.status_code == 404
    assert b'<a class="button" href="/">Back to your payments</a>' in response.content
    assert b'class="notice notice-error"' in response.content

    css = (ROOT / "static/css/app.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    # `.notice a { color: inherit }` gives the button the notice's dark red on the button's
    # blue; a `.notice a.button` rule (more specific) must give it a readable colour.
    rule = re.search(r"\.notice a\.button\s*\{[^}]*?color:\s*var\(--([a-z-]+)\)", css)
    assert rule, "no colour for buttons inside notices"
    assert contrast(colours[rule.group(1)], colours["accent"]) >= 4.5
    assert contrast(colours["danger-ink"], colours["accent"]) < 4.5  # what it was
