"""Signing out ends our session and Auth0's."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.test import Client
from social_django.models import UserSocialAuth

from tests.accounts.conftest import CLIENT_ID, DOMAIN, FakeAuth0, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls")]


def test_sign_out_ends_the_session_then_the_auth0_session(client: Client, auth0: FakeAuth0) -> None:
    sign_in(client)

    response = client.post("/accounts/logout/")

    location = urlsplit(response["Location"])
    assert response.status_code == 302
    assert (location.scheme, location.netloc, location.path) == ("https", DOMAIN, "/v2/logout")
    assert parse_qs(location.query) == {
        "client_id": [CLIENT_ID],
        "returnTo": ["http://testserver/accounts/login/"],
    }
    assert SESSION_KEY not in client.session
    assert client.get("/test/payments/").status_code == 302


def test_sign_out_is_only_a_post(client: Client, auth0: FakeAuth0) -> None:
    sign_in(client)

    # A GET shows the sign-out button (a POST form), and signs nobody out.
    response = client.get("/accounts/logout/")
    assert response.status_code == 200
    assert b'method="post" action="/accounts/logout/"' in response.content
    assert client.get("/test/payments/").status_code == 200


def test_sign_out_needs_the_csrf_token(auth0: FakeAuth0) -> None:
    # Otherwise any site could sign a merchant out.
    browser = Client(enforce_csrf_checks=True)
    user = User.objects.create_user(username="alice")
    UserSocialAuth.objects.create(user=user, provider="auth0", uid="auth0|alice")
    browser.force_login(user)

    assert browser.post("/accounts/logout/").status_code == 403
    assert browser.get("/test/payments/").status_code == 200


def test_signed_out_merchant_is_told_so_on_the_sign_in_page(
    client: Client, auth0: FakeAuth0
) -> None:
    sign_in(client)
    client.post("/accounts/logout/")

    assert "You have signed out." in client.get("/accounts/login/").content.decode()
