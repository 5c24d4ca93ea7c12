from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import services
from payments.domain import Payment
from payments.repository import PaymentRepository
from simulator import delivery
from tests.factories import ALICE
from tests.truelayer.fakes import truelayer as truelayer  # noqa: F401  (fixture)

SIMULATOR_JKU = "https://simulator.payments-dashboard.invalid/.well-known/jwks"


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Tokens and JWKS are cached in Django's cache: every test starts without them."""
    cache.clear()


@pytest.fixture
def simulator_on(settings: SettingsWrapper, db: None) -> Iterator[None]:
    settings.DEBUG = True
    settings.TRUELAYER_MODE = "simulator"
    settings.TRUELAYER_SIMULATOR_BASE_URL = "http://testserver"
    settings.TRUELAYER_WEBHOOK_JKU_ALLOWLIST = [SIMULATOR_JKU]
    yield


@dataclass(frozen=True)
class Delivered:
    """One request the simulator handed to the real webhook handler, and its answer."""

    event: dict[str, Any]
    headers: dict[str, str]
    status: int
    message: str

    @property
    def type(self) -> str:
        return str(self.event["type"])


@pytest.fixture
def deliveries(monkeypatch: pytest.MonkeyPatch) -> list[Delivered]:
    """Every webhook the simulator delivers, in order, captured at the handler's door (the
    signed bytes and headers as sent, and what the verifier and handler answered)."""
    captured: list[Delivered] = []
    real = delivery.webhook_receive

    def spy(**kwargs: Any) -> services.WebhookResult:
        result = real(**kwargs)
        captured.append(
            Delivered(
                event=json.loads(kwargs["body"]),
                headers=dict(kwargs["headers"]),
                status=result.status,
                message=result.message,
            )
        )
        return result

    monkeypatch.setattr(delivery, "webhook_receive", spy)
    return captured


def new_payment(
    repo: PaymentRepository, reference: str = "INV-SIM", currency: str = "EUR"
) -> Payment:
    return services.payment_create(
        user_id=ALICE, amount="25.00", currency=currency, reference=reference, repo=repo
    )


def act(client: Client, link_id: str, action: str, **data: str) -> list[str]:
    """Press one button of the hosted page; the messages the page then shows (and so uses up:
    the next press starts with none)."""
    response = client.post(reverse(f"simulator:{action}", args=[link_id]), data, follow=True)
    assert response.redirect_chain == [(reverse("simulator:pay", args=[link_id]), 302)]
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]
