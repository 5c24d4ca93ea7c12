"""Creating a payment and its TrueLayer payment link, and retrying the link.

Order of effects: DynamoDB first, then TrueLayer, then DynamoDB again, so a failure at any step
leaves a payment row that says what happened and can be retried with the same Idempotency-Key.
Once the link is stored, webhook events that arrived before it (a payer faster than our write)
are applied from where they were parked.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from payments import dynamo
from payments.domain import LinkError, Payment, utc_now
from payments.dynamo import LINK, Dynamo
from payments.errors import DuplicateSubmission
from payments.services.errors import PaymentNotFound
from payments.services.webhooks import drain_parked
from payments.truelayer.client import TrueLayerError
from payments.truelayer.provider import PaymentLinkProvider, PaymentLinkRequest, get_provider

logger = logging.getLogger(__name__)

# --- creating payments and links ---------------------------------------------------------


def payment_create(
    *,
    user_id: str,
    amount: Decimal,
    currency: str,
    reference: str,
    payer_name: str = "",
    payer_email: str = "",
    expires_at: datetime | None = None,
    submission_token: str | None = None,
    actor: str = "",
    db: Dynamo | None = None,
    provider: PaymentLinkProvider | None = None,
    now: datetime | None = None,
) -> Payment:
    """Store a new `pending` payment, then create its TrueLayer payment link. `actor` (the
    member who asked, "Alice <alice@example.com>") is named on the timeline's first entry.
    `now` (the creation time; default: now) lets demo data be dated in the past
    (`seed_payments`).

    The payment is written before TrueLayer is called, so it exists whatever happens next.
    If the link cannot be created, the payment carries the reason (`link_error`) and can be
    retried with `payment_retry_link`. Raises `RepositoryError` when the payment could not be
    stored (then nothing was sent to TrueLayer) — `DatabaseUnavailable` with `outcome_unknown`
    when it may have been stored after all.

    Raises `DuplicateSubmission` when the same form was submitted before, after finishing what
    that first submission may have left undone: a payment stored without its link (its answer
    was lost, or the request died) gets its link now, with the same Idempotency-Key."""
    db = db or dynamo.get_dynamo()
    provider = provider or get_provider()
    try:
        payment = dynamo.payment_create(
            db,
            user_id=user_id,
            amount=amount,
            currency=currency,
            reference=reference,
            payer_name=payer_name,
            payer_email=payer_email,
            expires_at=expires_at,
            submission_token=submission_token,
            actor=actor,
            now=now,
        )
    except DuplicateSubmission as duplicate:
        payment_retry_link(
            user_id=user_id, payment_id=duplicate.payment_id, db=db, provider=provider
        )
        raise
    return _create_link(payment, db=db, provider=provider)


def payment_retry_link(
    *,
    user_id: str,
    payment_id: str,
    db: Dynamo | None = None,
    provider: PaymentLinkProvider | None = None,
) -> Payment:
    """Create the link of a payment whose link could not be created earlier, with the same
    Idempotency-Key and body, so TrueLayer returns the first link if one was made after all.
    A payment that already has its link, or is final, is returned unchanged."""
    db = db or dynamo.get_dynamo()
    payment = dynamo.payment_get(db, user_id=user_id, payment_id=payment_id)
    if payment is None:
        raise PaymentNotFound(payment_id)
    if payment.payment_link_url or payment.is_final:
        return payment  # has its link, or is over (e.g. expired): nothing to create
    return _create_link(payment, db=db, provider=provider or get_provider())


def _create_link(payment: Payment, *, db: Dynamo, provider: PaymentLinkProvider) -> Payment:
    request = PaymentLinkRequest.for_payment(payment)
    try:
        link = provider.create_payment_link(request)
    except TrueLayerError as error:
        logger.warning(
            "payment %s: link not created: %s (trace %s)",
            payment.payment_id,
            error.title,
            error.trace_id or "-",
        )
        return dynamo.payment_link_error_set(
            db,
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            error=LinkError(
                title=error.title, detail=error.detail, trace_id=error.trace_id, at=utc_now()
            ),
            response=error.raw or None,
        )
    # If this write fails, the link exists at TrueLayer but not here: "Try again" sends the
    # same key and bytes, TrueLayer answers with the same link, and this write is repeated.
    stored = dynamo.payment_link_set(
        db,
        user_id=payment.user_id,
        payment_id=payment.payment_id,
        link_id=link.link_id,
        link_url=link.uri,
        response=link.raw,
    )
    if drain_parked(db, LINK, link.link_id):
        stored = (
            dynamo.payment_get(db, user_id=payment.user_id, payment_id=payment.payment_id) or stored
        )
    return stored
