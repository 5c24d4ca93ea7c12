"""Two app servers behind one (imaginary) load balancer share everything a merchant needs.

Servers A and B run gunicorn with the production settings on one PostgreSQL (users, sessions,
the cache) and one DynamoDB Local (payments); Auth0 and TrueLayer are local fakes over HTTPS.
"""

from __future__ import annotations

import re

import pytest

from tests.production.conftest import Browser, Stack

pytestmark = pytest.mark.production

MERCHANT = "auth0|prod-shape-merchant"


def signed_in(stack: Stack, sub: str = MERCHANT) -> Browser:
    browser = stack.browser()
    back = browser.sign_in(stack.a, stack.b, sub)
    assert back.status_code == 302, back.text[:500]
    return browser


def payment_id_from(location: str) -> str:
    match = re.fullmatch(r"/payments/([0-9A-Z]{26})/", location)
    assert match, location
    return match.group(1)


def test_a_merchant_signed_in_through_a_keeps_working_through_b(stack: Stack) -> None:
    browser = stack.browser()

    back = browser.sign_in(start_on=stack.a, finish_on=stack.a, sub=MERCHANT)
    assert back.status_code == 302
    assert back.headers["Location"] == "/"

    on_b = browser.get(stack.b, "/")
    assert on_b.status_code == 200
    assert "Alice Merchant" in on_b.text
    on_a = browser.get(stack.a, "/payments/new/")
    assert on_a.status_code == 200

    # And a stranger's browser gets the sign-in page from either server.
    stranger = stack.browser()
    assert stranger.get(stack.b, "/").status_code == 302
