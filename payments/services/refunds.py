"""Refunding a payment: stored under the over-refund guard, then sent to TrueLayer, then
stored again — the order of payment creation, so a failure at any step leaves a refund that
says what happened and a "Retry" that sends the same Idempotency-Key and bytes.

- `refund_create`: checks the input (clear messages before anything is written), records the
  refund `pending` with its key (`dynamo.refund_create`, the DynamoDB condition that keeps
  pending + executed refunds within the payment), then calls TrueLayer.
- TrueLayer answers with its refund id: stored beside ours (a webhook about that id may have
  arrived first; it is folded into our refund, never counted twice).
- TrueLayer cannot be reached or answers 5xx/409/429 after its retries: the refund stays
  pending with the error and can be retried (`refund_retry`); its amount stays reserved, as
  TrueLayer may have made it.
- Storing TrueLayer's answer fails: the refund stays stored as pending (its amount reserved),
  and "Refresh status" (GET refunds, matched by our id in the metadata) or "Retry" completes it.
- TrueLayer refuses it (any other 4xx): the refund is `failed` and its amount returns to what
  remains, in the same write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from payments import dynamo
from payments.domain import Payment, utc_now
from payments.dynamo import Dynamo
from payments.errors import RepositoryError
from payments.lifecycle import Lifecycle, Refund, RefundStatus
from payments.refunds import (
    RefundRefused,
    parse_refund_amount,
    parse_refund_reference,
    refund_id_for,
    refund_idempotency_key,
    refundable_problem,
)
from payments.services.errors import PaymentNotFound
from payments.truelayer.client import TrueLayerError
from payments.truelayer.provider import PaymentLinkProvider, RefundRequest, get_provider

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefundResult:
    """The payment after the refund, the refund itself, and whether this call created it
    (False: the same form was submitted before, and that refund is shown)."""

    payment: Payment
    refund: Refund
    created: bool = True
    # False: TrueLayer answered but storing its answer failed (DynamoDB); the refund is stored
    # as pending and "Refresh status" or "Retry" (same key) completes it.
    saved: bool = True


def refund_create(
    *,
    user_id: str,
    payment_id: str,
    amount: Decimal | str,
    reference: str,
    form_token: str,
    requested_by: str = "",
    db: Dynamo | None = None,
    provider: PaymentLinkProvider | None = None,
) -> RefundResult:
    """Refund `amount` (major units) of a payment. Raises `PaymentNotFound` (not this
    merchant's payment), `RefundRefused` (bad amount or reference, more than remains, not
    refundable: nothing written, nothing sent) or `RepositoryError` (DynamoDB down: nothing
    sent). A TrueLayer failure is not raised: it is on the returned refund."""
    db = db or dynamo.get_dynamo()
    payment = dynamo.payment_get(db, user_id=user_id, payment_id=payment_id)
    if payment is None:
        raise PaymentNotFound(payment_id)
    problem = refundable_problem(payment)
    if problem:
        raise RefundRefused("payment", problem)
    if not form_token:
        raise RefundRefused("payment", "The refund form is incomplete; open it again.")
    minor = parse_refund_amount(amount, payment)
    clean_reference = parse_refund_reference(reference)
    winner = payment.lifecycle.winning_attempt
    assert winner is not None  # refundable_problem checked it
    refund_id = refund_id_for(user_id, payment_id, form_token)
    now = utc_now()
    refund = Refund(
        refund_id=refund_id,
        status=RefundStatus.PENDING,
        attempt_id=winner.attempt_id,
        amount_minor=minor,
        at=now,
        reference=clean_reference,
        created_at=now,
        idempotency_key=refund_idempotency_key(refund_id),
        requested_by=requested_by,
    )
    try:
        stored = dynamo.refund_create(db, payment=payment, refund=refund, now=now)
    except dynamo.DuplicateRefund as duplicate:
        first = duplicate.payment.lifecycle.refund(refund_id)
        assert first is not None
        return RefundResult(duplicate.payment, first, created=False)
    return _send(stored, refund, db=db, provider=provider or get_provider())


def refund_retry(
    *,
    user_id: str,
    payment_id: str,
    refund_id: str,
    db: Dynamo | None = None,
    provider: PaymentLinkProvider | None = None,
) -> RefundResult:
    """Send a stored refund TrueLayer has not accepted yet again, with its Idempotency-Key and
    the same body (TrueLayer answers a repeat with the refund it made). A refund TrueLayer
    already knows, or one that failed, is returned unchanged."""
    db = db or dynamo.get_dynamo()
    payment = dynamo.payment_get(db, user_id=user_id, payment_id=payment_id)
    if payment is None:
        raise PaymentNotFound(payment_id)
    refund = payment.lifecycle.refund(refund_id)
    if refund is None:
        raise PaymentNotFound(refund_id)
    if not refund.awaiting_truelayer:
        return RefundResult(payment, refund, created=False)
    return _send(payment, refund, db=db, provider=provider or get_provider())


def _request(payment: Payment, refund: Refund) -> RefundRequest:
    return RefundRequest(
        attempt_id=refund.attempt_id,
        refund_id=refund.refund_id,
        payment_id=payment.payment_id,
        amount_minor=refund.amount_minor or 0,
        reference=refund.reference,
        idempotency_key=refund.idempotency_key,
    )


def _send(
    payment: Payment, refund: Refund, *, db: Dynamo, provider: PaymentLinkProvider
) -> RefundResult:
    try:
        truelayer_id = provider.create_refund(_request(payment, refund))
    except TrueLayerError as error:
        logger.warning(
            "payment %s: refund %s not accepted: %s", payment.payment_id, refund.refund_id, error
        )
        refused = not error.retryable and 400 <= error.status < 500
        text = error.title + (f": {error.detail}" if error.detail else "")
        edit = _refused(refund.refund_id, text) if refused else _send_failed(refund.refund_id, text)
    else:
        edit = _accepted(refund.refund_id, truelayer_id)
    # If this write fails, TrueLayer has the refund and we still say "pending, not accepted":
    # "Retry" sends the same key, TrueLayer answers with the same refund id, and this repeats.
    try:
        stored = dynamo.refund_change(
            db, user_id=payment.user_id, payment_id=payment.payment_id, edit=edit
        )
    except RepositoryError as error:
        logger.error(
            "payment %s: TrueLayer answered about refund %s but it could not be stored: %s",
            payment.payment_id,
            refund.refund_id,
            error,
        )
        return RefundResult(payment, refund, saved=False)
    stored = stored or payment
    return RefundResult(stored, stored.lifecycle.refund(refund.refund_id) or refund)


RefundEdit = Callable[[Lifecycle], tuple[Lifecycle, str] | None]


def _accepted(refund_id: str, truelayer_id: str) -> RefundEdit:
    def edit(lifecycle: Lifecycle) -> tuple[Lifecycle, str] | None:
        ours = _ours(lifecycle, refund_id)
        if ours is None or ours.truelayer_refund_id == truelayer_id:
            return None
        # A webhook about TrueLayer's id may have come first, stored as an unknown refund:
        # fold it into ours (its status is newer than our "pending").
        early = next(
            (r for r in lifecycle.refunds if r.refund_id == truelayer_id and r is not ours), None
        )
        merged = replace(ours, truelayer_refund_id=truelayer_id, send_error="")
        refunds = [r for r in lifecycle.refunds if r is not early]
        if early is not None:
            merged = replace(
                merged,
                status=early.status,
                at=early.at,
                failure_reason=early.failure_reason,
            )
        refunds = [merged if r is ours else r for r in refunds]
        return replace(lifecycle, refunds=tuple(refunds)), "refund accepted by TrueLayer"

    return edit


def _send_failed(refund_id: str, text: str) -> RefundEdit:
    def edit(lifecycle: Lifecycle) -> tuple[Lifecycle, str] | None:
        ours = _ours(lifecycle, refund_id)
        if ours is None or not ours.awaiting_truelayer:
            return None
        changed = replace(ours, send_error=text)
        words = f"refund not sent yet ({text}); it can be retried"
        return dynamo.with_refund(lifecycle, changed), words

    return edit


def _refused(refund_id: str, text: str) -> RefundEdit:
    def edit(lifecycle: Lifecycle) -> tuple[Lifecycle, str] | None:
        ours = _ours(lifecycle, refund_id)
        if ours is None or ours.status is not RefundStatus.PENDING or ours.truelayer_refund_id:
            return None
        changed = replace(
            ours, status=RefundStatus.FAILED, failure_reason=text, send_error=text, at=utc_now()
        )
        words = f"refund refused by TrueLayer ({text}); its amount remains refundable"
        return dynamo.with_refund(lifecycle, changed), words

    return edit


def _ours(lifecycle: Lifecycle, refund_id: str) -> Refund | None:
    return next((r for r in lifecycle.refunds if r.refund_id == refund_id), None)
