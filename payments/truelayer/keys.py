"""The request-signing key: an EC P-521 private key given as PEM text or as a file path."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


class KeyProblem(ValueError):
    """The configured signing key cannot be used; the message completes a sentence."""


def load_signing_key_pem(value: str) -> str:
    """Return the PEM text of the configured signing key, checked to be an EC P-521 private
    key. `value` is PEM text (newlines may be written as `\\n`, as in .env files) or a path."""
    text = value.strip().replace("\\n", "\n")
    if not text.startswith("-----BEGIN"):
        path = Path(text).expanduser()
        try:
            text = path.read_text()
        except OSError as error:
            raise KeyProblem(f"is neither a PEM nor a readable file ({error.strerror}).") from None
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise KeyProblem("is not an unencrypted PEM private key.") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp521r1":
        raise KeyProblem(
            "must be an EC P-521 key (openssl ecparam -genkey -name secp521r1 -noout)."
        )
    return text
