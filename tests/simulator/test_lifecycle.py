"""Each action on the simulator's hosted page sends TrueLayer's events, in TrueLayer's order,
with TrueLayer's field names, through the real webhook verifier (every one answered 2xx).

These tests look at what the simulator sends, not at how the dashboard handles new events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from payments.dynamo import Dynamo
from payments.errors import RepositoryError
from simulator import delivery
from simulator.models import SimulatedLink, SimulatedPayment, SimulatedWebhook
from tests.simulator.conftest import Delivered, act, new_payment

pytestmark = pytest.mark.usefixtures("simulator_on")


def _link(repo: Dynamo, currency: str = "EUR") -> str:
    return new_payment(repo, currency=currency).payment_link_id


def _only_attempt(link_id: str) -> SimulatedPayment:
    (attempt,) = SimulatedPayment.objects.filter(link_id=link_id)
    return attempt


def _assert_envelope(delivered: Delivered) -> None:
    """What every TrueLayer webhook has: type, version, a UUID event_id, a fresh timestamp,
    and a signature the real verifier accepted."""
    assert 200 <= delivered.status < 300, (delivered.type, delivered.status, delivered.message)
    assert delivered.event["event_version"] == 1
    assert uuid.UUID(delivered.event["event_id"])
    sent_at = datetime.strptime(
        delivered.headers["X-Tl-Webhook-Timestamp"], "%Y-%m-%dT%H:%M:%SZ"
    ).replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - sent_at) < timedelta(seconds=10)
    assert delivered.headers["Tl-Signature"].count(".") == 2


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_pay_now_creates_an_attempt_and_sends_payment_link_payment_created(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)

    act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect")

    attempt = _only_attempt(link_id)
    assert attempt.status == "authorization_required"
    assert attempt.provider_id == "mock-payments-fr-redirect"
    (created,) = deliveries
    _assert_envelope(created)
    assert created.event == {
        "type": "payment_link_payment_created",
        "event_version": 1,
        "event_id": created.event["event_id"],
        "payment_link_id": link_id,
        "payment": {"id": attempt.payment_id, "created_at": created.event["payment"]["created_at"]},
    }
    assert _parse(created.event["payment"]["created_at"]) == attempt.created_at.replace(
        microsecond=attempt.created_at.microsecond // 1000 * 1000
    )


def test_authorising_sends_executed_then_link_disabled_as_fulfilled(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    payment = new_payment(repo, currency="GBP")
    link_id = payment.payment_link_id
    act(client, link_id, "pay_now", provider_id="mock-payments-gb-embedded")
    deliveries.clear()

    act(client, link_id, "authorise")

    assert [d.type for d in deliveries] == ["payment_executed", "payment_link_disabled"]
    for delivered in deliveries:
        _assert_envelope(delivered)
    executed, disabled = (d.event for d in deliveries)
    attempt = _only_attempt(link_id)
    assert attempt.status == "executed"
    assert executed["payment_id"] == attempt.payment_id
    assert _parse(executed["executed_at"]) <= datetime.now(UTC)
    assert executed["payment_method"] == {
        "type": "bank_transfer",
        "provider_id": "mock-payments-gb-embedded",
        "scheme_id": "faster_payments_service",
    }
    assert executed["payment_source"]["account_holder_name"]
    # Our own payment id travels in the metadata, as the link request asked.
    assert executed["metadata"] == {"payment_id": payment.payment_id}
    assert disabled["payment_link_id"] == link_id
    assert disabled["disabled_reason"] == "fulfilled"
    assert disabled["disabled_at"] == executed["executed_at"]
    assert "disablement_reason" not in disabled


def test_payment_authorized_is_sent_first_only_when_opted_in(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)
    act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect")
    deliveries.clear()

    act(client, link_id, "authorise", send_authorized="1")

    assert [d.type for d in deliveries] == [
        "payment_authorized",
        "payment_executed",
        "payment_link_disabled",
    ]
    authorized = deliveries[0].event
    _assert_envelope(deliveries[0])
    assert authorized["payment_method"]["provider_id"] == "mock-payments-fr-redirect"
    assert authorized["authorized_at"]


def test_a_failed_attempt_keeps_the_link_open_and_a_second_attempt_can_pay(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)
    act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect")
    act(client, link_id, "fail", failure_reason="insufficient_funds")
    act(client, link_id, "pay_now", provider_id="mock-payments-de-embedded")
    act(client, link_id, "authorise")

    first, second = SimulatedPayment.objects.filter(link_id=link_id)
    assert (first.status, second.status) == ("failed", "executed")
    assert [d.type for d in deliveries] == [
        "payment_link_payment_created",
        "payment_failed",
        "payment_link_payment_created",
        "payment_executed",
        "payment_link_disabled",
    ]
    for delivered in deliveries:
        _assert_envelope(delivered)
    failed = deliveries[1].event
    assert failed["payment_id"] == first.payment_id
    assert failed["failure_stage"] == "authorization_required"
    assert failed["failure_reason"] == "insufficient_funds"
    assert failed["failed_at"]
    assert deliveries[2].event["payment"]["id"] == second.payment_id
    assert deliveries[3].event["payment_id"] == second.payment_id
    assert len({d.event["event_id"] for d in deliveries}) == 5


def test_failing_at_the_bank_reports_the_stage_reached(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)
    act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect")
    deliveries.clear()

    messages = act(client, link_id, "bank")

    assert deliveries == []  # TrueLayer sends nothing when the payer reaches the bank
    assert messages == ["Done: TrueLayer sends no webhook for this step."]
    assert _only_attempt(link_id).status == "authorizing"
    act(client, link_id, "fail", failure_reason="user_canceled_at_provider")
    (failed,) = deliveries
    assert failed.event["failure_stage"] == "authorizing"
    assert failed.event["failure_reason"] == "user_canceled_at_provider"


def test_an_abandoned_attempt_fails_as_expired_but_the_link_stays_enabled(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)
    act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect")
    deliveries.clear()

    act(client, link_id, "abandon")

    (failed,) = deliveries
    _assert_envelope(failed)
    assert failed.type == "payment_failed"
    assert failed.event["failure_reason"] == "expired"
    assert SimulatedLink.objects.get(link_id=link_id).status == "enabled"


def test_verification_can_fail_an_executed_payment(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)
    act(client, link_id, "authorise")
    deliveries.clear()

    act(client, link_id, "fail_verification")

    (failed,) = deliveries
    _assert_envelope(failed)
    assert failed.type == "payment_failed"
    assert failed.event["failure_stage"] == "executed"
    assert failed.event["failure_reason"] == "verification_failed"
    attempt = _only_attempt(link_id)
    assert attempt.status == "failed" and attempt.executed_at is not None
    link = SimulatedLink.objects.get(link_id=link_id)
    assert (link.status, link.disabled_reason) == ("disabled", "fulfilled")


def test_settling_then_reversing(repo: Dynamo, client: Client, deliveries: list[Delivered]) -> None:
    link_id = _link(repo)
    act(client, link_id, "authorise")
    deliveries.clear()

    act(client, link_id, "settle")
    act(client, link_id, "reverse", reversal_reason="returned_by_bank")

    settled, reversed_ = deliveries
    for delivered in deliveries:
        _assert_envelope(delivered)
    attempt = _only_attempt(link_id)
    assert settled.type == "payment_settled"
    assert settled.event["payment_id"] == attempt.payment_id
    assert settled.event["settled_at"]
    assert settled.event["payment_method"]["type"] == "bank_transfer"
    assert reversed_.type == "payment_reversed"
    assert reversed_.event["reversed_at"]
    assert reversed_.event["reversal_reason"] == "returned_by_bank"
    assert attempt.status == "settled" and attempt.reversed_at is not None


def test_stalling_and_creditable_are_facts_not_status_changes(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)
    act(client, link_id, "authorise")
    deliveries.clear()

    act(client, link_id, "stall")
    act(client, link_id, "creditable")

    stalled, creditable = deliveries
    for delivered in deliveries:
        _assert_envelope(delivered)
    assert stalled.type == "payment_settlement_stalled"
    assert stalled.event["settlement_stalled_at"]
    assert creditable.type == "payment_creditable"
    assert creditable.event["creditable_at"]
    attempt = _only_attempt(link_id)
    assert attempt.status == "executed"
    assert attempt.settlement_stalled_at and attempt.creditable_at


def test_expiring_the_link_sends_link_disabled_as_expired_even_after_a_failed_attempt(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)
    act(client, link_id, "fail", failure_reason="provider_error")
    deliveries.clear()

    act(client, link_id, "expire")

    (disabled,) = deliveries
    _assert_envelope(disabled)
    assert disabled.type == "payment_link_disabled"
    assert disabled.event["disabled_reason"] == "expired"
    assert disabled.event["disabled_at"]
    assert disabled.event["payment_link_id"] == link_id


def test_twice_delivers_the_same_event_id_twice(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)

    act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect", delivery="twice")

    first, second = deliveries
    assert first.event == second.event
    assert 200 <= first.status < 300 and 200 <= second.status < 300


def test_late_delivery_sends_payment_link_payment_created_after_payment_executed(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)

    messages = act(
        client, link_id, "pay_now", provider_id="mock-payments-fr-redirect", delivery="late"
    )
    assert deliveries == []
    assert "held back" in messages[0]
    act(client, link_id, "authorise")

    assert [d.type for d in deliveries] == [
        "payment_executed",
        "payment_link_disabled",
        "payment_link_payment_created",
    ]
    for delivered in deliveries:
        _assert_envelope(delivered)


def test_held_webhooks_can_be_released_on_their_own(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)
    act(client, link_id, "authorise", delivery="late")
    assert deliveries == []

    act(client, link_id, "release")

    assert [d.type for d in deliveries] == [
        "payment_link_payment_created",
        "payment_executed",
        "payment_link_disabled",
    ]
    assert act(client, link_id, "release") == ["No webhook is held back or waiting for a retry."]


def test_a_refused_webhook_is_sent_again_like_truelayers_retries(
    repo: Dynamo,
    client: Client,
    deliveries: list[Delivered],
    settings: SettingsWrapper,
) -> None:
    link_id = _link(repo)
    allowed = settings.TRUELAYER_WEBHOOK_JKU_ALLOWLIST
    settings.TRUELAYER_WEBHOOK_JKU_ALLOWLIST = []  # the endpoint refuses the simulator's key

    messages = act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect")

    (refused,) = deliveries
    assert refused.status == 401
    assert "refused (401)" in messages[0]
    settings.TRUELAYER_WEBHOOK_JKU_ALLOWLIST = allowed
    act(client, link_id, "release")
    retried = deliveries[1]
    assert retried.event == refused.event  # the same event, same event_id
    assert 200 <= retried.status < 300
    assert act(client, link_id, "release") == ["No webhook is held back or waiting for a retry."]


def test_a_webhook_the_database_could_not_take_is_kept_for_a_retry(
    repo: Dynamo,
    client: Client,
    deliveries: list[Delivered],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    link_id = _link(repo)

    def unavailable(**kwargs: object) -> None:
        raise RepositoryError("DynamoDB did not answer")

    monkeypatch.setattr(delivery, "webhook_receive", unavailable)
    messages = act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect")

    assert "refused (503)" in messages[0]
    (webhook,) = SimulatedWebhook.objects.filter(link_id=link_id)
    assert (webhook.outcome, webhook.response_status) == ("retry", 503)


def test_a_lost_webhook_is_not_delivered_and_the_page_says_so(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)
    act(client, link_id, "pay_now", provider_id="mock-payments-fr-redirect")
    deliveries.clear()

    messages = act(client, link_id, "authorise", delivery="lose")

    assert deliveries == []
    assert len(messages) == 2 and all("lost on purpose" in m for m in messages)
    assert _only_attempt(link_id).status == "executed"
    page = client.get(f"/simulator/pay/{link_id}/").content.decode()
    assert page.count(">lost<") == 2


@pytest.mark.parametrize(
    ("steps", "action", "data", "expected"),
    [
        ([], "settle", {}, "There is no attempt to act on: press Pay now first."),
        (
            ["authorise"],
            "pay_now",
            {"provider_id": "mock-payments-fr-redirect"},
            "This link is disabled",
        ),
        (["authorise"], "expire", {}, "Only an enabled link can expire."),
        (
            ["authorise"],
            "reverse",
            {"reversal_reason": "fraud"},
            "Only a settled payment can be reversed.",
        ),
        (["authorise", "settle"], "stall", {}, "Only an executed, unsettled payment can stall."),
        ([], "pay_now", {"provider_id": "mock-payments-gb-redirect"}, "Pick a bank."),
        ([], "fail", {"failure_reason": "bored"}, "Pick a failure reason."),
        ([], "pay_now", {"delivery": "sideways"}, "Pick how the webhooks are delivered."),
        ([], "settle", {"payment_id": "sim-pay-not-here"}, "No such attempt on this link."),
    ],
)
def test_an_impossible_action_changes_nothing_and_says_why(
    repo: Dynamo,
    client: Client,
    deliveries: list[Delivered],
    steps: list[str],
    action: str,
    data: dict[str, str],
    expected: str,
) -> None:
    link_id = _link(repo)  # EUR: the UK banks are not offered
    for step in steps:
        act(client, link_id, step)
    before = (
        list(SimulatedPayment.objects.filter(link_id=link_id).values()),
        list(SimulatedLink.objects.filter(link_id=link_id).values()),
        len(deliveries),
    )

    messages = act(client, link_id, action, **data)

    assert len(messages) == 1 and messages[0].startswith(expected)
    after = (
        list(SimulatedPayment.objects.filter(link_id=link_id).values()),
        list(SimulatedLink.objects.filter(link_id=link_id).values()),
        len(deliveries),
    )
    assert after == before


def test_an_unknown_link_is_not_found(client: Client) -> None:
    assert client.post("/simulator/pay/sim-link-nope/authorise/").status_code == 404
    assert client.get("/simulator/pay/sim-link-nope/").status_code == 404


def test_the_page_lists_every_attempt_and_each_webhook_with_the_dashboards_answer(
    repo: Dynamo, client: Client, deliveries: list[Delivered]
) -> None:
    link_id = _link(repo)
    act(client, link_id, "fail", failure_reason="provider_rejected")
    act(client, link_id, "authorise")

    page = client.get(f"/simulator/pay/{link_id}/").content.decode()

    first, second = SimulatedPayment.objects.filter(link_id=link_id)
    assert first.payment_id in page and second.payment_id in page
    assert "authorization_required: provider_rejected" in page
    assert page.count(">delivered<") == len(deliveries) == 5
    for delivered in deliveries:
        assert f"{delivered.status} {delivered.message}" in page
    assert "SIMULATOR" in page
