"""The webhook endpoint's 503s say when to come back, and a JWKS host that is down is not
asked again on every delivery (a growing pause after each failure)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import responses
from django.test import Client

from payments import dynamo
from payments.dynamo import Dynamo
from payments.errors import DatabaseUnavailable
from tests.truelayer.fakes import SANDBOX_JKU, WebhookSigner, event_body
from tests.truelayer.fakes import truelayer as truelayer  # noqa: F401  (fixture)
from tests.webhooks.helpers import post


def jwks_fetches(mock: responses.RequestsMock) -> int:
    return sum(1 for call in mock.calls if call.request.url == SANDBOX_JKU)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)  # the module webhooks.py reads the time from
    return clock


def test_a_jwks_failure_pauses_fetching_and_the_pause_grows(
    client: Client,
    repo: Dynamo,
    truelayer: responses.RequestsMock,
    clock: Clock,
) -> None:
    signer = WebhookSigner()
    truelayer.add(responses.GET, SANDBOX_JKU, status=503)

    def deliver() -> Any:
        body = event_body("payment_executed", payment_id="x")
        headers = signer.sign(body)
        return client.post(
            "/webhooks/truelayer/",
            data=body,
            content_type=headers.pop("Content-Type"),
            headers=headers,
        )

    first = deliver()
    assert (first.status_code, first["Retry-After"]) == (503, "60")
    assert jwks_fetches(truelayer) == 1
    for _ in range(5):  # within the 5 s pause: answered without asking the JWKS host
        assert deliver().status_code == 503
    assert jwks_fetches(truelayer) == 1

    clock.now += 6  # the pause is over: one more try, which fails; now the pause is 10 s
    assert deliver().status_code == 503
    assert jwks_fetches(truelayer) == 2
    clock.now += 6
    assert deliver().status_code == 503
    assert jwks_fetches(truelayer) == 2

    clock.now += 5  # 11 s after the second failure: the host answers again
    truelayer.replace(responses.GET, SANDBOX_JKU, json=signer.jwks())
    assert deliver().status_code in {200, 202}
    assert jwks_fetches(truelayer) == 3


def test_a_database_failure_answers_503_with_retry_after(
    client: Client,
    repo: Dynamo,
    truelayer: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signer = WebhookSigner()
    truelayer.add(responses.GET, SANDBOX_JKU, json=signer.jwks())

    def down(*args: object, **kwargs: object) -> None:
        raise DatabaseUnavailable()

    monkeypatch.setattr(dynamo, "owner_get", down)
    status, text = post(client, signer, event_body("payment_executed", payment_id="x"))
    assert status == 503
    assert "cannot be reached" in text
