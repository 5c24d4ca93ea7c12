"""payment_cancel: written on the timeline first (only while the attempt is before
`authorized`), then TrueLayer is asked; the outcome arrives by webhook."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses

from payments import dynamo
from payments.domain import Payment, PaymentValidationError
from payments.dynamo import Dynamo
from payments.lifecycle import AttemptSeen, AttemptStatus, CancellationFailed
from payments.services import cancel
from payments.truelayer.client import TrueLayerError
from tests.factories import ALICE
from tests.truelayer.fakes import API, problem
from tests.webhooks.helpers import payment_with_link

T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
CANCEL_URL = f"{API}/v3/payments/tl-1/actions/cancel"


def started(repo: Dynamo, status: AttemptStatus = AttemptStatus.AUTHORIZING) -> Payment:
    payment = payment_with_link(repo)
    observed = dynamo.payment_observe(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        observation=AttemptSeen("tl-1", status, T0),
        source="test",
    )
    assert observed.payment is not None
    return observed.payment


def test_cancel_is_recorded_then_sent_and_shows_requested_until_the_outcome(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, CANCEL_URL, status=202)
    payment = started(repo)

    after = cancel.payment_cancel(user_id=ALICE, payment_id=payment.payment_id, db=repo)

    assert cancel.cancellation_requested(after)
    (call,) = [c for c in truelayer.calls if c.request.url == CANCEL_URL]
    assert call.request.body == b"{}" and call.request.headers["Idempotency-Key"]
    assert "Tl-Signature" in call.request.headers
    failed = dynamo.payment_observe(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        observation=AttemptSeen("tl-1", AttemptStatus.FAILED, T0, failure_reason="canceled"),
        source="webhook",
    ).payment
    assert failed is not None and not cancel.cancellation_requested(failed)
    assert "payment failed (canceled)" in [h.detail for h in failed.history]


def test_cancellation_failed_ends_the_request_on_the_timeline(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, CANCEL_URL, status=202)
    payment = started(repo)
    cancel.payment_cancel(user_id=ALICE, payment_id=payment.payment_id, db=repo)
    after = dynamo.payment_observe(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        observation=CancellationFailed("tl-1", T0, "payment_already_authorized"),
        source="webhook",
    ).payment
    assert after is not None and not cancel.cancellation_requested(after)
    assert after.history[-1].detail == "cancellation failed (payment_already_authorized)"


def test_an_authorised_payment_cannot_be_cancelled_and_nothing_is_sent(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = started(repo, AttemptStatus.EXECUTED)
    with pytest.raises(PaymentValidationError, match="not authorised yet"):
        cancel.payment_cancel(user_id=ALICE, payment_id=payment.payment_id, db=repo)
    assert [c for c in truelayer.calls if c.request.url == CANCEL_URL] == []


def test_truelayer_refusing_is_on_the_timeline_and_the_request_ends(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, CANCEL_URL, json=problem(400, "Invalid Parameters"), status=400)
    payment = started(repo)
    with pytest.raises(TrueLayerError):
        cancel.payment_cancel(user_id=ALICE, payment_id=payment.payment_id, db=repo)
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and not cancel.cancellation_requested(stored)
    assert stored.history[-1].detail.startswith("cancellation not sent (Invalid Parameters)")
