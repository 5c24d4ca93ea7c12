"""Refunds on the simulator: the dashboard's refund reaches the simulator's fake API (same
rules as TrueLayer: only a paid attempt, never more than remains, one refund per
Idempotency-Key), and the merchant executes or fails it on the simulator's page, which sends
`refund_executed` / `refund_failed` through the real webhook path."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from payments import dynamo, services
from payments.dynamo import Dynamo
from payments.lifecycle import RefundStatus
from payments.truelayer.client import TrueLayerError
from payments.truelayer.provider import RefundRequest
from simulator.models import SimulatedRefund
from simulator.provider import SimulatorProvider
from tests.factories import ALICE
from tests.simulator.conftest import Delivered, act, new_payment

pytestmark = pytest.mark.usefixtures("simulator_on")


def paid_on_simulator(repo: Dynamo, client: Client) -> str:
    payment = new_payment(repo, currency="GBP")
    act(client, payment.payment_link_id, "pay_now", provider_id="mock-payments-gb-redirect")
    act(client, payment.payment_link_id, "authorise")
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status.value == "executed"
    return payment.payment_id


def refund(payment_id: str, amount: str, token: str) -> services.RefundResult:
    return services.refund_create(
        user_id=ALICE, payment_id=payment_id, amount=amount, reference="REFUND", form_token=token
    )


def test_a_refund_executed_on_the_simulator_page_reaches_the_dashboard(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    payment_id = paid_on_simulator(repo, client)
    result = refund(payment_id, "10.00", "a" * 32)
    (simulated,) = SimulatedRefund.objects.all()
    assert result.refund.truelayer_refund_id == simulated.refund_id
    assert simulated.amount_in_minor == 1000

    payment = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
    assert payment is not None
    page = client.get(reverse("simulator:pay", args=[payment.payment_link_id])).content.decode()
    assert simulated.refund_id in page and "Execute refund" in page
    act(client, payment.payment_link_id, "refund_execute", refund_id=simulated.refund_id)

    assert deliveries[-1].type == "refund_executed" and deliveries[-1].status == 200
    payment = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
    assert payment is not None
    (ours,) = payment.lifecycle.refunds
    assert ours.status is RefundStatus.EXECUTED and payment.lifecycle.refunded_minor == 1000


def test_a_refund_failed_on_the_simulator_returns_its_amount(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    payment_id = paid_on_simulator(repo, client)
    refund(payment_id, "25.00", "b" * 32)
    (simulated,) = SimulatedRefund.objects.all()
    payment = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
    assert payment is not None and payment.lifecycle.refund_reserved_minor == 2500

    act(client, payment.payment_link_id, "refund_fail", refund_id=simulated.refund_id)

    assert deliveries[-1].type == "refund_failed" and deliveries[-1].status == 200
    payment = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
    assert payment is not None
    (ours,) = payment.lifecycle.refunds
    assert ours.status is RefundStatus.FAILED
    assert payment.lifecycle.refund_reserved_minor == 0
    assert refund(payment_id, "25.00", "c" * 32).refund.truelayer_refund_id


def test_the_simulator_refuses_what_truelayer_refuses(repo: Dynamo, client: Client) -> None:
    payment_id = paid_on_simulator(repo, client)
    payment = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
    assert payment is not None

    provider = SimulatorProvider()
    base = RefundRequest(payment.truelayer_payment_id, "r1", payment_id, 2500, "R", "key-1")
    first = provider.create_refund(base)  # the whole 25.00 GBP
    assert provider.create_refund(base) == first  # same key, same bytes: the same refund
    with pytest.raises(TrueLayerError, match="Idempotency-Key Reuse"):
        provider.create_refund(RefundRequest(base.attempt_id, "r1", payment_id, 2499, "R", "key-1"))
    with pytest.raises(TrueLayerError) as refused:
        provider.create_refund(RefundRequest(base.attempt_id, "r2", payment_id, 501, "R", "key-2"))
    assert refused.value.status == 400 and "exceeds the 0 that remains" in refused.value.detail
    listed = provider.list_refunds(payment.truelayer_payment_id)
    assert [(r["id"], r["status"], r["amount_in_minor"]) for r in listed] == [
        (first, "pending", 2500)
    ]
