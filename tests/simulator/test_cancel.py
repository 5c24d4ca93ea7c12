"""The simulator answers cancellations through the real webhook path: before `authorized`
the attempt fails with reason `canceled`; after, `payment_cancellation_failed`."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from payments import dynamo
from payments.dynamo import Dynamo
from simulator.lifecycle import cancel_attempt
from simulator.models import SimulatedPayment
from tests.factories import ALICE
from tests.simulator.conftest import Delivered, act, new_payment

pytestmark = pytest.mark.usefixtures("simulator_on")


def test_cancel_before_authorisation_fails_the_attempt_as_canceled(
    repo: Dynamo, alice: Client, deliveries: list[Delivered]
) -> None:
    payment = new_payment(repo, currency="GBP")
    act(alice, payment.payment_link_id, "pay_now", provider_id="mock-payments-gb-redirect")
    detail = alice.get(reverse("payments:detail", args=[payment.payment_id])).content.decode()
    assert "Cancel payment" in detail

    response = alice.post(reverse("payments:cancel", args=[payment.payment_id]), follow=True)

    assert deliveries[-1].type == "payment_failed" and deliveries[-1].status == 200
    assert deliveries[-1].event["failure_reason"] == "canceled"
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status.value == "attempt_failed"
    page = response.content.decode()
    assert "cancellation requested" in page and "payment failed (canceled)" in page
    assert "Cancel payment" not in page


def test_cancel_after_authorisation_is_refused_before_truelayer_is_asked(
    repo: Dynamo, alice: Client, deliveries: list[Delivered]
) -> None:
    payment = new_payment(repo, currency="GBP")
    act(alice, payment.payment_link_id, "pay_now", provider_id="mock-payments-gb-redirect")
    act(alice, payment.payment_link_id, "authorise")
    sent = len(deliveries)
    response = alice.post(reverse("payments:cancel", args=[payment.payment_id]), follow=True)
    assert "can be cancelled" in response.content.decode()
    assert len(deliveries) == sent


def test_the_simulator_answers_a_late_cancellation_with_cancellation_failed(
    repo: Dynamo, alice: Client, deliveries: list[Delivered]
) -> None:
    payment = new_payment(repo, currency="GBP")
    act(alice, payment.payment_link_id, "pay_now", provider_id="mock-payments-gb-redirect")
    act(alice, payment.payment_link_id, "authorise")
    (attempt,) = SimulatedPayment.objects.filter(link_id=payment.payment_link_id)
    cancel_attempt(attempt.payment_id)
    assert deliveries[-1].type == "payment_cancellation_failed"
    assert deliveries[-1].status == 200
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.history[-1].detail == "cancellation failed (payment_already_authorized)"
