"""Simulator test helpers: deliveries captured at the webhook handler, a payment with a
simulator link, and pressing the hosted page's buttons."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from payments import services
from payments.domain import Payment
from payments.dynamo import Dynamo
from simulator import delivery
from tests.factories import ALICE


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


def new_payment(repo: Dynamo, reference: str = "INV-SIM", currency: str = "EUR") -> Payment:
    return services.payment_create(
        user_id=ALICE, amount=Decimal("25.00"), currency=currency, reference=reference, db=repo
    )


def act(client: Client, link_id: str, action: str, **data: str) -> list[str]:
    """Press one button of the hosted page; the messages the page then shows (and so uses up:
    the next press starts with none)."""
    response = client.post(reverse(f"simulator:{action}", args=[link_id]), data, follow=True)
    assert response.redirect_chain == [(reverse("simulator:pay", args=[link_id]), 302)]
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]
