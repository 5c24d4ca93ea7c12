"""The TrueLayer client against a local fake of TrueLayer's API: the exact request, token reuse
and refresh, retries with the same key and bytes, and errors parsed into TrueLayerError."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import requests
import responses
import truelayer_signing
from django.core.cache import cache

from payments.truelayer.client import TrueLayerClient, TrueLayerError
from payments.truelayer.provider import PaymentLinkRequest, TrueLayerProvider
from tests.truelayer.fakes import (
    LINKS_URL,
    TOKEN_URL,
    link_created,
    link_posts,
    our_public_pem,
    problem,
)

REQUEST = PaymentLinkRequest(
    payment_id="01JABCDEFGHJKMNPQRSTVWXYZ0",
    amount=Decimal("1234.50"),
    currency="GBP",
    reference="INV-1042",
    expires_at=datetime(2026, 1, 2, 9, 0, tzinfo=UTC),
    payer_name="Bob Payer",
    payer_email="bob@example.com",
)


def token_posts(mock: responses.RequestsMock) -> list[responses.Call]:
    return [c for c in mock.calls if c.request.url == TOKEN_URL]


def test_create_link_sends_signed_body_in_minor_units_with_idempotency_key(
    truelayer: responses.RequestsMock,
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created(), status=200)

    link = TrueLayerProvider().create_payment_link(REQUEST)

    assert link.link_id == "link-1"
    assert link.uri == "https://payment.truelayer-sandbox.com/link/link-1"
    (call,) = link_posts(truelayer)
    sent = call.request
    assert sent.headers["Authorization"] == "Bearer token-1"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Idempotency-Key"] == REQUEST.idempotency_key
    assert isinstance(sent.body, bytes)
    body = json.loads(sent.body)
    assert body["type"] == "single_payment"
    assert body["reference"] == "INV-1042"
    assert body["expires_at"] == "2026-01-02T09:00:00.000Z"
    config = body["payment_configuration"]
    assert config["amount_in_minor"] == 123450
    assert isinstance(config["amount_in_minor"], int)
    assert config["currency"] == "GBP"
    assert config["payment_method"] == {
        "type": "bank_transfer",
        "provider_selection": {"type": "user_selected"},
        "beneficiary": {
            "type": "merchant_account",
            "merchant_account_id": "5b7adbc5-test-0000-0000-merchantacc1",
        },
    }
    assert config["user"]["name"] == "Bob Payer"
    assert config["user"]["email"] == "bob@example.com"
    assert config["metadata"] == {"payment_id": REQUEST.payment_id}
    # The signature covers method, path with /v3, the Idempotency-Key and the exact bytes sent.
    header = truelayer_signing.extract_jws_header(sent.headers["Tl-Signature"])
    assert header.kid == "8a5b3cd1-test-0000-0000-signingkey01"
    truelayer_signing.verify_with_pem(our_public_pem()).set_method(
        truelayer_signing.HttpMethod.POST
    ).set_path("/v3/payment-links").add_header(
        "Idempotency-Key", REQUEST.idempotency_key
    ).add_required_header("Idempotency-Key").set_body(sent.body.decode()).verify(
        sent.headers["Tl-Signature"]
    )


def test_token_request_uses_client_credentials_with_payments_scope(
    truelayer: responses.RequestsMock,
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    TrueLayerProvider().create_payment_link(REQUEST)
    (call,) = token_posts(truelayer)
    assert isinstance(call.request.body, str)
    form = parse_qs(call.request.body)
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["test-truelayer-client"],
        "client_secret": ["test-truelayer-secret"],
        "scope": ["payments"],
    }


def test_token_is_reused_across_calls_and_clients(truelayer: responses.RequestsMock) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    TrueLayerProvider().create_payment_link(REQUEST)
    TrueLayerProvider(TrueLayerClient()).create_payment_link(REQUEST)
    assert len(token_posts(truelayer)) == 1
    assert len(link_posts(truelayer)) == 2


def test_token_expiring_soon_is_not_cached(truelayer: responses.RequestsMock) -> None:
    truelayer.replace(responses.POST, TOKEN_URL, json={"access_token": "short", "expires_in": 60})
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    TrueLayerProvider().create_payment_link(REQUEST)
    TrueLayerProvider().create_payment_link(REQUEST)
    assert len(token_posts(truelayer)) == 2


def test_401_drops_the_cached_token_and_retries_once_with_a_new_one(
    truelayer: responses.RequestsMock,
) -> None:
    cache.set(TrueLayerClient().config.token_cache_key, "revoked-token", 3000)
    truelayer.add(responses.POST, LINKS_URL, json=problem(401, "Unauthorized"), status=401)
    truelayer.add(responses.POST, LINKS_URL, json=link_created())

    TrueLayerProvider().create_payment_link(REQUEST)

    first, second = link_posts(truelayer)
    assert first.request.headers["Authorization"] == "Bearer revoked-token"
    assert second.request.headers["Authorization"] == "Bearer token-1"
    assert cache.get(TrueLayerClient().config.token_cache_key) == "token-1"


@pytest.mark.parametrize(
    "failure",
    [
        {"json": problem(500, "Internal Server Error"), "status": 500},
        {"json": problem(503, "Service Unavailable"), "status": 503},
        {"json": problem(429, "Too Many Requests"), "status": 429},
        {"json": problem(409, "Conflict"), "status": 409},
        {"body": requests.Timeout("read timed out")},
        {"body": requests.ConnectionError("connection refused")},
    ],
    ids=["500", "503", "429", "409", "timeout", "connection-error"],
)
def test_transient_failures_are_retried_with_the_same_key_and_bytes(
    truelayer: responses.RequestsMock, failure: dict[str, object]
) -> None:
    truelayer.add(responses.POST, LINKS_URL, **failure)  # type: ignore[arg-type]
    truelayer.add(responses.POST, LINKS_URL, **failure)  # type: ignore[arg-type]
    truelayer.add(responses.POST, LINKS_URL, json=link_created())

    link = TrueLayerProvider().create_payment_link(REQUEST)

    assert link.link_id == "link-1"
    calls = link_posts(truelayer)
    assert len(calls) == 3
    assert {c.request.headers["Idempotency-Key"] for c in calls} == {REQUEST.idempotency_key}
    assert len({c.request.body for c in calls}) == 1


def test_failure_after_all_attempts_raises_the_problem_title_detail_and_trace_id(
    truelayer: responses.RequestsMock,
) -> None:
    truelayer.add(
        responses.POST,
        LINKS_URL,
        json=problem(503, "Service Unavailable", trace_id="abc-trace", detail="Try later"),
        status=503,
        content_type="application/problem+json",
    )
    with pytest.raises(TrueLayerError) as raised:
        TrueLayerProvider().create_payment_link(REQUEST)
    error = raised.value
    assert (error.title, error.detail, error.trace_id, error.status) == (
        "Service Unavailable",
        "Try later",
        "abc-trace",
        503,
    )
    assert len(link_posts(truelayer)) == 4  # TRUELAYER_MAX_ATTEMPTS


@pytest.mark.parametrize(
    ("status", "title"),
    [(400, "Invalid Parameters"), (422, "Idempotency-Key Reuse"), (403, "Forbidden")],
)
def test_client_errors_are_not_retried(
    truelayer: responses.RequestsMock, status: int, title: str
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=problem(status, title), status=status)
    with pytest.raises(TrueLayerError) as raised:
        TrueLayerProvider().create_payment_link(REQUEST)
    assert raised.value.title == title
    assert raised.value.status == status
    assert len(link_posts(truelayer)) == 1


def test_refused_credentials_are_reported_as_such(truelayer: responses.RequestsMock) -> None:
    truelayer.replace(responses.POST, TOKEN_URL, json={"error": "invalid_client"}, status=400)
    with pytest.raises(TrueLayerError, match="refused our client credentials"):
        TrueLayerProvider().create_payment_link(REQUEST)
    assert not link_posts(truelayer)


def test_non_json_error_page_still_becomes_a_typed_error(truelayer: responses.RequestsMock) -> None:
    truelayer.add(responses.POST, LINKS_URL, body="<html>Bad gateway</html>", status=502)
    with pytest.raises(TrueLayerError) as raised:
        TrueLayerProvider().create_payment_link(REQUEST)
    assert raised.value.status == 502
    assert "502" in raised.value.title


def test_the_same_payment_always_gives_the_same_key_and_bytes() -> None:
    again = PaymentLinkRequest(**{**REQUEST.__dict__})
    assert again.idempotency_key == REQUEST.idempotency_key
    assert again.body(merchant_account_id="m") == REQUEST.body(merchant_account_id="m")
    other = PaymentLinkRequest(**{**REQUEST.__dict__, "payment_id": "01JABCDEFGHJKMNPQRSTVWXYZ1"})
    assert other.idempotency_key != REQUEST.idempotency_key


def test_status_reads_use_the_v3_paths(truelayer: responses.RequestsMock) -> None:
    api = "https://api.truelayer-sandbox.com"
    truelayer.add(
        responses.GET,
        f"{api}/v3/payment-links/link-1/payments",
        json={"items": [{"id": "pay-1", "status": "executed"}]},
    )
    truelayer.add(
        responses.GET, f"{api}/v3/payments/pay-1", json={"id": "pay-1", "status": "executed"}
    )
    provider = TrueLayerProvider()
    assert provider.list_link_payments("link-1") == [{"id": "pay-1", "status": "executed"}]
    assert provider.get_payment("pay-1")["status"] == "executed"
    with pytest.raises(TrueLayerError):
        provider.get_payment("../payment-links")
