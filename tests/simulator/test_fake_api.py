"""The simulator's fake TrueLayer API (the provider the product calls in simulator mode)
answers from the simulator's state, in TrueLayer's shapes, including what no webhook said."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from payments import dynamo
from payments.domain import format_timestamp, utc_now
from payments.dynamo import Dynamo
from simulator.models import SimulatedLink, SimulatedPayment
from simulator.provider import SimulatorProvider
from tests.factories import ALICE
from tests.simulator.conftest import Delivered, act, new_payment

pytestmark = pytest.mark.usefixtures("simulator_on")


def test_a_new_link_reads_enabled_with_its_expiry(repo: Dynamo) -> None:
    payment = new_payment(repo, currency="GBP")

    link = SimulatorProvider().get_payment_link(payment.payment_link_id)

    assert link["id"] == payment.payment_link_id
    assert link["status"] == "enabled"
    assert link["type"] == "single_payment"
    assert link["uri"] == payment.payment_link_url
    assert link["reference"] == "INV-SIM"
    assert link["expires_at"] == format_timestamp(payment.created_at + timedelta(hours=24))
    assert link["payment_configuration"]["amount_in_minor"] == 2500
    assert "disabled_reason" not in link and "disabled_at" not in link
    assert SimulatorProvider().list_link_payments(payment.payment_link_id) == []


def test_every_attempt_is_listed_in_truelayers_shape(repo: Dynamo, client: Client) -> None:
    payment = new_payment(repo, currency="GBP")
    link_id = payment.payment_link_id
    act(client, link_id, "pay_now", provider_id="mock-payments-gb-redirect")
    act(client, link_id, "fail", failure_reason="authorization_failed")
    act(client, link_id, "pay_now", provider_id="mock-payments-gb-embedded")
    act(client, link_id, "authorise")
    act(client, link_id, "settle")
    first, second = SimulatedPayment.objects.filter(link_id=link_id)

    items = SimulatorProvider().list_link_payments(link_id)

    assert [item["id"] for item in items] == [first.payment_id, second.payment_id]
    failed, settled = items
    assert failed == {
        "id": first.payment_id,
        "status": "failed",
        "amount_in_minor": 2500,
        "currency": "GBP",
        "created_at": format_timestamp(first.created_at),
        "payment_method": {
            "type": "bank_transfer",
            "provider_selection": {
                "type": "user_selected",
                "provider_id": "mock-payments-gb-redirect",
                "scheme_id": "faster_payments_service",
            },
            "beneficiary": {
                "type": "merchant_account",
                "merchant_account_id": "simulator-merchant-account",
            },
        },
        "metadata": {"payment_id": payment.payment_id},
        "failed_at": format_timestamp(first.failed_at),  # type: ignore[arg-type]
        "failure_stage": "authorization_required",
        "failure_reason": "authorization_failed",
    }
    assert settled["status"] == "settled"
    assert settled["payment_method"]["provider_selection"]["provider_id"] == (
        "mock-payments-gb-embedded"
    )
    assert settled["executed_at"] == format_timestamp(second.executed_at)  # type: ignore[arg-type]
    assert settled["settled_at"] == format_timestamp(second.settled_at)  # type: ignore[arg-type]
    assert "failure_reason" not in settled and "failure_stage" not in settled
    assert settled["payment_source"]["account_holder_name"]
    for item in items:
        assert SimulatorProvider().get_payment(item["id"]) == item
    link = SimulatorProvider().get_payment_link(link_id)
    assert link["status"] == "disabled"
    assert link["disabled_reason"] == "fulfilled"
    assert link["disabled_at"] == settled["executed_at"]


def test_the_link_reads_disabling_while_an_attempt_is_at_the_bank(
    repo: Dynamo, client: Client
) -> None:
    link_id = new_payment(repo).payment_link_id
    act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect")
    assert SimulatorProvider().get_payment_link(link_id)["status"] == "enabled"

    act(client, link_id, "bank")

    assert SimulatorProvider().get_payment_link(link_id)["status"] == "disabling"
    act(client, link_id, "fail", failure_reason="provider_error")
    assert SimulatorProvider().get_payment_link(link_id)["status"] == "enabled"


def test_settlement_facts_are_in_the_answer(repo: Dynamo, client: Client) -> None:
    link_id = new_payment(repo).payment_link_id
    act(client, link_id, "authorise")
    act(client, link_id, "stall")
    act(client, link_id, "settle")
    act(client, link_id, "creditable")
    act(client, link_id, "reverse", reversal_reason="fraud")

    (answer,) = SimulatorProvider().list_link_payments(link_id)

    assert answer["status"] == "settled"
    for name in ("settlement_stalled_at", "creditable_at", "reversed_at"):
        assert answer[name] <= format_timestamp(utc_now())
    assert answer["reversal_reason"] == "fraud"


@pytest.mark.parametrize(
    ("steps", "action", "data", "expected"),
    [
        ([], "authorise", {}, ("executed", "disabled", "fulfilled")),
        (["authorise"], "fail_verification", {}, ("failed", "disabled", "fulfilled")),
        (["authorise"], "settle", {}, ("settled", "disabled", "fulfilled")),
        (["pay_now"], "fail", {"failure_reason": "provider_error"}, ("failed", "enabled", None)),
        ([], "expire", {}, (None, "disabled", "expired")),
    ],
)
def test_a_lost_webhook_changes_the_api_answer_and_delivers_nothing(
    repo: Dynamo,
    client: Client,
    deliveries: list[Delivered],
    steps: list[str],
    action: str,
    data: dict[str, str],
    expected: tuple[str | None, str, str | None],
) -> None:
    payment = new_payment(repo)
    link_id = payment.payment_link_id
    for step in steps:
        act(client, link_id, step, provider_id="mock-payments-fr-redirect")
    delivered_before = len(deliveries)
    dashboard_before = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)

    act(client, link_id, action, delivery="lose", **data)

    assert len(deliveries) == delivered_before
    dashboard_after = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert dashboard_before is not None and dashboard_after is not None
    assert dashboard_after.status == dashboard_before.status  # nothing told the dashboard
    items = SimulatorProvider().list_link_payments(link_id)
    link = SimulatorProvider().get_payment_link(link_id)
    attempt_status, link_status, reason = expected
    assert (items[-1]["status"] if items else None) == attempt_status
    assert (link["status"], link.get("disabled_reason")) == (link_status, reason)


def test_a_link_past_its_expiry_reads_disabled_expired_without_anyone_pressing_expire(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = new_payment(repo).payment_link_id
    act(client, link_id, "fail", failure_reason="provider_error")  # a failed try is no payment
    expired_at = utc_now() - timedelta(minutes=1)
    SimulatedLink.objects.filter(link_id=link_id).update(expires_at=expired_at)
    delivered_before = len(deliveries)

    link = SimulatorProvider().get_payment_link(link_id)

    assert link["status"] == "disabled"
    assert link["disabled_reason"] == "expired"
    assert link["disabled_at"] == format_timestamp(expired_at)
    assert len(deliveries) == delivered_before  # no clock, no webhook: only the API knows
    assert act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect") == [
        "This link is disabled: it cannot be paid any more."
    ]
    # The payer's page offers to send the webhook TrueLayer would have sent at expiry.
    assert (
        "Send the expiry webhook now" in client.get(f"/simulator/pay/{link_id}/").content.decode()
    )
    act(client, link_id, "expire")
    (disabled,) = deliveries[delivered_before:]
    assert disabled.type == "payment_link_disabled"
    assert disabled.event["disabled_reason"] == "expired"
    assert disabled.event["disabled_at"] == format_timestamp(expired_at)
    assert 200 <= disabled.status < 300


def test_a_paid_link_past_its_expiry_stays_fulfilled(repo: Dynamo, client: Client) -> None:
    link_id = new_payment(repo).payment_link_id
    act(client, link_id, "authorise")
    SimulatedLink.objects.filter(link_id=link_id).update(
        expires_at=utc_now() - timedelta(minutes=1)
    )

    link = SimulatorProvider().get_payment_link(link_id)

    assert (link["status"], link["disabled_reason"]) == ("disabled", "fulfilled")


def test_an_unpaid_link_before_its_expiry_stays_enabled(repo: Dynamo) -> None:
    link_id = new_payment(repo).payment_link_id
    SimulatedLink.objects.filter(link_id=link_id).update(
        expires_at=utc_now() + timedelta(minutes=1)
    )

    assert SimulatorProvider().get_payment_link(link_id)["status"] == "enabled"
