"""The lifecycle parts of a payment item ⇄ the domain: attempts (a map keyed by TrueLayer payment
id, so a write can condition on one attempt's status), the link, refunds and the webhook log.

A payment stored before attempts existed (one `truelayerPaymentId`, a `status`) is read as the
lifecycle that status implies, so it opens and updates like any other; the next lifecycle write
stores it in the new shape (convert on write, no migration command needed).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from payments.domain import WEBHOOK_LOG_LIMIT, WebhookLogEntry, format_timestamp, parse_timestamp
from payments.dynamo.schema import ROW_FACTS
from payments.lifecycle import (
    Attempt,
    AttemptChange,
    AttemptStatus,
    Lifecycle,
    LinkState,
    LinkStatus,
    PaymentStatus,
    Refund,
    RefundStatus,
    RowFacts,
    Settlement,
)


def lifecycle_to_item(lifecycle: Lifecycle) -> dict[str, Any]:
    """The `attempts`, `link` and `refunds` attributes of a payment item, and the row facts
    derived from them (`row_facts_to_item`), written together so they always agree."""
    return {
        **row_facts_to_item(lifecycle.row_facts),
        "attempts": {a.attempt_id: _attempt_item(a) for a in lifecycle.attempts},
        "link": _drop_empty(
            {
                "status": lifecycle.link.status.value,
                "disabledReason": lifecycle.link.disabled_reason,
                "disabledAt": _time(lifecycle.link.disabled_at),
            }
        ),
        "refunds": {r.refund_id: refund_to_item(r) for r in lifecycle.refunds},
    }


# What `item_lifecycle` reads of a payment item (with the keys): enough to derive its row facts.
LIFECYCLE_SOURCE_ATTRIBUTES = (
    "userId",
    "paymentId",
    "status",
    "attempts",
    "link",
    "refunds",
    "truelayerPaymentId",
    "failureStage",
    "failureReason",
)


def row_facts_to_item(facts: RowFacts) -> dict[str, Any]:
    """The `rowFacts` map (`schema.ROW_FACTS`) of a payment item."""
    return {
        ROW_FACTS: {
            "settlement": facts.settlement.value if facts.settlement else "",
            "refundCount": facts.refund_count,
            "refundedMinor": facts.refunded_minor,
            "refundPendingMinor": facts.refund_pending_minor,
        }
    }


def item_row_facts(item: Mapping[str, Any]) -> RowFacts | None:
    """The row facts stored on a deserialised payment item (None on an item written before
    they existed: `payments.dynamo.listing` then reads its lifecycle)."""
    stored = item.get(ROW_FACTS)
    if not isinstance(stored, Mapping):
        return None
    settlement = stored.get("settlement")
    return RowFacts(
        settlement=Settlement(settlement) if settlement else None,
        refund_count=int(stored.get("refundCount", 0)),
        refunded_minor=int(stored.get("refundedMinor", 0)),
        refund_pending_minor=int(stored.get("refundPendingMinor", 0)),
    )


def refund_to_item(refund: Refund) -> dict[str, Any]:
    """One entry of a payment item's `refunds` map (keyed by our refund id)."""
    return _drop_empty(
        {
            "status": refund.status.value,
            "attemptId": refund.attempt_id,
            "amountMinor": refund.amount_minor,
            "at": _time(refund.at),
            "failureReason": refund.failure_reason,
            "truelayerRefundId": refund.truelayer_refund_id,
            "reference": refund.reference,
            "createdAt": _time(refund.created_at),
            "idempotencyKey": refund.idempotency_key,
            "requestedBy": refund.requested_by,
            "sendError": refund.send_error,
        }
    )


def item_refund(refund_id: str, raw: Mapping[str, Any]) -> Refund:
    return Refund(
        refund_id=str(refund_id),
        status=RefundStatus(raw["status"]),
        attempt_id=str(raw.get("attemptId", "")),
        amount_minor=int(raw["amountMinor"]) if raw.get("amountMinor") is not None else None,
        at=_parse(raw.get("at")),
        failure_reason=str(raw.get("failureReason", "")),
        truelayer_refund_id=str(raw.get("truelayerRefundId", "")),
        reference=str(raw.get("reference", "")),
        created_at=_parse(raw.get("createdAt")),
        idempotency_key=str(raw.get("idempotencyKey", "")),
        requested_by=str(raw.get("requestedBy", "")),
        send_error=str(raw.get("sendError", "")),
    )


def item_lifecycle(item: Mapping[str, Any]) -> Lifecycle:
    """The lifecycle of a deserialised payment item (old-shape items included)."""
    if "attempts" not in item and "link" not in item:
        return _legacy_lifecycle(item)
    attempts = tuple(
        sorted(
            (_attempt(attempt_id, raw) for attempt_id, raw in (item.get("attempts") or {}).items()),
            key=lambda a: (a.created_at is None, a.created_at or datetime.max, a.attempt_id),
        )
    )
    raw_link = item.get("link") or {}
    link = LinkState(
        LinkStatus(raw_link.get("status", LinkStatus.ENABLED.value)),
        str(raw_link.get("disabledReason", "")),
        _parse(raw_link.get("disabledAt")),
    )
    refunds = tuple(
        sorted(
            (item_refund(rid, raw) for rid, raw in (item.get("refunds") or {}).items()),
            key=lambda r: (r.created_at or r.at or datetime.max.replace(tzinfo=UTC), r.refund_id),
        )
    )
    return Lifecycle(attempts, link, refunds)


def webhook_log_to_item(entries: tuple[WebhookLogEntry, ...]) -> list[dict[str, str]]:
    return [
        {
            "type": e.event_type,
            "eventId": e.event_id,
            "sentAt": e.sent_at,
            "receivedAt": format_timestamp(e.received_at),
            "outcome": e.outcome,
        }
        for e in entries[-WEBHOOK_LOG_LIMIT:]
    ]


def item_webhook_log(item: Mapping[str, Any]) -> tuple[WebhookLogEntry, ...]:
    return tuple(
        WebhookLogEntry(
            event_type=str(raw.get("type", "")),
            event_id=str(raw.get("eventId", "")),
            sent_at=str(raw.get("sentAt", "")),
            received_at=parse_timestamp(raw["receivedAt"]),
            outcome=str(raw.get("outcome", "")),
        )
        for raw in item.get("webhookLog") or []
    )


def _attempt_item(attempt: Attempt) -> dict[str, Any]:
    return _drop_empty(
        {
            "status": attempt.status.value,
            "createdAt": _time(attempt.created_at),
            "failureStage": attempt.failure_stage,
            "failureReason": attempt.failure_reason,
            "providerId": attempt.provider_id,
            "creditableAt": _time(attempt.creditable_at),
            "settlementStalledAt": _time(attempt.settlement_stalled_at),
            "reversedAt": _time(attempt.reversed_at),
            "history": [
                {"status": h.status.value, "at": format_timestamp(h.at), "source": h.source}
                for h in attempt.history
            ],
        }
    )


def _attempt(attempt_id: str, raw: Mapping[str, Any]) -> Attempt:
    return Attempt(
        attempt_id=str(attempt_id),
        status=AttemptStatus(raw["status"]),
        created_at=_parse(raw.get("createdAt")),
        failure_stage=str(raw.get("failureStage", "")),
        failure_reason=str(raw.get("failureReason", "")),
        provider_id=str(raw.get("providerId", "")),
        creditable_at=_parse(raw.get("creditableAt")),
        settlement_stalled_at=_parse(raw.get("settlementStalledAt")),
        reversed_at=_parse(raw.get("reversedAt")),
        history=tuple(
            AttemptChange(AttemptStatus(h["status"]), parse_timestamp(h["at"]), str(h["source"]))
            for h in raw.get("history") or []
        ),
    )


# The attempt status an old-shape payment's single status stands for.
_LEGACY_ATTEMPT: Mapping[PaymentStatus, AttemptStatus] = {
    PaymentStatus.AUTHORIZATION_REQUIRED: AttemptStatus.AUTHORIZATION_REQUIRED,
    PaymentStatus.AUTHORIZING: AttemptStatus.AUTHORIZING,
    PaymentStatus.AUTHORIZED: AttemptStatus.AUTHORIZED,
    PaymentStatus.ATTEMPT_FAILED: AttemptStatus.ATTEMPT_FAILED,
    PaymentStatus.EXECUTED: AttemptStatus.EXECUTED,
    PaymentStatus.SETTLED: AttemptStatus.SETTLED,
    PaymentStatus.FAILED: AttemptStatus.FAILED,
}


def _legacy_lifecycle(item: Mapping[str, Any]) -> Lifecycle:
    status = PaymentStatus(item["status"])
    attempt_status = _LEGACY_ATTEMPT.get(status)
    attempts: tuple[Attempt, ...] = ()
    tl_id = str(item.get("truelayerPaymentId", ""))
    if attempt_status is not None:
        attempts = (
            Attempt(
                attempt_id=tl_id or f"legacy-{item['paymentId']}",
                status=attempt_status,
                failure_stage=str(item.get("failureStage", "")),
                failure_reason=str(item.get("failureReason", "")),
            ),
        )
    # The old model's `failed` and `expired` were final: the link was done with.
    closed = status in (PaymentStatus.FAILED, PaymentStatus.EXPIRED)
    link = LinkState(LinkStatus.DISABLED, "expired") if closed else LinkState()
    return Lifecycle(attempts, link)


def _time(moment: datetime | None) -> str | None:
    return format_timestamp(moment) if moment else None


def _parse(value: Any) -> datetime | None:
    return parse_timestamp(str(value)) if value else None


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}
