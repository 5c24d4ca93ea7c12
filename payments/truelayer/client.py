"""The TrueLayer HTTP client: the only code that speaks HTTP to TrueLayer.

- Access token (client credentials) cached in Django's cache, which every app server shares,
  until shortly before it expires; dropped and fetched again when the API answers 401. Only
  one server fetches it at a time (a lock in the same cache); the others wait for its token.
- Requests with a body are signed with `truelayer-signing` over the exact bytes sent, the path
  (with `/v3`) and the `Idempotency-Key`. Retries (network errors, 5xx, 409, 429) send the same
  key and the same bytes, so one logical operation never does anything twice.
- Failures become `TrueLayerError` with the problem's title, detail, trace id and status.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import truelayer_signing
from django.conf import settings
from django.core.cache import cache
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

logger = logging.getLogger(__name__)

# Renew the token this long before TrueLayer says it expires (clock skew, slow requests).
TOKEN_EXPIRY_MARGIN_SECONDS = 120
# How often a server waiting for another server's token fetch looks for it.
TOKEN_WAIT_POLL_SECONDS = 0.05
_RETRY_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


class TrueLayerError(Exception):
    """TrueLayer refused or could not answer. Fields come from its problem+json answer when
    there was one; `status` is 0 when no HTTP answer arrived (timeout, connection refused)."""

    def __init__(
        self,
        title: str,
        *,
        detail: str = "",
        trace_id: str = "",
        status: int = 0,
        type: str = "",
        errors: Mapping[str, Any] | None = None,
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(title)
        self.title = title
        self.detail = detail
        self.trace_id = trace_id
        self.status = status
        self.type = type
        self.errors = dict(errors or {})
        self.raw = dict(raw or {})

    def __str__(self) -> str:
        return f"{self.title} ({self.status or 'no answer'}; trace {self.trace_id or '-'})"

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status in _RETRY_STATUSES

    @classmethod
    def from_response(cls, response: requests.Response) -> TrueLayerError:
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            text = response.text[:300]
            return cls(
                f"TrueLayer answered {response.status_code} {response.reason or ''}".strip(),
                detail=text,
                status=response.status_code,
                raw={"status": response.status_code, "body": text},
            )
        errors = problem.get("errors")
        return cls(
            str(
                problem.get("title")
                or problem.get("error")
                or f"TrueLayer answered {response.status_code}"
            ),
            # OAuth errors (the token endpoint) say `error` / `error_description` instead.
            detail=str(problem.get("detail") or problem.get("error_description") or ""),
            trace_id=str(problem.get("trace_id") or ""),
            status=response.status_code,
            type=str(problem.get("type") or ""),
            errors=errors if isinstance(errors, dict) else None,
            raw=problem,
        )


@dataclass(frozen=True)
class TrueLayerConfig:
    client_id: str
    client_secret: str
    signing_key_id: str
    signing_private_key: str
    merchant_account_id: str
    auth_url: str
    api_url: str
    timeout: float = 10
    max_attempts: int = 4
    retry_base_seconds: float = 0.5
    return_uri: str = ""

    @classmethod
    def from_settings(cls) -> TrueLayerConfig:
        return cls(
            client_id=settings.TRUELAYER_CLIENT_ID,
            client_secret=settings.TRUELAYER_CLIENT_SECRET,
            signing_key_id=settings.TRUELAYER_SIGNING_KEY_ID,
            signing_private_key=settings.TRUELAYER_SIGNING_PRIVATE_KEY,
            merchant_account_id=settings.TRUELAYER_MERCHANT_ACCOUNT_ID,
            auth_url=settings.TRUELAYER_AUTH_URL.rstrip("/"),
            api_url=settings.TRUELAYER_API_URL.rstrip("/"),
            timeout=settings.TRUELAYER_TIMEOUT_SECONDS,
            max_attempts=max(1, settings.TRUELAYER_MAX_ATTEMPTS),
            retry_base_seconds=settings.TRUELAYER_RETRY_BASE_SECONDS,
            return_uri=settings.TRUELAYER_RETURN_URI,
        )

    @property
    def token_cache_key(self) -> str:
        # Per host and client, so a sandbox token is never sent to live (or to another client).
        digest = hashlib.sha256(f"{self.auth_url} {self.client_id}".encode()).hexdigest()[:24]
        return f"truelayer:token:{digest}"


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, TrueLayerError) and error.retryable


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    logger.warning("TrueLayer call failed (attempt %d), retrying: %s", state.attempt_number, error)


class TrueLayerClient:
    """TrueLayer's API for this merchant. Thread-safe: holds no mutable state of its own."""

    def __init__(
        self, config: TrueLayerConfig | None = None, session: requests.Session | None = None
    ) -> None:
        self.config = config or TrueLayerConfig.from_settings()
        self._session = session or requests.Session()

    # --- API calls ------------------------------------------------------------------------

    def create_payment_link(self, *, body: Mapping[str, Any], idempotency_key: str) -> ApiResponse:
        """`POST /v3/payment-links`. The body is serialised once here: every retry sends these
        bytes with this key, so TrueLayer answers a repeat with the link it already made."""
        raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        return self.request("POST", "/v3/payment-links", body=raw, idempotency_key=idempotency_key)

    def get_payment_link(self, link_id: str) -> ApiResponse:
        return self.request("GET", f"/v3/payment-links/{_path_part(link_id)}")

    def get_payment_link_payments(self, link_id: str) -> ApiResponse:
        return self.request("GET", f"/v3/payment-links/{_path_part(link_id)}/payments")

    def get_payment(self, payment_id: str) -> ApiResponse:
        return self.request("GET", f"/v3/payments/{_path_part(payment_id)}")

    def create_refund(
        self, payment_id: str, *, body: Mapping[str, Any], idempotency_key: str
    ) -> ApiResponse:
        """`POST /v3/payments/{id}/refunds` (signed). Like links: serialised once, so every
        retry of one refund sends the same bytes with the same key."""
        raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        path = f"/v3/payments/{_path_part(payment_id)}/refunds"
        return self.request("POST", path, body=raw, idempotency_key=idempotency_key)

    def cancel_payment(self, payment_id: str, *, idempotency_key: str) -> ApiResponse:
        """`POST /v3/payments/{id}/actions/cancel` (signed, empty JSON body): answered 202,
        the outcome comes by webhook."""
        path = f"/v3/payments/{_path_part(payment_id)}/actions/cancel"
        return self.request("POST", path, body=b"{}", idempotency_key=idempotency_key)

    def get_refunds(self, payment_id: str) -> ApiResponse:
        return self.request("GET", f"/v3/payments/{_path_part(payment_id)}/refunds")

    def fetch_jwks(self, url: str) -> dict[str, Any]:
        """TrueLayer's webhook signing keys. Callers check `url` against the allow-list first."""
        try:
            response = self._session.get(url, timeout=self.config.timeout)
        except requests.RequestException as error:
            raise TrueLayerError("TrueLayer's webhook keys could not be fetched") from error
        if response.status_code != 200:
            raise TrueLayerError.from_response(response)
        try:
            jwks = response.json()
        except ValueError:
            raise TrueLayerError("TrueLayer's webhook keys are not JSON") from None
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise TrueLayerError("TrueLayer's webhook keys are not a JWKS")
        return jwks

    # --- plumbing -------------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, body: bytes | None = None, idempotency_key: str = ""
    ) -> ApiResponse:
        """One logical call, retried with backoff on network errors, 5xx, 409 and 429. Raises
        `TrueLayerError` when it still fails (or fails in a way a retry cannot fix)."""
        retrying = Retrying(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(self.config.max_attempts),
            wait=wait_exponential_jitter(
                multiplier=self.config.retry_base_seconds,
                max=max(self.config.retry_base_seconds * 8, 0.001),
                jitter=self.config.retry_base_seconds,
            ),
            before_sleep=_log_retry,
            reraise=True,
        )
        result: ApiResponse = retrying(
            self._attempt, method, path, body=body, idempotency_key=idempotency_key
        )
        return result

    def _attempt(
        self, method: str, path: str, *, body: bytes | None, idempotency_key: str
    ) -> ApiResponse:
        response = self._send(method, path, body, idempotency_key, self._token())
        if response.status_code == 401:
            # The cached token was revoked or expired early: drop it and try once more.
            cache.delete(self.config.token_cache_key)
            response = self._send(method, path, body, idempotency_key, self._token())
        if 200 <= response.status_code < 300:
            return ApiResponse(response.status_code, _json_object(response))
        error = TrueLayerError.from_response(response)
        if response.status_code == 422 and "idempotency" in error.title.lower():
            # Same key with different bytes: a bug on our side, never retried.
            logger.error("TrueLayer refused an Idempotency-Key reuse on %s: %s", path, error)
        else:
            logger.warning("TrueLayer %s %s failed: %s", method, path, error)
        raise error

    def _send(
        self, method: str, path: str, body: bytes | None, idempotency_key: str, token: str
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if body is not None:
            headers["Content-Type"] = "application/json"
            signer = truelayer_signing.sign_with_pem(
                self.config.signing_key_id, self.config.signing_private_key
            )
            signer.set_method(truelayer_signing.HttpMethod(method)).set_path(path)
            if idempotency_key:
                signer.add_header("Idempotency-Key", idempotency_key)
            headers["Tl-Signature"] = signer.set_body(body.decode()).sign()
        try:
            return self._session.request(
                method,
                self.config.api_url + path,
                data=body,
                headers=headers,
                timeout=self.config.timeout,
            )
        except requests.Timeout as error:
            raise TrueLayerError(
                "TrueLayer did not answer in time", detail=type(error).__name__
            ) from error
        except requests.RequestException as error:
            raise TrueLayerError(
                "TrueLayer could not be reached", detail=type(error).__name__
            ) from error

    def _token(self) -> str:
        key = self.config.token_cache_key
        token = cache.get(key)
        if isinstance(token, str) and token:
            return token
        # One fetch for every app server: whoever adds the lock fetches, the others wait a
        # moment for its token (the cache is the shared database). If it never comes (the
        # fetcher failed or died), they fetch themselves rather than fail.
        lock_key = f"{key}:fetching"
        fetching = cache.add(lock_key, True, timeout=int(self.config.timeout) + 5)
        if not fetching:
            deadline = time.monotonic() + self.config.timeout
            while time.monotonic() < deadline:
                time.sleep(TOKEN_WAIT_POLL_SECONDS)
                token = cache.get(key)
                if isinstance(token, str) and token:
                    return token
        try:
            return self._fetch_token(key)
        finally:
            if fetching:
                cache.delete(lock_key)

    def _fetch_token(self, key: str) -> str:
        try:
            response = self._session.post(
                f"{self.config.auth_url}/connect/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.config.client_id,
                    "client_secret": self.config.client_secret,
                    "scope": "payments",
                },
                headers={"Accept": "application/json"},
                timeout=self.config.timeout,
            )
        except requests.RequestException as error:
            raise TrueLayerError(
                "TrueLayer's sign-in service could not be reached", detail=type(error).__name__
            ) from error
        if response.status_code != 200:
            refused = TrueLayerError.from_response(response)
            if response.status_code in (400, 401):
                refused.title = "TrueLayer refused our client credentials"
                logger.error("TrueLayer token request refused: %s", refused)
            raise refused
        answer = _json_object(response)
        token = str(answer.get("access_token") or "")
        if not token:
            raise TrueLayerError("TrueLayer's token answer had no access_token", status=200)
        try:
            lifetime = int(answer.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600
        ttl = lifetime - TOKEN_EXPIRY_MARGIN_SECONDS
        if ttl > 0:
            cache.set(key, token, timeout=ttl)
        return token


def _json_object(response: requests.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        value = response.json()
    except ValueError:
        raise TrueLayerError(
            "TrueLayer's answer was not JSON", status=response.status_code
        ) from None
    return value if isinstance(value, dict) else {"items": value}


def _path_part(value: str) -> str:
    # Ids come from TrueLayer or our database; refuse anything that could change the path.
    if not value or any(c in value for c in "/?#%\\ ") or value in {".", ".."}:
        raise TrueLayerError(f"Not a TrueLayer id: {value!r}")
    return value
