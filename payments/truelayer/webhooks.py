"""Webhook `Tl-Signature` verification.

The signature's JWS header names the JWKS that holds its key (`jku`). That URL is checked
against `TRUELAYER_WEBHOOK_JKU_ALLOWLIST` (exact match) before anything is fetched; the JWKS
is cached (Django's cache) and fetched again at most once a minute when a new `kid` appears
(TrueLayer rotating keys). A `jku` listed in `TRUELAYER_LOCAL_JWKS` (the simulator's) is
resolved in-process by the function that setting names, and only with DEBUG on.

`truelayer-signing` does the cryptography; this module adds the checks around it: strict
base64 (so no byte of the signature can change unnoticed), required headers, allow-list.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Mapping
from typing import Any, cast

import truelayer_signing
from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string

from payments.truelayer.client import TrueLayerClient, TrueLayerError

logger = logging.getLogger(__name__)

_REFETCH_PAUSE_SECONDS = 60
_JWKS_FAILURE_PAUSE_SECONDS = 5
_JWKS_FAILURE_PAUSE_MAX_SECONDS = 300
# A real Tl-Signature is about 400 characters (a short JSON header and an ES512 signature); the
# limit leaves room for a long jku while keeping a hostile header from reaching the JSON parser.
MAX_SIGNATURE_LENGTH = 4096


class SignatureRejected(Exception):
    """The request is not provably from TrueLayer (or the simulator). `status` is 401 for a
    missing, invalid or foreign signature and 400 for a request that cannot be read."""

    def __init__(self, reason: str, *, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _b64decode_strict(text: str) -> bytes:
    """URL-safe base64 without padding; refuses non-canonical text (a changed unused bit)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SignatureRejected("Tl-Signature is not valid base64") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != text:
        raise SignatureRejected("Tl-Signature is not canonical base64")
    return raw


def parse_jws_header(tl_signature: str) -> dict[str, Any]:
    """The JWS header of a detached `Tl-Signature` (`header..signature`), strictly parsed."""
    if len(tl_signature) > MAX_SIGNATURE_LENGTH:
        raise SignatureRejected("Tl-Signature is too long")
    if tl_signature.count(".") != 2 or ".." not in tl_signature:
        raise SignatureRejected("Tl-Signature is not a detached JWS")
    header_b64, signature_b64 = tl_signature.split("..", 1)
    _b64decode_strict(signature_b64)
    try:
        header = json.loads(_b64decode_strict(header_b64))
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: deeply nested JSON (`[[[[…`) exhausts the parser's stack.
        raise SignatureRejected("Tl-Signature's header is not JSON") from None
    if not isinstance(header, dict) or not all(isinstance(v, str) for v in header.values()):
        raise SignatureRejected("Tl-Signature's header is malformed")
    if header.get("alg") != "ES512" or header.get("tl_version") != "2" or not header.get("kid"):
        raise SignatureRejected("Tl-Signature's header has an unsupported algorithm or version")
    return header


def verify_signature(
    tl_signature: str,
    *,
    key: str | Mapping[str, Any],
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    required_headers: tuple[str, ...] = (),
) -> None:
    """Verify a `Tl-Signature` with a PEM public key or one JWK. Raises `SignatureRejected`."""
    parse_jws_header(tl_signature)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureRejected("The body is not UTF-8", status=400) from None
    try:
        if isinstance(key, str):
            verifier = truelayer_signing.verify_with_pem(key)
        else:
            verifier = truelayer_signing.TlVerifier(dict(key), truelayer_signing.KeyFmt.JWKS)
        (
            verifier.set_method(truelayer_signing.HttpMethod(method.upper()))
            .set_path(path)
            .add_headers(dict(headers))
            .add_required_headers(list(required_headers))
            .set_body(text)
            .verify(tl_signature)
        )
    except SignatureRejected:
        raise
    except Exception as error:  # the library raises several kinds for bad input
        raise SignatureRejected(f"Tl-Signature does not verify: {error}") from None


def verify_webhook(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    client: TrueLayerClient | None = None,
) -> None:
    """Verify a webhook as TrueLayer sends it. Raises `SignatureRejected` (nothing is applied)."""
    tl_signature = _header(headers, "Tl-Signature")
    if not tl_signature:
        raise SignatureRejected("Tl-Signature header missing")
    header = parse_jws_header(tl_signature)
    jku = header.get("jku", "")
    if not jku:
        raise SignatureRejected("Tl-Signature has no jku")
    if jku not in settings.TRUELAYER_WEBHOOK_JKU_ALLOWLIST:
        logger.warning("webhook signed with a jku that is not allowed: %r", jku[:200])
        raise SignatureRejected("Tl-Signature's jku is not on the allow-list")
    jwk = _find_key(jku, header["kid"], client)
    verify_signature(
        tl_signature,
        key=jwk,
        method=method,
        path=path,
        headers=headers,
        body=body,
        required_headers=("X-Tl-Webhook-Timestamp",),
    )


def _find_key(jku: str, kid: str, client: TrueLayerClient | None) -> Mapping[str, Any]:
    jwks = _jwks(jku, client, refresh=False)
    key = _key_in(jwks, kid)
    if key is None:
        # A key we have not seen: TrueLayer may have rotated. Fetch again, at most once a
        # minute per jku, so unknown kids cannot make us hammer the JWKS host.
        pause_key = f"truelayer:jwks-refetched:{jku}"
        if cache.add(pause_key, True, timeout=_REFETCH_PAUSE_SECONDS):
            key = _key_in(_jwks(jku, client, refresh=True), kid)
    if key is None:
        raise SignatureRejected("Tl-Signature's kid is not in the JWKS")
    if key.get("kty") != "EC" or key.get("crv") != "P-521":
        raise SignatureRejected("Tl-Signature's key is not an EC P-521 key")
    return key


def _jwks(jku: str, client: TrueLayerClient | None, *, refresh: bool) -> Mapping[str, Any]:
    local_resolver = settings.TRUELAYER_LOCAL_JWKS.get(jku)
    if local_resolver:
        # Settings set this only in simulator mode; never rely on one check only.
        if not settings.DEBUG:
            raise SignatureRejected("The simulator is disabled")
        return cast(Mapping[str, Any], import_string(local_resolver)())
    cache_key = f"truelayer:jwks:{jku}"
    if not refresh:
        cached = cache.get(cache_key)
        if isinstance(cached, dict):
            return cached
    # After a failed fetch, webhooks are answered 503 without fetching again until a pause
    # (5 s, doubling per failure, at most 5 min) is over: a JWKS host that is down is not
    # asked once per delivery while TrueLayer retries every pending event.
    failure_key = f"truelayer:jwks-failed:{jku}"
    failure = cache.get(failure_key)
    failures = failure.get("failures", 0) if isinstance(failure, dict) else 0
    if failures and time.time() < failure.get("until", 0):
        raise SignatureRejected("TrueLayer's JWKS could not be fetched recently", status=503)
    try:
        jwks = (client or TrueLayerClient()).fetch_jwks(jku)
    except TrueLayerError as error:
        pause = min(_JWKS_FAILURE_PAUSE_SECONDS * 2**failures, _JWKS_FAILURE_PAUSE_MAX_SECONDS)
        logger.error(
            "could not fetch webhook JWKS %s (failure %d, next try in %ds): %s",
            jku,
            failures + 1,
            pause,
            error,
        )
        cache.set(
            failure_key,
            {"failures": failures + 1, "until": time.time() + pause},
            timeout=_JWKS_FAILURE_PAUSE_MAX_SECONDS * 2,
        )
        # 503 for TrueLayer: it retries later, when the JWKS host may answer again.
        raise SignatureRejected("TrueLayer's JWKS could not be fetched", status=503) from None
    cache.set(cache_key, jwks, timeout=settings.TRUELAYER_JWKS_CACHE_SECONDS)
    cache.delete(failure_key)
    return jwks


def _key_in(jwks: Mapping[str, Any], kid: str) -> Mapping[str, Any] | None:
    for key in jwks.get("keys", []):
        if isinstance(key, dict) and key.get("kid") == kid:
            return key
    return None


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""
