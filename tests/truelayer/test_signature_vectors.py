"""TrueLayer's own published signature test vectors: the verifier accepts them exactly and
rejects any change to method, path, a signed header, a byte of the body or of the signature."""

from __future__ import annotations

import json

import pytest
import responses
from django.test import override_settings

from payments.truelayer.webhooks import SignatureRejected, verify_signature, verify_webhook
from tests.truelayer.fakes import VECTORS

LIVE_JKU = "https://webhooks.truelayer.com/.well-known/jwks"
WEBHOOK_BODY = b'{"event_type":"example","event_id":"18b2842b-a57b-4887-a0a6-d3c7c36f1020"}'
WEBHOOK_HEADERS = {
    "X-Tl-Webhook-Timestamp": "2021-11-29T11:42:55Z",
    "Content-Type": "application/json",
}
REQUEST_PATH = "/merchant_accounts/a61acaef-ee05-4077-92f3-25543a11bd8d/sweeping"
REQUEST_BODY = b'{"currency":"GBP","max_amount_in_minor":5000000,"name":"Foo???"}'
REQUEST_HEADERS = {"Idempotency-Key": "idemp-2076717c-9005-4811-a321-9e0787fa0382"}
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def webhook_signature() -> str:
    return (VECTORS / "webhook-signature.txt").read_text().strip()


def request_signature() -> str:
    return (VECTORS / "tl-signature.txt").read_text().strip()


def public_pem() -> str:
    return (VECTORS / "ec512-public.pem").read_text()


@pytest.fixture
def live_jwks(truelayer: responses.RequestsMock) -> responses.RequestsMock:
    truelayer.add(responses.GET, LIVE_JKU, json=json.loads((VECTORS / "jwks.json").read_text()))
    return truelayer


def verify_vector_webhook(
    *,
    signature: str | None = None,
    method: str = "POST",
    path: str = "/tl-webhook",
    headers: dict[str, str] | None = None,
    body: bytes = WEBHOOK_BODY,
) -> None:
    sent = dict(headers if headers is not None else WEBHOOK_HEADERS)
    sent["Tl-Signature"] = signature if signature is not None else webhook_signature()
    with override_settings(TRUELAYER_WEBHOOK_JKU_ALLOWLIST=[LIVE_JKU]):
        verify_webhook(method=method, path=path, headers=sent, body=body)


def test_published_webhook_vector_verifies_through_its_allowed_jwks(live_jwks: object) -> None:
    verify_vector_webhook()


def test_published_request_vector_verifies_with_the_published_pem() -> None:
    verify_signature(
        request_signature(),
        key=public_pem(),
        method="POST",
        path=REQUEST_PATH,
        headers=REQUEST_HEADERS,
        body=REQUEST_BODY,
    )


@pytest.mark.parametrize("index", range(len(WEBHOOK_BODY)))
def test_webhook_vector_is_rejected_with_any_body_byte_changed(
    live_jwks: object, index: int
) -> None:
    body = bytearray(WEBHOOK_BODY)
    body[index] = body[index] ^ 0x01
    with pytest.raises(SignatureRejected):
        verify_vector_webhook(body=bytes(body))


def test_request_vector_is_rejected_with_any_body_byte_changed() -> None:
    for index in range(len(REQUEST_BODY)):
        body = bytearray(REQUEST_BODY)
        body[index] = body[index] ^ 0x01
        with pytest.raises(SignatureRejected):
            verify_signature(
                request_signature(),
                key=public_pem(),
                method="POST",
                path=REQUEST_PATH,
                headers=REQUEST_HEADERS,
                body=bytes(body),
            )


def test_webhook_vector_is_rejected_with_any_signature_character_changed(
    live_jwks: object,
) -> None:
    signature = webhook_signature()
    for index, char in enumerate(signature):
        if char == ".":
            continue
        other = BASE64URL[(BASE64URL.index(char) + 1) % 64]
        with pytest.raises(SignatureRejected):
            verify_vector_webhook(signature=signature[:index] + other + signature[index + 1 :])


def test_request_vector_is_rejected_with_any_signature_character_changed() -> None:
    signature = request_signature()
    for index, char in enumerate(signature):
        if char == ".":
            continue
        other = BASE64URL[(BASE64URL.index(char) + 1) % 64]
        with pytest.raises(SignatureRejected):
            verify_signature(
                signature[:index] + other + signature[index + 1 :],
                key=public_pem(),
                method="POST",
                path=REQUEST_PATH,
                headers=REQUEST_HEADERS,
                body=REQUEST_BODY,
            )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Tl-Webhook-Timestamp", "2021-11-29T11:42:56Z"),
        ("Content-Type", "application/json; charset=utf-8"),
    ],
)
def test_webhook_vector_is_rejected_with_a_signed_header_changed(
    live_jwks: object, name: str, value: str
) -> None:
    with pytest.raises(SignatureRejected):
        verify_vector_webhook(headers={**WEBHOOK_HEADERS, name: value})


def test_webhook_vector_is_rejected_without_its_timestamp_header(live_jwks: object) -> None:
    headers = {"Content-Type": "application/json"}
    with pytest.raises(SignatureRejected):
        verify_vector_webhook(headers=headers)


def test_webhook_vector_is_rejected_on_another_path_or_method(live_jwks: object) -> None:
    with pytest.raises(SignatureRejected):
        verify_vector_webhook(path="/tl-webhook-2")
    with pytest.raises(SignatureRejected):
        verify_vector_webhook(method="PUT")


def test_request_vector_is_rejected_with_another_idempotency_key() -> None:
    with pytest.raises(SignatureRejected):
        verify_signature(
            request_signature(),
            key=public_pem(),
            method="POST",
            path=REQUEST_PATH,
            headers={"Idempotency-Key": "idemp-2076717c-9005-4811-a321-9e0787fa0383"},
            body=REQUEST_BODY,
        )


def test_webhook_vector_jku_not_on_the_allow_list_is_refused_before_any_fetch(
    truelayer: responses.RequestsMock,
) -> None:
    sent = {**WEBHOOK_HEADERS, "Tl-Signature": webhook_signature()}
    with (
        override_settings(
            TRUELAYER_WEBHOOK_JKU_ALLOWLIST=[
                "https://webhooks.truelayer-sandbox.com/.well-known/jwks"
            ]
        ),
        pytest.raises(SignatureRejected, match="allow-list"),
    ):
        verify_webhook(method="POST", path="/tl-webhook", headers=sent, body=WEBHOOK_BODY)
    assert not [c for c in truelayer.calls if "jwks" in (c.request.url or "")]
