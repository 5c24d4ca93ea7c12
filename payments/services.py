"""Payment writes that combine the repository with TrueLayer: creating a payment and its link,
retrying the link, applying webhook events and refreshing a status from TrueLayer.

Order of effects, everywhere: DynamoDB first, then TrueLayer, then DynamoDB again, so a failure
at any step leaves a payment row that says what happened and can be retried with the same
Idempotency-Key. A webhook event is marked as seen only together with (or after) its effect.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from payments.domain import LinkError, Payment, PaymentStatus, utc_now
from payments.errors import RepositoryError
from payments.repository import PaymentRepository, get_repository
from payments.truelayer.client import TrueLayerError
from payments.truelayer.provider import PaymentLinkProvider, PaymentLinkRequest, get_provider
from payments.truelayer.webhooks import SignatureRejected, verify_webhook

logger = logging.getLogger(__name__)

# TrueLayer payment statuses we track, by the webhook event that reports them.
EVENT_STATUSES: Mapping[str, PaymentStatus] = {
    "payment_authorized": PaymentStatus.AUTHORIZED,
    "payment_executed": PaymentStatus.EXECUTED,
    "payment_settled": PaymentStatus.SETTLED,
    "payment_failed": PaymentStatus.FAILED,
}
# Where each event says when it happened.
_EVENT_TIMES = ("authorized_at", "executed_at", "settled_at", "failed_at", "disabled_at")
# TrueLayer's event ids are UUIDs; anything much longer is not one of its events.
MAX_EVENT_ID_LENGTH = 128
_EARLIEST_EVENT_YEAR, _LATEST_EVENT_YEAR = 2000, 2999


class PaymentNotFound(Exception):
    """No payment with this id for this merchant (views answer 404)."""


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
    repo: PaymentRepository | None = None,
    provider: PaymentLinkProvider | None = None,
) -> Payment:
    """Store a new `pending` payment, then create its TrueLayer payment link.

    The payment is written before TrueLayer is called, so it exists whatever happens next.
    If the link cannot be created, the payment carries the reason (`link_error`) and can be
    retried with `payment_retry_link`. Raises `DuplicateSubmission` when the same form was
    submitted before, and `RepositoryError` when the payment could not be stored (then nothing
    was sent to TrueLayer)."""
    repo = repo or get_repository()
    payment = repo.create_payment(
        user_id=user_id,
        amount=amount,
        currency=currency,
        reference=reference,
        payer_name=payer_name,
        payer_email=payer_email,
        expires_at=expires_at,
        submission_token=submission_token,
    )
    return _create_link(payment, repo=repo, provider=provider or get_provider())


def payment_retry_link(
    *,
    user_id: str,
    payment_id: str,
    repo: PaymentRepository | None = None,
    provider: PaymentLinkProvider | None = None,
) -> Payment:
    """Create the link of a payment whose link could not be created earlier, with the same
    Idempotency-Key and body, so TrueLayer returns the first link if one was made after all.
    A payment that already has its link, or is final, is returned unchanged."""
    repo = repo or get_repository()
    payment = repo.get_payment(user_id=user_id, payment_id=payment_id)
    if payment is None:
        raise PaymentNotFound(payment_id)
    if payment.payment_link_url or payment.is_final:
        return payment  # has its link, or is over (e.g. expired): nothing to create
    return _create_link(payment, repo=repo, provider=provider or get_provider())


def _create_link(
    payment: Payment, *, repo: PaymentRepository, provider: PaymentLinkProvider
) -> Payment:
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
        return repo.set_link_error(
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            error=LinkError(
                title=error.title, detail=error.detail, trace_id=error.trace_id, at=utc_now()
            ),
            response=error.raw or None,
        )
    # If this write fails, the link exists at TrueLayer but not here: "Try again" sends the
    # same key and bytes, TrueLayer answers with the same link, and this write is repeated.
    return repo.set_link(
        user_id=payment.user_id,
        payment_id=payment.payment_id,
        link_id=link.link_id,
        link_url=link.uri,
        response=link.raw,
    )


# --- webhooks --------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    """What the endpoint answers: TrueLayer retries anything but 2xx."""

    status: int
    message: str
    applied: bool = False
    duplicate: bool = False


def webhook_receive(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    repo: PaymentRepository | None = None,
) -> WebhookResult:
    """Verify a webhook request and apply its event: the one function behind the endpoint and
    the simulator's deliveries. Unsigned, badly signed, foreign-`jku` or malformed requests
    change nothing (401/400)."""
    try:
        verify_webhook(method=method, path=path, headers=headers, body=body)
    except SignatureRejected as rejected:
        logger.warning("webhook rejected (%s): %s", rejected.status, rejected.reason)
        return WebhookResult(rejected.status, rejected.reason)
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse
        return WebhookResult(400, "The body is not JSON")
    if not isinstance(event, dict) or not isinstance(event.get("event_id"), str):
        return WebhookResult(400, "The event has no event_id")
    if len(event["event_id"]) > MAX_EVENT_ID_LENGTH:
        # Refused for good (4xx): a DynamoDB key can't hold it, and a 5xx would be retried.
        return WebhookResult(400, f"The event_id is longer than {MAX_EVENT_ID_LENGTH} characters")
    if not isinstance(event.get("type"), str):
        return WebhookResult(400, "The event has no type")
    return webhook_event_apply(event=event, repo=repo)


def webhook_event_apply(
    *, event: Mapping[str, Any], repo: PaymentRepository | None = None
) -> WebhookResult:
    """Apply one verified TrueLayer event, once.

    - `payment_link_payment_created`: links TrueLayer's payment id to our payment (and moves
      it to `authorization_required`);
    - `payment_authorized` / `_executed` / `_settled` / `_failed`: move the status forward only;
    - `payment_link_disabled` with no payment: the link expired (`expired`).

    Duplicates (same `event_id`) and events for payments we do not know are acknowledged
    (2xx) and change nothing. The event is recorded as seen in the same transaction as the
    status change, never before it."""
    repo = repo or get_repository()
    event_id = str(event["event_id"])
    event_type = str(event.get("type", ""))
    if repo.event_seen(event_id):
        return WebhookResult(200, "duplicate", duplicate=True)
    source = f"webhook {event_type}"
    at = _event_time(event)

    if event_type == "payment_link_payment_created":
        link_id = str(event.get("payment_link_id", ""))
        tl_payment = event.get("payment")
        tl_payment_id = str(tl_payment.get("id", "")) if isinstance(tl_payment, dict) else ""
        payment = repo.find_by_link_id(link_id) if link_id else None
        if payment is None or not tl_payment_id:
            return _unknown(event_id, event_type, f"link {link_id!r}")
        repo.set_truelayer_payment_id(
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            truelayer_payment_id=tl_payment_id,
            response=dict(event),
            response_name="webhook_payment_link_payment_created",
        )
        update = repo.update_status(
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            status=PaymentStatus.AUTHORIZATION_REQUIRED,
            source=source,
            at=at,
            detail=f"TrueLayer payment {tl_payment_id}",
            event_id=event_id,
        )
        return WebhookResult(200, "applied", applied=update.applied, duplicate=update.duplicate)

    if event_type in EVENT_STATUSES:
        payment = _payment_for_event(event, repo)
        if payment is None:
            return _unknown(event_id, event_type, f"payment {event.get('payment_id')!r}")
        status = EVENT_STATUSES[event_type]
        failure_stage = str(event.get("failure_stage") or "")
        failure_reason = str(event.get("failure_reason") or "")
        update = repo.update_status(
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            status=status,
            source=source,
            at=at,
            detail=failure_reason,
            failure_stage=failure_stage,
            failure_reason=failure_reason,
            event_id=event_id,
        )
        return WebhookResult(200, "applied", applied=update.applied, duplicate=update.duplicate)

    if event_type == "payment_link_disabled":
        link_id = str(event.get("payment_link_id", ""))
        payment = repo.find_by_link_id(link_id) if link_id else None
        if payment is None:
            return _unknown(event_id, event_type, f"link {link_id!r}")
        if payment.truelayer_payment_id:
            # Disabled because it was paid: the payment's own events carry the status.
            repo.mark_event(event_id)
            return WebhookResult(200, "link disabled after a payment")
        reason = str(event.get("disablement_reason") or "expired")
        update = repo.update_status(
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            status=PaymentStatus.EXPIRED,
            source=source,
            at=at,
            detail=reason,
            event_id=event_id,
        )
        return WebhookResult(200, "applied", applied=update.applied, duplicate=update.duplicate)

    logger.info("webhook %s of type %r ignored", event_id, event_type)
    return WebhookResult(200, "ignored")


def _payment_for_event(event: Mapping[str, Any], repo: PaymentRepository) -> Payment | None:
    tl_payment_id = str(event.get("payment_id") or "")
    payment = repo.find_by_truelayer_payment_id(tl_payment_id) if tl_payment_id else None
    if payment is None and event.get("payment_link_id"):
        # Arrived before `payment_link_payment_created`: the link still names our payment.
        payment = repo.find_by_link_id(str(event["payment_link_id"]))
        if payment is not None and tl_payment_id and not payment.truelayer_payment_id:
            repo.set_truelayer_payment_id(
                user_id=payment.user_id,
                payment_id=payment.payment_id,
                truelayer_payment_id=tl_payment_id,
            )
    return payment


def _unknown(event_id: str, event_type: str, what: str) -> WebhookResult:
    # Acknowledged so TrueLayer stops retrying; not marked as seen, so a later "Refresh
    # status" (or a redelivery) can still apply what it says.
    logger.warning("webhook %s (%s) for an unknown %s: acknowledged", event_id, event_type, what)
    return WebhookResult(202, "unknown payment")


def _event_time(event: Mapping[str, Any]) -> datetime | None:
    for name in _EVENT_TIMES:
        value = event.get(name)
        if isinstance(value, str) and value:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                # In UTC now: a time at the calendar's edge (9999-12-31T23:00-05:00) has none.
                moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
            except (ValueError, OverflowError):
                continue
            # A time no real event has (year 1, year 9999) is not kept: the change is dated now.
            if _EARLIEST_EVENT_YEAR <= moment.year <= _LATEST_EVENT_YEAR:
                return moment
    return None


# --- refreshing from TrueLayer -----------------------------------------------------------


def payment_refresh_status(
    *,
    user_id: str,
    payment_id: str,
    repo: PaymentRepository | None = None,
    provider: PaymentLinkProvider | None = None,
) -> Payment:
    """Ask TrueLayer what became of a payment's link (`GET /v3/payment-links/{id}/payments`,
    then `GET /v3/payments/{id}`) and apply it through the same forward-only update as the
    webhooks. Raises `PaymentNotFound`, `TrueLayerError` or `RepositoryError`."""
    repo = repo or get_repository()
    provider = provider or get_provider()
    payment = repo.get_payment(user_id=user_id, payment_id=payment_id)
    if payment is None:
        raise PaymentNotFound(payment_id)
    if not payment.payment_link_id or payment.is_final:
        return payment
    source = "refresh from TrueLayer"
    tl_payment_id = payment.truelayer_payment_id
    if not tl_payment_id:
        items = provider.list_link_payments(payment.payment_link_id)
        latest = _latest(items)
        if latest is None:
            link = provider.get_payment_link(payment.payment_link_id)
            repo.store_provider_response(
                user_id=user_id, payment_id=payment_id, name="get_payment_link", response=link
            )
            if link.get("status") == "disabled":
                repo.update_status(
                    user_id=user_id,
                    payment_id=payment_id,
                    status=PaymentStatus.EXPIRED,
                    source=source,
                    detail=str(link.get("disablement_reason") or "expired"),
                )
            return _reread(repo, user_id, payment_id)
        tl_payment_id = str(latest["id"])
        repo.set_truelayer_payment_id(
            user_id=user_id,
            payment_id=payment_id,
            truelayer_payment_id=tl_payment_id,
            response={"items": items},
            response_name="list_link_payments",
        )
    answer = provider.get_payment(tl_payment_id)
    repo.store_provider_response(
        user_id=user_id, payment_id=payment_id, name="get_payment", response=answer
    )
    try:
        status = PaymentStatus(str(answer.get("status", "")))
    except ValueError:
        logger.warning("payment %s: unknown TrueLayer status %r", payment_id, answer.get("status"))
        return _reread(repo, user_id, payment_id)
    if status is not PaymentStatus.PENDING:
        failure_reason = str(answer.get("failure_reason") or "")
        repo.update_status(
            user_id=user_id,
            payment_id=payment_id,
            status=status,
            source=source,
            detail=failure_reason,
            failure_stage=str(answer.get("failure_stage") or ""),
            failure_reason=failure_reason,
        )
    return _reread(repo, user_id, payment_id)


def _latest(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    with_ids = [item for item in items if isinstance(item.get("id"), str) and item["id"]]
    if not with_ids:
        return None
    return max(with_ids, key=lambda item: str(item.get("created_at", "")))


def _reread(repo: PaymentRepository, user_id: str, payment_id: str) -> Payment:
    payment = repo.get_payment(user_id=user_id, payment_id=payment_id)
    if payment is None:
        raise RepositoryError("The payment disappeared while it was being refreshed.")
    return payment
