"""The development sign-in: for a local run without Auth0, impossible with DEBUG off."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls")]

local_run = override_settings(DEBUG=True, DEV_SIGN_IN=True)


@pytest.mark.parametrize("method", ["get", "post"])
def test_development_sign_in_does_not_exist_with_debug_off(client: Client, method: str) -> None:
    # Even if DEV_SIGN_IN were somehow left on, DEBUG is checked on every request.
    with override_settings(DEBUG=False, DEV_SIGN_IN=True):
        response = getattr(client, method)("/accounts/dev-login/", {"merchant_id": "dev|alice"})

    assert response.status_code == 404
    assert not User.objects.exists()


def test_development_sign_in_is_off_when_auth0_is_configured(client: Client) -> None:
    with override_settings(DEBUG=True, DEV_SIGN_IN=False):
        assert client.get("/accounts/dev-login/").status_code == 404


def test_production_sign_in_page_offers_no_development_sign_in(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()

    assert "Development sign-in" not in html
    assert "dev-login" not in html


@local_run
def test_local_sign_in_page_offers_a_clearly_labelled_development_sign_in(
    client: Client,
) -> None:
    html = client.get("/accounts/login/").content.decode()

    assert "Development sign-in" in html
    assert "Sign in as dev|alice" in html
    assert 'action="/accounts/dev-login/"' in html
    assert "/login/auth0/" not in html


@local_run
def test_development_sign_in_makes_you_that_merchant(client: Client) -> None:
    response = client.post(
        "/accounts/dev-login/", {"merchant_id": "dev|alice", "next": "/test/payments/"}
    )

    assert response["Location"] == "/test/payments/"
    assert client.get("/test/payments/").content.decode() == "payments of dev|alice"
    header = client.get("/test/page/").content.decode()
    assert "dev|alice" in header
    assert "development sign-in" in header


@local_run
def test_a_typed_merchant_id_works_too_and_is_the_same_merchant_next_time(client: Client) -> None:
    client.post("/accounts/dev-login/", {"merchant_id": "dev|carol"})
    client.post("/accounts/logout/")
    client.post("/accounts/dev-login/", {"merchant_id": "dev|carol"})

    assert client.get("/test/payments/").content.decode() == "payments of dev|carol"
    assert User.objects.count() == 1


@local_run
def test_development_sign_out_returns_to_the_sign_in_page(client: Client) -> None:
    client.post("/accounts/dev-login/", {"merchant_id": "dev|alice"})

    response = client.post("/accounts/logout/")

    assert response["Location"] == "/accounts/login/"
    assert client.get("/test/payments/").status_code == 302


@local_run
def test_malformed_merchant_id_is_explained(client: Client) -> None:
    response = client.post("/accounts/dev-login/", {"merchant_id": "alice<script>"})

    assert response.status_code == 400
    assert "for example dev|alice" in response.content.decode()
    assert not User.objects.exists()


@local_run
def test_development_sign_in_never_redirects_off_site(client: Client) -> None:
    response = client.post(
        "/accounts/dev-login/", {"merchant_id": "dev|alice", "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"
