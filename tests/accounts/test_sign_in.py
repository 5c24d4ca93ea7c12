"""Signing in through Auth0: the real backend, driven from the button to the callback."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.test import Client
from social_django.models import UserSocialAuth

from tests.accounts.conftest import (
    CLIENT_ID,
    DOMAIN,
    MERCHANT_SUB,
    FakeAuth0,
    make_id_token,
    return_from_auth0,
    s256,
    sign_in,
    start_sign_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls")]


def test_sign_in_page_has_one_button_that_posts_to_auth0_with_csrf_and_next(
    client: Client,
) -> None:
    response = client.get("/accounts/login/", {"next": "/payments/?status=failed"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<button") == 1
    assert 'action="/login/auth0/"' in html
    assert 'method="post"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="next" value="/payments/?status=failed"' in html


def test_sign_in_page_drops_an_off_site_next(client: Client) -> None:
    response = client.get("/accounts/login/", {"next": "https://evil.example/phish"})

    assert "evil.example" not in response.content.decode()


def test_sign_in_button_works_with_csrf_checks_on(auth0: FakeAuth0) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/")
    token = page.context["csrf_token"]

    response = browser.post("/login/auth0/", {"csrfmiddlewaretoken": str(token)})

    assert response.status_code == 302
    assert response["Location"].startswith(f"https://{DOMAIN}/authorize?")


def test_sign_in_cannot_be_started_by_a_get(client: Client) -> None:
    # A GET would let any site sign a merchant in (login CSRF).
    assert client.get("/login/auth0/").status_code == 405


def test_sign_in_sends_the_browser_to_auth0_with_a_pkce_challenge(client: Client) -> None:
    start = start_sign_in(client)

    assert start.authorize_url.startswith(f"https://{DOMAIN}/authorize?")
    assert start.params["client_id"] == CLIENT_ID
    assert start.params["redirect_uri"] == "http://testserver/complete/auth0/"
    assert start.params["code_challenge_method"] == "S256"
    assert len(start.params["code_challenge"]) == 43
    assert start.params["scope"].split() == ["openid", "profile", "email"]
    assert start.state


def test_the_code_is_exchanged_with_the_verifier_that_matches_the_challenge(
    client: Client, auth0: FakeAuth0
) -> None:
    start = start_sign_in(client)

    return_from_auth0(client, start)

    [token_request] = auth0.token_requests
    assert token_request["code"] == ["auth-code-1"]
    assert s256(token_request["code_verifier"][0]) == start.params["code_challenge"]


def test_merchant_lands_where_they_were_going(client: Client, auth0: FakeAuth0) -> None:
    response = sign_in(client, next_url="/test/payments/?status=failed")

    assert response.status_code == 302
    assert response["Location"] == "/test/payments/?status=failed"
    assert client.get("/test/payments/").content.decode() == f"payments of {MERCHANT_SUB}"


def test_without_next_the_merchant_lands_on_the_dashboard(client: Client, auth0: FakeAuth0) -> None:
    assert sign_in(client)["Location"] == "/"


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_never_redirects_off_site(client: Client, auth0: FakeAuth0, next_url: str) -> None:
    response = sign_in(client, next_url=next_url)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_payments_belong_to_the_auth0_sub_not_the_django_user_id(
    client: Client, auth0: FakeAuth0
) -> None:
    sign_in(client)

    user = User.objects.get()
    assert UserSocialAuth.objects.get(user=user).uid == MERCHANT_SUB
    assert client.get("/test/payments/").content.decode() == f"payments of {MERCHANT_SUB}"
    assert str(user.pk) not in MERCHANT_SUB


def test_signing_in_again_is_the_same_merchant(auth0: FakeAuth0) -> None:
    sign_in(Client())
    sign_in(Client())

    assert User.objects.count() == 1
    assert UserSocialAuth.objects.count() == 1


def test_two_auth0_accounts_are_two_merchants(auth0: FakeAuth0) -> None:
    alice, bob = Client(), Client()
    sign_in(alice)
    auth0.answer_token(id_token=make_id_token(sub="auth0|bob", name="Bob", nickname="bob"))
    sign_in(bob)

    assert alice.get("/test/payments/").content.decode() == f"payments of {MERCHANT_SUB}"
    assert bob.get("/test/payments/").content.decode() == "payments of auth0|bob"


def test_session_is_rotated_at_sign_in(client: Client, auth0: FakeAuth0) -> None:
    start = start_sign_in(client)
    before = client.cookies["sessionid"].value

    return_from_auth0(client, start)

    after = client.cookies["sessionid"].value
    assert after != before
    assert SESSION_KEY in client.session


def test_session_cookie_is_secure_httponly_and_lax(client: Client, auth0: FakeAuth0) -> None:
    response = sign_in(client)

    cookie = response.cookies["sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"  # Strict would drop the cookie on the return from Auth0


def test_csrf_cookie_is_secure_and_lax(client: Client) -> None:
    response = client.get("/accounts/login/")

    cookie = response.cookies["csrftoken"]
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"


def test_header_shows_who_is_signed_in_with_picture_and_sign_out(
    client: Client, auth0: FakeAuth0
) -> None:
    sign_in(client)

    html = client.get("/test/page/").content.decode()

    assert "Alice Merchant" in html
    assert 'src="https://s.gravatar.com/avatar/alice.png"' in html
    assert 'action="/accounts/logout/"' in html
    assert "Sign out" in html


def test_header_without_a_picture_shows_the_name_only(client: Client, auth0: FakeAuth0) -> None:
    auth0.answer_token(id_token=make_id_token(picture=""))
    sign_in(client)

    html = client.get("/test/page/").content.decode()

    assert "Alice Merchant" in html
    assert "<img" not in html


def test_tokens_are_not_kept_after_sign_in(client: Client, auth0: FakeAuth0) -> None:
    sign_in(client)

    extra = UserSocialAuth.objects.get().extra_data
    assert "access_token" not in extra
    assert "id_token" not in extra
    assert extra["name"] == "Alice Merchant"


def test_signed_in_merchant_opening_the_sign_in_page_goes_on(
    client: Client, auth0: FakeAuth0
) -> None:
    sign_in(client)

    response = client.get("/accounts/login/", {"next": "/test/payments/"})

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/test/payments/"
