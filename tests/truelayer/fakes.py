"""A local fake of TrueLayer's API (the `responses` library) and helpers to sign like it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
import truelayer_signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

# TrueLayer's published signature test vectors, kept in the repository (source: vectors/README.md).
VECTORS = Path(__file__).parent / "vectors"
AUTH = "https://auth.truelayer-sandbox.com"
API = "https://api.truelayer-sandbox.com"
TOKEN_URL = f"{AUTH}/connect/token"
LINKS_URL = f"{API}/v3/payment-links"
SANDBOX_JKU = "https://webhooks.truelayer-sandbox.com/.well-known/jwks"


def public_pem_of(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def our_public_pem() -> str:
    """The public half of the test settings' request-signing key."""
    return public_pem_of(settings.TRUELAYER_SIGNING_PRIVATE_KEY)


def problem(status: int, title: str, trace_id: str = "trace-123", **extra: Any) -> dict[str, Any]:
    return {
        "type": f"https://docs.truelayer.com/docs/error-types#{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": extra.pop("detail", f"{title} detail"),
        "trace_id": trace_id,
        **extra,
    }


@pytest.fixture
def truelayer() -> Iterator[responses.RequestsMock]:
    """TrueLayer's sandbox API, faked: a token endpoint; tests add what else they need."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            TOKEN_URL,
            json={"access_token": "token-1", "expires_in": 3600, "token_type": "Bearer"},
        )
        yield mock


def link_posts(mock: responses.RequestsMock) -> list[responses.Call]:
    """The `POST /v3/payment-links` calls the fake received, oldest first."""
    return [call for call in mock.calls if call.request.url == LINKS_URL]


def link_created(link_id: str = "link-1") -> dict[str, Any]:
    return {"id": link_id, "uri": f"https://payment.truelayer-sandbox.com/link/{link_id}"}


# --- webhook signing, as TrueLayer does it -----------------------------------------------


class WebhookSigner:
    """A TrueLayer stand-in: its own P-521 key, published as a JWKS at `jku`."""

    def __init__(self, jku: str = SANDBOX_JKU, kid: str | None = None) -> None:
        self.jku = jku
        self.kid = kid or f"kid-{uuid.uuid4()}"
        self.key = ec.generate_private_key(ec.SECP521R1())
        self.private_pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def jwks(self) -> dict[str, Any]:
        import base64

        numbers = self.key.public_key().public_numbers()

        def b64(n: int) -> str:
            return base64.urlsafe_b64encode(n.to_bytes(66, "big")).rstrip(b"=").decode()

        return {
            "keys": [
                {
                    "kty": "EC",
                    "crv": "P-521",
                    "alg": "ES512",
                    "kid": self.kid,
                    "x": b64(numbers.x),
                    "y": b64(numbers.y),
                }
            ]
        }

    def sign(
        self,
        body: bytes,
        *,
        path: str = "/webhooks/truelayer/",
        timestamp: str | None = None,
        jku: str | None = None,
    ) -> dict[str, str]:
        """Headers TrueLayer would send with `body`; the timestamp is now unless given."""
        sent = timestamp or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        headers = {"X-Tl-Webhook-Timestamp": sent, "Content-Type": "application/json"}
        signature = (
            truelayer_signing.sign_with_pem(self.kid, self.private_pem)
            .set_method(truelayer_signing.HttpMethod.POST)
            .set_path(path)
            .add_headers(headers)
            .set_body(body.decode())
            .set_jku(jku or self.jku)
            .sign()
        )
        return {**headers, "Tl-Signature": signature}


@pytest.fixture
def signer(truelayer: responses.RequestsMock) -> WebhookSigner:
    """TrueLayer's sandbox webhook key, its JWKS served at the allow-listed sandbox jku."""
    signer = WebhookSigner()
    truelayer.add(responses.GET, SANDBOX_JKU, json=signer.jwks())
    return signer


def event_body(event_type: str, **fields: Any) -> bytes:
    event = {"type": event_type, "event_version": 1, "event_id": str(uuid.uuid4()), **fields}
    return json.dumps(event, separators=(",", ":")).encode()
