"""Opaque, signed pagination cursors.

A cursor carries DynamoDB's positions (LastEvaluatedKey-style keys, one per query stream), the
merchant it was made for and a fingerprint of the filters. It is signed with the Django secret
key, so a changed byte, another merchant's cursor or a cursor from another filter is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core import signing

from payments.errors import InvalidCursor

_SALT = "payments.cursor.v1"


def query_fingerprint(parts: dict[str, Any]) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(*, user_id: str, fingerprint: str, position: dict[str, Any]) -> str:
    return signing.dumps({"u": user_id, "q": fingerprint, "p": position}, salt=_SALT, compress=True)


def decode_cursor(token: str, *, user_id: str, fingerprint: str) -> dict[str, Any]:
    try:
        payload = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidCursor() from None
    if (
        not isinstance(payload, dict)
        or payload.get("u") != user_id
        or payload.get("q") != fingerprint
    ):
        raise InvalidCursor()
    position = payload.get("p")
    if not isinstance(position, dict):
        raise InvalidCursor()
    return position
