"""Cancelling a payment whose attempt is still before `authorized`: the request is written on
the timeline first (conditioned on the attempt's status), then TrueLayer is asked
(`POST /v3/payments/{id}/actions/cancel`, answered 202). The outcome arrives by webhook:
`payment_failed` with reason `canceled`, or `payment_cancellation_failed`; until then the page
says "cancellation requested"."""

from __future__ import annotations

import logging
import uuid

from payments import dynamo
from payments.domain import Payment, PaymentValidationError
from payments.dynamo import Dynamo
from payments.dynamo.refunds import REFUND_SOURCE
from payments.services.errors import PaymentNotFound
from payments.truelayer.client import TrueLayerError
from payments.truelayer.provider import PaymentLinkProvider, get_provider

logger = logging.getLogger(__name__)
_CANCEL_NAMESPACE = uuid.UUID("5d6f3b1c-8e2a-4f0d-9c7b-2a1e4d6f8b30")


def cancellable_attempt(payment: Payment) -> str:
    """The attempt a cancellation would stop ("" when there is none before `authorized`)."""
    winner = payment.lifecycle.winning_attempt
    if winner is None or winner.status not in dynamo.CANCELLABLE:
        return ""
    return winner.attempt_id


def cancellation_requested(payment: Payment) -> bool:
    """A cancellation was asked for and no outcome has arrived yet."""
    if not cancellable_attempt(payment):
        return False
    notes = [h.detail for h in payment.history if h.detail.startswith("cancellation")]
    return bool(notes) and notes[-1] == dynamo.CANCEL_REQUESTED


def payment_cancel(
    *,
    user_id: str,
    payment_id: str,
    requested_by: str = "",
    db: Dynamo | None = None,
    provider: PaymentLinkProvider | None = None,
) -> Payment:
    """Ask TrueLayer to cancel the payment's attempt. Raises `PaymentNotFound`,
    `PaymentValidationError` ("payment": not cancellable) or `RepositoryError` (nothing
    sent). A TrueLayer failure is written on the timeline and raised as `TrueLayerError`."""
    db = db or dynamo.get_dynamo()
    payment = dynamo.payment_get(db, user_id=user_id, payment_id=payment_id)
    if payment is None:
        raise PaymentNotFound(payment_id)
    attempt_id = cancellable_attempt(payment)
    if not attempt_id:
        raise PaymentValidationError(
            "payment",
            "Only a payment the payer has not authorised yet can be cancelled.",
        )
    if cancellation_requested(payment):
        return payment
    stored = dynamo.payment_timeline_note(
        db,
        payment=payment,
        attempt_id=attempt_id,
        detail=dynamo.CANCEL_REQUESTED,
        source=REFUND_SOURCE,
        require_cancellable=True,
        actor=requested_by,
    )
    key = str(uuid.uuid5(_CANCEL_NAMESPACE, f"cancel:{attempt_id}"))
    try:
        (provider or get_provider()).cancel_payment(attempt_id, key)
    except TrueLayerError as error:
        logger.warning("payment %s: cancellation not sent: %s", payment_id, error)
        dynamo.payment_timeline_note(
            db,
            payment=stored,
            attempt_id=attempt_id,
            detail=f"cancellation not sent ({error.title}); it can be asked again",
            source=REFUND_SOURCE,
        )
        raise
    return dynamo.payment_get(db, user_id=user_id, payment_id=payment_id) or stored
