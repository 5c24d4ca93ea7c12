"""A fake Auth0 tenant for the sign-in tests.

The real backend runs end to end through Django's test client: POST `/login/auth0/`, then the
callback `/complete/auth0/`. Only Auth0's HTTP endpoints are fake (the `responses` library):
`/oauth/token` answers with an RS256 id_token signed by a key generated here, and
`/.well-known/jwks.json` serves that key's public half.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import Client

from accounts.auth0 import Auth0PKCE

DOMAIN = settings.SOCIAL_AUTH_AUTH0_DOMAIN
CLIENT_ID = settings.SOCIAL_AUTH_AUTH0_KEY
TOKEN_URL = f"https://{DOMAIN}/oauth/token"
JWKS_URL = f"https://{DOMAIN}/.well-known/jwks.json"
ISSUER = f"https://{DOMAIN}/"
KID = "test-key-1"

MERCHANT_SUB = "auth0|65f0c0ffee"
PROFILE = {
    "name": "Alice Merchant",
    "nickname": "alice",
    "email": "alice@example.com",
    "picture": "https://s.gravatar.com/avatar/alice.png",
}


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


_SIGNING_KEY = new_rsa_key()


def jwks_for(key: rsa.RSAPrivateKey, kid: str = KID) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return {"keys": [jwk]}


def make_id_token(key: rsa.RSAPrivateKey | None = None, *, kid: str = KID, **claims: Any) -> str:
    """An id_token as Auth0 issues it; override any claim (aud, iss, exp, sub...)."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": MERCHANT_SUB,
        "iat": now,
        "exp": now + 600,
        **PROFILE,
    }
    payload.update(claims)
    return jwt.encode(payload, key or _SIGNING_KEY, algorithm="RS256", headers={"kid": kid})


@dataclass
class FakeAuth0:
    """The tenant's HTTP side. `token_response` is what `/oauth/token` answers next."""

    mock: responses.RequestsMock
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)

    def answer_token(
        self,
        *,
        id_token: str | None = None,
        status: int = 200,
        body: dict[str, Any] | Exception | None = None,
    ) -> None:
        self.mock.remove(responses.POST, TOKEN_URL)
        if isinstance(body, Exception):
            self.mock.add(responses.POST, TOKEN_URL, body=body)
            return
        if body is None:
            body = {
                "access_token": "at-123",
                "id_token": id_token or make_id_token(),
                "token_type": "Bearer",
                "expires_in": 86400,
                "scope": "openid profile email",
            }
        self.mock.add_callback(responses.POST, TOKEN_URL, callback=self._token(status, body))

    def serve_jwks(self, body: dict[str, Any] | Exception) -> None:
        self.mock.remove(responses.GET, JWKS_URL)
        if isinstance(body, Exception):
            self.mock.add(responses.GET, JWKS_URL, body=body)
        else:
            self.mock.add(responses.GET, JWKS_URL, json=body)

    def _token(self, status: int, body: dict[str, Any]) -> Any:
        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            self.token_requests.append(parse_qs(request.body))
            return status, {"Content-Type": "application/json"}, json.dumps(body)

        return callback


@pytest.fixture
def auth0() -> Iterator[FakeAuth0]:
    Auth0PKCE.get_jwks_keys_for_uri.invalidate()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeAuth0(mock)
        mock.add(responses.GET, JWKS_URL, json=jwks_for(_SIGNING_KEY))
        mock.add(responses.POST, TOKEN_URL, json={})
        fake.answer_token()
        yield fake
    Auth0PKCE.get_jwks_keys_for_uri.invalidate()


@dataclass
class SignInStart:
    """What the browser was sent to Auth0 with."""

    authorize_url: str
    params: dict[str, str]

    @property
    def state(self) -> str:
        return self.params["state"]


def start_sign_in(client: Client, next_url: str | None = None) -> SignInStart:
    """Press the sign-in button: POST `/login/auth0/`, which redirects to Auth0."""
    data = {"next": next_url} if next_url is not None else {}
    response = client.post("/login/auth0/", data)
    assert response.status_code == 302, response
    location = response["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return SignInStart(authorize_url=location, params=params)


def return_from_auth0(client: Client, start: SignInStart, **params: str) -> Any:
    """Auth0 sends the browser back to the callback with a code (or an error)."""
    query = {"code": "auth-code-1", "state": start.state, **params}
    return client.get("/complete/auth0/", query)


def sign_in(client: Client, next_url: str | None = None) -> Any:
    """The whole round trip; the caller provides the `auth0` fixture."""
    return return_from_auth0(client, start_sign_in(client, next_url))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
