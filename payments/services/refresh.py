"""Asking TrueLayer instead of waiting for it: "Refresh status" (a merchant, one payment) and
reconciliation (`manage.py reconcile_payments`, every open payment that should have moved).

Webhooks get lost (endpoint down, a deploy, a bug). Both paths read the link and all its
attempts from TrueLayer (`GET /v3/payment-links/{id}` and `.../payments`) and apply what they
say through the same lifecycle rules and the same conditional write as a webhook, so a status
learned twice changes once. Nothing is written when TrueLayer says nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from payments import dynamo
from payments.domain import Payment, PaymentStatus, utc_now
from payments.dynamo import ATTEMPT, Dynamo, get_dynamo
from payments.errors import RepositoryError
from payments.lifecycle import REFUNDABLE_STATUSES
from payments.services.errors import PaymentNotFound
from payments.services.webhooks import drain_parked
from payments.truelayer.client import TrueLayerError
from payments.truelayer.events import observations_from_api, refund_observations_from_api
from payments.truelayer.provider import PaymentLinkProvider, get_provider

logger = logging.getLogger(__name__)

REFRESH_SOURCE = "Refresh status (asked TrueLayer)"
RECONCILIATION_SOURCE = "Reconciliation (corrected from TrueLayer)"
# A run stops once TrueLayer has failed to answer for this many payments in a row.
RECONCILE_GIVE_UP_AFTER = 3


@dataclass(frozen=True)
class Refreshed:
    payment: Payment
    changes: tuple[str, ...]  # what moved, in words ("" entries never)


def payment_refresh_status(
    *,
    user_id: str,
    payment_id: str,
    db: Dynamo | None = None,
    provider: PaymentLinkProvider | None = None,
    source: str = REFRESH_SOURCE,
    actor: str = "",
) -> Refreshed:
    """Ask TrueLayer about a payment's link and attempts and apply what it says. A final
    payment, or one without a link, is returned as it is. Raises `PaymentNotFound`,
    `TrueLayerError` or `RepositoryError`. `actor` (the member who pressed "Refresh status")
    is named on every timeline entry the refresh writes."""
    db = db or get_dynamo()
    provider = provider or get_provider()
    payment = dynamo.payment_get(db, user_id=user_id, payment_id=payment_id)
    if payment is None:
        raise PaymentNotFound(payment_id)
    if not payment.payment_link_id:
        return Refreshed(payment, ())
    if payment.is_final:
        # The payment will not move, but its refunds may have.
        return Refreshed(*_refresh_refunds(db, provider, payment, source, actor))
    link = provider.get_payment_link(payment.payment_link_id)
    attempts = provider.list_link_payments(payment.payment_link_id)
    changes: list[str] = []
    for observation in observations_from_api(link, attempts, now=utc_now()):
        observed = dynamo.payment_observe(
            db,
            user_id=user_id,
            payment_id=payment_id,
            observation=observation,
            source=source,
            actor=actor,
        )
        if observed.applied and observed.payment is not None:
            changes.append(observed.payment.history[-1].detail)
        for attempt_id in observed.new_attempts:
            drain_parked(db, ATTEMPT, attempt_id)
    if changes:
        dynamo.payment_response_store(
            db,
            user_id=user_id,
            payment_id=payment_id,
            name="get_payment_link",
            response={"link": link, "payments": attempts},
        )
    current = dynamo.payment_get(db, user_id=user_id, payment_id=payment_id)
    if current is None:
        raise RepositoryError("The payment disappeared while it was being refreshed.")
    current, refund_changes = _refresh_refunds(db, provider, current, source, actor)
    return Refreshed(current, (*changes, *refund_changes))


def _refresh_refunds(
    db: Dynamo, provider: PaymentLinkProvider, payment: Payment, source: str, actor: str = ""
) -> tuple[Payment, tuple[str, ...]]:
    """Read the refunds of the payment's successful attempt (`GET /v3/payments/{id}/refunds`)
    and apply them: statuses, TrueLayer ids a lost write missed, refunds made elsewhere."""
    winner = payment.lifecycle.winning_attempt
    if winner is None or payment.status not in REFUNDABLE_STATUSES | {PaymentStatus.REVERSED}:
        return payment, ()
    answers = provider.list_refunds(winner.attempt_id)
    changes: list[str] = []
    current = payment
    for observation in refund_observations_from_api(winner.attempt_id, answers, now=utc_now()):
        observed = dynamo.payment_observe(
            db,
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            observation=observation,
            source=source,
            actor=actor,
        )
        if observed.payment is not None:
            grew = len(observed.payment.history) > len(current.history)
            current = observed.payment
            if observed.applied and grew:
                changes.append(current.history[-1].detail)
    return current, tuple(changes)


@dataclass
class ReconcileReport:
    checked: int = 0
    busy: int = 0  # another server was checking it at the same moment
    changed: list[tuple[str, str]] = field(default_factory=list)  # (payment id, what moved)
    missing: list[str] = field(default_factory=list)  # TrueLayer does not know the link
    unreachable: list[str] = field(default_factory=list)  # TrueLayer did not answer for these


def payments_reconcile(
    *,
    db: Dynamo | None = None,
    provider: PaymentLinkProvider | None = None,
    now: datetime | None = None,
    limit: int = 1000,
    on_change: Callable[[str, str], None] | None = None,
) -> ReconcileReport:
    """Check every open payment that is due (stale, or its link past `expires_at`) with
    TrueLayer and apply what it says. Reads only the open payments that are due. A payment
    TrueLayer does not answer for is skipped (`unreachable`, checked again next run); after
    RECONCILE_GIVE_UP_AFTER in a row it raises `TrueLayerError`. `RepositoryError` for
    DynamoDB."""
    db = db or get_dynamo()
    provider = provider or get_provider()
    now = now or utc_now()
    report = ReconcileReport()
    consecutive_failures = 0
    for user_id, payment_id in dynamo.open_due(db, now=now, limit=limit):
        if not dynamo.reconcile_lease(db, payment_id, now=now):
            report.busy += 1
            continue
        report.checked += 1
        try:
            refreshed = payment_refresh_status(
                user_id=user_id,
                payment_id=payment_id,
                db=db,
                provider=provider,
                source=RECONCILIATION_SOURCE,
            )
        except PaymentNotFound:
            continue
        except TrueLayerError as error:
            if error.status is not None and 400 <= error.status < 500:
                logger.warning("reconcile %s: TrueLayer answered %s", payment_id, error.status)
                report.missing.append(payment_id)
                payment = dynamo.payment_get(db, user_id=user_id, payment_id=payment_id)
                dynamo.open_postpone(
                    db,
                    user_id=user_id,
                    payment_id=payment_id,
                    now=now,
                    expires_at=payment.expires_at if payment else None,
                )
                continue
            # TrueLayer did not answer for this one: keep going (the others may be fine), but
            # stop after a few in a row — it is down — and say so (the command exits 1).
            logger.warning("reconcile %s: TrueLayer unreachable: %s", payment_id, error.title)
            report.unreachable.append(payment_id)
            consecutive_failures += 1
            if consecutive_failures >= RECONCILE_GIVE_UP_AFTER:
                raise
            continue
        consecutive_failures = 0
        for change in refreshed.changes:
            report.changed.append((payment_id, change))
            if on_change is not None:
                on_change(payment_id, change)
        if not refreshed.changes and not refreshed.payment.is_final:
            dynamo.open_postpone(
                db,
                user_id=user_id,
                payment_id=payment_id,
                now=now,
                expires_at=refreshed.payment.expires_at,
            )
    return report
