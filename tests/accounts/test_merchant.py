"""`merchant_required` and `merchant_id`: what payment views rely on for scoping."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.test import Client, RequestFactory
from social_django.models import UserSocialAuth

from accounts.merchant import NotAMerchant, merchant_id

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls")]


def merchant(uid: str = "auth0|alice", provider: str = "auth0") -> User:
    user = User.objects.create_user(username=uid)
    UserSocialAuth.objects.create(user=user, provider=provider, uid=uid)
    return user


def test_anonymous_visitor_is_sent_to_sign_in_and_back(client: Client) -> None:
    response = client.get("/test/payments/?status=failed&page=2")

    assert response.status_code == 302
    assert response["Location"] == (
        "/accounts/login/?next=/test/payments/%3Fstatus%3Dfailed%26page%3D2"
    )


def test_anonymous_htmx_request_makes_the_browser_go_to_sign_in(client: Client) -> None:
    response = client.get(
        "/test/payments/?cursor=abc",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/payments/?q=ref"},
    )

    assert response.status_code == 200
    assert response.content == b""  # nothing to swap into the table
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fpayments%2F%3Fq%3Dref"


def test_anonymous_htmx_request_from_another_site_returns_to_the_dashboard(
    client: Client,
) -> None:
    response = client.get(
        "/test/payments/",
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/payments/"},
    )

    assert response["HX-Redirect"] == "/accounts/login/?next=%2F"


def test_signed_in_merchant_sees_payments_of_their_auth0_sub(client: Client) -> None:
    user = merchant("auth0|alice")
    client.force_login(user)

    response = client.get("/test/payments/")

    assert response.content.decode() == "payments of auth0|alice"


def test_each_merchant_gets_their_own_id(client: Client) -> None:
    merchant("auth0|alice")
    bob = merchant("auth0|bob")
    client.force_login(bob)

    assert client.get("/test/payments/").content.decode() == "payments of auth0|bob"


def test_signed_in_user_without_an_auth0_identity_is_refused(client: Client) -> None:
    client.force_login(User.objects.create_user(username="admin"))

    assert client.get("/test/payments/").status_code == 403


def test_development_identity_means_nothing_with_debug_off(client: Client) -> None:
    client.force_login(merchant("dev|alice", provider="dev"))

    assert client.get("/test/payments/").status_code == 403


def test_user_with_two_auth0_identities_is_refused_rather_than_guessed(client: Client) -> None:
    user = merchant("auth0|alice")
    UserSocialAuth.objects.create(user=user, provider="auth0", uid="auth0|other")
    client.force_login(user)

    assert client.get("/test/payments/").status_code == 403


def test_merchant_id_refuses_an_anonymous_request(rf: RequestFactory) -> None:
    request = rf.get("/")
    request.user = AnonymousUser()

    with pytest.raises(NotAMerchant):
        merchant_id(request)
