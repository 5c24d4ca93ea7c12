"""The simulator's webhook signing key: EC P-521, derived from SECRET_KEY.

Derived rather than generated and stored: every process (runserver's reloader, several
workers, the test client) gets the same key with nothing to persist or clean up, and it changes
when SECRET_KEY changes. It signs only simulator webhooks, whose `jku` is accepted in simulator
mode (DEBUG on) alone, so knowing it gains nothing against a real deployment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings


@lru_cache(maxsize=2)
def _key(secret: str) -> ec.EllipticCurvePrivateKey:
    # 512 bits of HMAC output: always below P-521's group order, so a valid private scalar.
    digest = hmac.new(secret.encode(), b"simulator webhook signing key v1", hashlib.sha512)
    return ec.derive_private_key(int.from_bytes(digest.digest(), "big") or 1, ec.SECP521R1())


def private_key() -> ec.EllipticCurvePrivateKey:
    return _key(settings.SECRET_KEY)


def private_key_pem() -> str:
    return (
        private_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def _b64(number: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(66, "big")).rstrip(b"=").decode()


def key_id() -> str:
    numbers = private_key().public_key().public_numbers()
    return "simulator-" + hashlib.sha256(_b64(numbers.x).encode()).hexdigest()[:16]


def public_jwks() -> dict[str, Any]:
    """The JWKS the simulator's `jku` names (resolved in-process by the webhook verifier)."""
    numbers = private_key().public_key().public_numbers()
    return {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-521",
                "alg": "ES512",
                "use": "sig",
                "kid": key_id(),
                "x": _b64(numbers.x),
                "y": _b64(numbers.y),
            }
        ]
    }
