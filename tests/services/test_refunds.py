"""refund_create / refund_retry: DynamoDB first (under the over-refund guard), then TrueLayer
(faked at the HTTP boundary), then DynamoDB; refund webhooks through the real event path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
import responses
import truelayer_signing

from payments import dynamo, services
from payments.domain import Payment
from payments.dynamo import Dynamo
from payments.errors import DatabaseUnavailable
from payments.lifecycle import AttemptSeen, AttemptStatus, RefundStatus
from payments.refunds import RefundRefused
from payments.services.errors import PaymentNotFound
from payments.services.webhooks import webhook_receive
from tests.factories import ALICE, BOB
from tests.truelayer.fakes import API, WebhookSigner, event_body, our_public_pem, problem
from tests.webhooks.helpers import payment_with_link

T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
PATH = "/webhooks/truelayer/"


def paid(repo: Dynamo, amount: str = "20.00") -> Payment:
    payment = payment_with_link(repo, amount=amount)
    observed = dynamo.payment_observe(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        observation=AttemptSeen("tl-pay-1", AttemptStatus.EXECUTED, T0),
        source="test",
    )
    assert observed.payment is not None
    return observed.payment


REFUNDS_URL = f"{API}/v3/payments/tl-pay-1/refunds"


def refund(
    repo: Dynamo, payment: Payment, amount: str, token: str = "form-1", **kw: str
) -> services.RefundResult:
    return services.refund_create(
        user_id=kw.pop("user_id", ALICE),
        payment_id=payment.payment_id,
        amount=amount,
        reference=kw.pop("reference", "REFUND 1"),
        form_token=token,
        requested_by="alice@example.com",
        db=repo,
    )


def posts(mock_api: responses.RequestsMock) -> list[responses.Call]:
    return [c for c in mock_api.calls if c.request.url == REFUNDS_URL]


def test_a_refund_is_stored_then_sent_signed_with_its_key_then_stores_truelayers_id(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, REFUNDS_URL, json={"id": "tl-refund-1"}, status=202)
    payment = paid(repo)

    result = refund(repo, payment, "7.50")

    assert result.created and result.refund.status is RefundStatus.PENDING
    assert result.refund.truelayer_refund_id == "tl-refund-1"
    assert result.refund.requested_by == "alice@example.com"
    (call,) = posts(truelayer)
    body = call.request.body
    assert isinstance(body, bytes)
    assert json.loads(body) == {
        "amount_in_minor": 750,
        "reference": "REFUND 1",
        "metadata": {"payment_id": payment.payment_id, "refund_id": result.refund.refund_id},
    }
    assert call.request.headers["Idempotency-Key"] == result.refund.idempotency_key
    truelayer_signing.verify_with_pem(our_public_pem()).set_method(
        truelayer_signing.HttpMethod.POST
    ).set_path("/v3/payments/tl-pay-1/refunds").add_header(
        "Idempotency-Key", result.refund.idempotency_key
    ).set_body(body.decode()).verify(call.request.headers["Tl-Signature"])
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.lifecycle.refund_reserved_minor == 750
    # Who asked is the entry's actor (shown "by ..." on the detail page), not part of its words.
    entry = next(h for h in stored.history if h.detail == "refund of 7.50 GBP requested")
    assert entry.actor == "alice@example.com"


def test_a_double_clicked_refund_makes_one_refund_and_one_call(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, REFUNDS_URL, json={"id": "tl-refund-1"}, status=202)
    payment = paid(repo)
    first = refund(repo, payment, "5.00", token="same")
    second = refund(repo, payment, "5.00", token="same")
    assert first.created and not second.created
    assert second.refund.refund_id == first.refund.refund_id
    assert len(posts(truelayer)) == 1
    assert second.payment.lifecycle.refund_reserved_minor == 500


@pytest.mark.parametrize(
    ("amount", "field", "message"),
    [
        ("0", "amount", "greater than zero"),
        ("-1", "amount", "greater than zero"),
        ("1.005", "amount", "at most 2 decimal places"),
        ("abc", "amount", "is not an amount"),
        ("20.01", "amount", "At most 20.00 GBP remains"),
    ],
)
def test_bad_amounts_are_refused_before_anything_is_written_or_sent(
    repo: Dynamo, truelayer: responses.RequestsMock, amount: str, field: str, message: str
) -> None:
    payment = paid(repo)
    with pytest.raises(RefundRefused) as refused:
        refund(repo, payment, amount)
    assert refused.value.field == field and message in refused.value.message
    assert posts(truelayer) == []
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.lifecycle.refunds == ()


def test_a_bank_unsafe_reference_is_refused(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = paid(repo)
    with pytest.raises(RefundRefused) as refused:
        refund(repo, payment, "1.00", reference="refund (1)")
    assert refused.value.field == "reference"
    assert posts(truelayer) == []


def test_a_payment_not_yet_paid_cannot_be_refunded(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo, amount="20.00")
    with pytest.raises(RefundRefused) as refused:
        refund(repo, payment, "1.00")
    assert refused.value.field == "payment" and "pending" in refused.value.message
    assert posts(truelayer) == []


def test_another_merchants_payment_is_not_found(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = paid(repo)
    with pytest.raises(PaymentNotFound):
        refund(repo, payment, "1.00", user_id=BOB)
    assert posts(truelayer) == []


def test_dynamodb_down_sends_nothing(repo: Dynamo, truelayer: responses.RequestsMock) -> None:
    payment = paid(repo)
    with (
        mock.patch.object(dynamo, "refund_create", side_effect=DatabaseUnavailable()),
        pytest.raises(DatabaseUnavailable),
    ):
        refund(repo, payment, "1.00")
    assert posts(truelayer) == []


def test_truelayer_down_leaves_a_pending_refund_that_retries_with_the_same_key_and_bytes(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, REFUNDS_URL, json=problem(503, "Service Unavailable"), status=503)
    payment = paid(repo)

    result = refund(repo, payment, "4.00")

    assert result.refund.status is RefundStatus.PENDING
    assert result.refund.awaiting_truelayer
    assert "Service Unavailable" in result.refund.send_error
    assert result.payment.lifecycle.refund_reserved_minor == 400  # TrueLayer may have made it
    first_calls = posts(truelayer)
    assert len(first_calls) == 4  # TRUELAYER_MAX_ATTEMPTS, same key each time

    truelayer.replace(responses.POST, REFUNDS_URL, json={"id": "tl-refund-9"}, status=202)
    retried = services.refund_retry(
        user_id=ALICE, payment_id=payment.payment_id, refund_id=result.refund.refund_id, db=repo
    )
    assert retried.refund.truelayer_refund_id == "tl-refund-9"
    assert retried.refund.send_error == ""
    calls = posts(truelayer)
    assert {c.request.headers["Idempotency-Key"] for c in calls} == {result.refund.idempotency_key}
    assert {c.request.body for c in calls} == {first_calls[0].request.body}


def test_a_refund_truelayer_refuses_fails_and_its_amount_remains_refundable(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(
        responses.POST,
        REFUNDS_URL,
        json=problem(400, "Invalid Parameters", detail="Refund exceeds balance"),
        status=400,
    )
    payment = paid(repo)

    result = refund(repo, payment, "20.00")

    assert result.refund.status is RefundStatus.FAILED
    assert "Refund exceeds balance" in result.refund.failure_reason
    assert result.payment.lifecycle.refund_reserved_minor == 0
    assert len(posts(truelayer)) == 1
    truelayer.replace(responses.POST, REFUNDS_URL, json={"id": "tl-refund-2"}, status=202)
    again = refund(repo, payment, "20.00", token="form-2")
    assert again.refund.truelayer_refund_id == "tl-refund-2"


def deliver(signer: WebhookSigner, event_type: str, **fields: str) -> services.WebhookResult:
    body = event_body(event_type, **fields)
    headers = signer.sign(body, path=PATH)
    return webhook_receive(method="POST", path=PATH, headers=headers, body=body)


def test_refund_webhooks_move_our_refund_and_the_statistics(
    repo: Dynamo, truelayer: responses.RequestsMock, signer: WebhookSigner
) -> None:
    truelayer.add(responses.POST, REFUNDS_URL, json={"id": "tl-refund-1"}, status=202)
    payment = paid(repo)
    result = refund(repo, payment, "7.50")

    answer = deliver(
        signer,
        "refund_executed",
        refund_id="tl-refund-1",
        payment_id="tl-pay-1",
        executed_at="2026-11-20T11:00:00Z",
    )

    assert answer.applied
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    (executed,) = stored.lifecycle.refunds
    assert executed.refund_id == result.refund.refund_id
    assert executed.status is RefundStatus.EXECUTED
    assert stored.lifecycle.refunded_minor == 750
    assert "refund executed" in [h.detail for h in stored.history]
    now = datetime.now(UTC)
    totals = dynamo.refund_totals_for_range(
        repo, user_id=ALICE, start=now.replace(year=2000), end=now.replace(year=2100)
    )
    assert totals == {"GBP": (1, Decimal("7.50"))}


def test_a_refund_made_outside_the_product_appears_and_the_early_webhook_is_folded_in(
    repo: Dynamo, truelayer: responses.RequestsMock, signer: WebhookSigner
) -> None:
    payment = paid(repo)
    # TrueLayer's webhook about a refund arrives before our call returned its id.
    assert deliver(signer, "refund_executed", refund_id="tl-early", payment_id="tl-pay-1").applied
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    (outside,) = stored.lifecycle.refunds
    assert outside.refund_id == "tl-early" and outside.status is RefundStatus.EXECUTED
    assert "refund executed (made outside the dashboard)" in [h.detail for h in stored.history]

    truelayer.add(responses.POST, REFUNDS_URL, json={"id": "tl-early"}, status=202)
    result = refund(repo, payment, "3.00")
    (merged,) = result.payment.lifecycle.refunds
    assert merged.refund_id == result.refund.refund_id
    assert merged.status is RefundStatus.EXECUTED
    assert result.payment.lifecycle.refund_reserved_minor == 300


def test_refresh_reads_refunds_back_a_lost_write_and_a_refund_made_elsewhere(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    """TrueLayer accepted our refund but storing its id failed; another refund was made in
    TrueLayer Console. "Refresh status" (GET refunds) fixes the first and adds the second."""
    truelayer.add(responses.POST, REFUNDS_URL, json={"id": "tl-refund-1"}, status=202)
    payment = paid(repo)
    with mock.patch.object(dynamo, "refund_change", side_effect=DatabaseUnavailable()):
        lost = refund(repo, payment, "5.00")
    assert not lost.saved
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    (ours,) = stored.lifecycle.refunds
    assert ours.awaiting_truelayer
    link = payment.payment_link_id
    truelayer.add(
        responses.GET, f"{API}/v3/payment-links/{link}", json={"id": link, "status": "disabled"}
    )
    truelayer.add(
        responses.GET,
        f"{API}/v3/payment-links/{link}/payments",
        json={"items": [{"id": "tl-pay-1", "status": "executed"}]},
    )
    truelayer.add(
        responses.GET,
        REFUNDS_URL,
        json={
            "items": [
                {
                    "id": "tl-refund-1",
                    "amount_in_minor": 500,
                    "status": "executed",
                    "executed_at": "2026-11-20T12:00:00Z",
                    "metadata": {"refund_id": ours.refund_id},
                },
                {"id": "tl-console", "amount_in_minor": 1200, "status": "pending"},
            ]
        },
    )

    refreshed = services.payment_refresh_status(
        user_id=ALICE, payment_id=payment.payment_id, db=repo
    )

    by_id = {r.refund_id: r for r in refreshed.payment.lifecycle.refunds}
    assert set(by_id) == {ours.refund_id, "tl-console"}
    assert by_id[ours.refund_id].truelayer_refund_id == "tl-refund-1"
    assert by_id[ours.refund_id].status is RefundStatus.EXECUTED
    assert by_id["tl-console"].amount_minor == 1200
    assert refreshed.payment.lifecycle.refund_reserved_minor == 1700
    assert "refund pending (made outside the dashboard)" in refreshed.changes
    # What remains is what TrueLayer has not refunded: 3.00.
    with pytest.raises(RefundRefused, match="At most 3.00 GBP remains"):
        refund(repo, payment, "3.01", token="form-2")
