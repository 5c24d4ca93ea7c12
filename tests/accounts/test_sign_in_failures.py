"""Every way a sign-in can fail ends on a page that says what happened and offers to try
again: never a 500, never a traceback, never signed in."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.accounts.conftest import (
    FakeAuth0,
    jwks_for,
    make_id_token,
    new_rsa_key,
    return_from_auth0,
    start_sign_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls")]

NEXT = "/test/payments/?status=failed"


def failure_page(client: Client, response: Any) -> str:
    """Follow the callback's redirect to the failure page and return its text."""
    assert response.status_code == 302, response
    assert response["Location"].startswith("/accounts/error/")
    page = client.get(response["Location"])
    assert page.status_code == 200
    html: str = page.content.decode()
    assert "Traceback" not in html
    assert 'href="/accounts/login/?next=%2Ftest%2Fpayments%2F%3Fstatus%3Dfailed"' in html
    assert "Try signing in again" in html
    assert SESSION_KEY not in client.session
    return html


def fail_with_id_token(client: Client, auth0: FakeAuth0, id_token: str) -> str:
    auth0.answer_token(id_token=id_token)
    return failure_page(client, return_from_auth0(client, start_sign_in(client, NEXT)))


def test_cancelling_at_auth0_says_sign_in_was_cancelled(client: Client, auth0: FakeAuth0) -> None:
    start = start_sign_in(client, NEXT)

    response = client.get(
        "/complete/auth0/",
        {"error": "access_denied", "error_description": "User cancelled", "state": start.state},
    )

    assert "Sign-in was cancelled" in failure_page(client, response)
    assert auth0.token_requests == []


def test_callback_without_state_says_the_sign_in_expired(client: Client, auth0: FakeAuth0) -> None:
    start_sign_in(client, NEXT)

    response = client.get("/complete/auth0/", {"code": "auth-code-1"})

    assert "This sign-in has expired" in failure_page(client, response)
    assert auth0.token_requests == []


def test_replayed_callback_is_refused(client: Client, auth0: FakeAuth0) -> None:
    used = start_sign_in(client, NEXT)
    return_from_auth0(client, used)
    client.post("/accounts/logout/")
    start_sign_in(client, NEXT)

    response = return_from_auth0(client, used)  # the first sign-in's callback, again

    assert "This sign-in has expired" in failure_page(client, response)
    assert len(auth0.token_requests) == 1


def test_callback_with_a_state_from_another_browser_is_refused(
    client: Client, auth0: FakeAuth0
) -> None:
    attacker_start = start_sign_in(Client())
    start_sign_in(client, NEXT)

    response = return_from_auth0(client, attacker_start)

    assert "This sign-in has expired" in failure_page(client, response)
    assert auth0.token_requests == []


def test_id_token_with_a_bad_signature_is_refused(client: Client, auth0: FakeAuth0) -> None:
    forged = make_id_token(new_rsa_key())  # same kid, someone else's key

    html = fail_with_id_token(client, auth0, forged)

    assert "We could not verify your sign-in" in html


def test_id_token_for_another_application_is_refused(client: Client, auth0: FakeAuth0) -> None:
    html = fail_with_id_token(client, auth0, make_id_token(aud="some-other-client"))

    assert "We could not verify your sign-in" in html


def test_id_token_from_another_issuer_is_refused(client: Client, auth0: FakeAuth0) -> None:
    html = fail_with_id_token(client, auth0, make_id_token(iss="https://evil.example/"))

    assert "We could not verify your sign-in" in html


def test_expired_id_token_is_refused(client: Client, auth0: FakeAuth0) -> None:
    now = int(time.time())

    html = fail_with_id_token(client, auth0, make_id_token(iat=now - 700, exp=now - 100))

    assert "Your sign-in expired before it arrived" in html


def test_id_token_signed_by_a_key_auth0_does_not_publish_is_refused(
    client: Client, auth0: FakeAuth0
) -> None:
    auth0.serve_jwks(jwks_for(new_rsa_key()))

    html = fail_with_id_token(client, auth0, make_id_token())

    assert "We could not verify your sign-in" in html


def test_code_refused_by_the_token_endpoint_says_auth0_did_not_accept_it(
    client: Client, auth0: FakeAuth0
) -> None:
    auth0.answer_token(
        status=403,
        body={"error": "invalid_grant", "error_description": "Invalid authorization code"},
    )

    response = return_from_auth0(client, start_sign_in(client, NEXT))

    html = failure_page(client, response)
    assert "Auth0 did not accept this sign-in" in html
    assert "Invalid authorization code" not in html  # Auth0's own words are not echoed


def test_wrong_client_secret_says_sign_in_is_not_set_up(client: Client, auth0: FakeAuth0) -> None:
    auth0.answer_token(
        status=401, body={"error": "invalid_client", "error_description": "Unauthorized"}
    )

    html = failure_page(client, return_from_auth0(client, start_sign_in(client, NEXT)))

    assert "Sign-in is not set up correctly" in html


def test_unreachable_token_endpoint_says_auth0_could_not_be_reached(
    client: Client, auth0: FakeAuth0
) -> None:
    auth0.answer_token(body=requests.ConnectionError("Connection refused"))

    html = failure_page(client, return_from_auth0(client, start_sign_in(client, NEXT)))

    assert "Auth0 could not be reached" in html


def test_unreachable_jwks_endpoint_says_auth0_could_not_be_reached(
    client: Client, auth0: FakeAuth0
) -> None:
    auth0.serve_jwks(requests.ConnectionError("Name or service not known"))

    html = failure_page(client, return_from_auth0(client, start_sign_in(client, NEXT)))

    assert "Auth0 could not be reached" in html


def test_slow_auth0_says_auth0_could_not_be_reached(client: Client, auth0: FakeAuth0) -> None:
    auth0.answer_token(body=requests.ReadTimeout("read timed out"))

    html = failure_page(client, return_from_auth0(client, start_sign_in(client, NEXT)))

    assert "Auth0 could not be reached" in html


def test_failure_page_shows_only_its_own_words_not_text_from_the_url(client: Client) -> None:
    response = client.get(
        "/accounts/error/",
        {"error_code": "no-such-code", "message": "Call +44 000 to unlock your account"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Sign-in failed" in html
    assert "unlock your account" not in html
