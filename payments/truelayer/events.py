"""TrueLayer's words → the lifecycle's observations.

Two sources say what happened to a payment: webhook events (`parse_event`) and the API's answers
to `GET /v3/payment-links/{id}`, `.../payments` and `GET /v3/payments/{id}`
(`observations_from_api`). Both become `payments.lifecycle` observations, so a status learned
from a webhook and the same status learned by asking TrueLayer go through the same rules.

Every event type DESIGN.md lists is understood; any other type parses with no observation
(acknowledged and ignored). A malformed field never raises anything but `EventInvalid`, and an
unreadable or out-of-range time falls back to when we received the event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from payments.lifecycle import (
    AttemptSeen,
    AttemptStatus,
    CancellationFailed,
    LinkDisabled,
    Observation,
    RefundSeen,
    RefundStatus,
    SettlementFact,
)

MAX_ID_LENGTH = 128  # TrueLayer's ids are UUIDs or short tokens; anything longer is not theirs

# Payment events: the attempt status each reports, and the field that says when.
_ATTEMPT_EVENTS: Mapping[str, tuple[AttemptStatus, str]] = {
    "payment_authorized": (AttemptStatus.AUTHORIZED, "authorized_at"),
    "payment_executed": (AttemptStatus.EXECUTED, "executed_at"),
    "payment_settled": (AttemptStatus.SETTLED, "settled_at"),
    "payment_failed": (AttemptStatus.FAILED, "failed_at"),
    "payment_reversed": (AttemptStatus.REVERSED, "reversed_at"),
}
_FACT_EVENTS: Mapping[str, tuple[str, str]] = {
    "payment_creditable": ("creditable", "creditable_at"),
    "payment_settlement_stalled": ("stalled", "settlement_stalled_at"),
}
# Every event type the product acts on (others are acknowledged and ignored).
HANDLED_EVENT_TYPES = frozenset(
    {
        "payment_link_payment_created",
        "payment_link_disabled",
        "payment_cancellation_failed",
        "refund_executed",
        "refund_failed",
        *_ATTEMPT_EVENTS,
        *_FACT_EVENTS,
    }
)


class EventInvalid(ValueError):
    """The event cannot be read (answered 400: TrueLayer's retries would not make it readable)."""


@dataclass(frozen=True)
class ParsedEvent:
    event_id: str
    event_type: str
    link_id: str  # the payment link the event names, if any
    attempt_id: str  # the TrueLayer payment (attempt) the event names, if any
    observation: Observation | None  # None: a type the product does not act on
    at: datetime


def parse_event(event: Mapping[str, Any], *, received_at: datetime) -> ParsedEvent:
    """Read one verified webhook event. Raises `EventInvalid` for a missing or malformed id,
    type or reference."""
    event_id = _id(event.get("event_id"), "event_id")
    event_type = event.get("type")
    if not isinstance(event_type, str) or not event_type or len(event_type) > MAX_ID_LENGTH:
        raise EventInvalid("The event has no type")

    def when(field: str) -> datetime:
        return parse_time(event.get(field)) or received_at

    if event_type == "payment_link_payment_created":
        payment = event.get("payment")
        if not isinstance(payment, dict):
            raise EventInvalid("payment_link_payment_created has no payment object")
        link_id = _id(event.get("payment_link_id"), "payment_link_id")
        attempt_id = _id(payment.get("id"), "payment.id")
        created = parse_time(payment.get("created_at"))
        observation: Observation | None = AttemptSeen(
            attempt_id,
            AttemptStatus.AUTHORIZATION_REQUIRED,
            created or received_at,
            created_at=created or received_at,
        )
        return ParsedEvent(
            event_id, event_type, link_id, attempt_id, observation, created or received_at
        )
    if event_type == "payment_link_disabled":
        link_id = _id(event.get("payment_link_id"), "payment_link_id")
        reason = _text(event.get("disabled_reason")) or "unknown"
        at = when("disabled_at")
        return ParsedEvent(event_id, event_type, link_id, "", LinkDisabled(reason, at), at)
    if event_type in _ATTEMPT_EVENTS:
        status, time_field = _ATTEMPT_EVENTS[event_type]
        attempt_id = _id(event.get("payment_id"), "payment_id")
        at = when(time_field)
        observation = AttemptSeen(
            attempt_id,
            status,
            at,
            failure_stage=_text(event.get("failure_stage")),
            failure_reason=_text(event.get("failure_reason") or event.get("reversal_reason")),
            provider_id=provider_id(event),
        )
        return ParsedEvent(event_id, event_type, _optional_id(event), attempt_id, observation, at)
    if event_type in _FACT_EVENTS:
        fact, time_field = _FACT_EVENTS[event_type]
        attempt_id = _id(event.get("payment_id"), "payment_id")
        at = when(time_field)
        observation = SettlementFact(attempt_id, fact, at)
        return ParsedEvent(event_id, event_type, _optional_id(event), attempt_id, observation, at)
    if event_type == "payment_cancellation_failed":
        attempt_id = _id(event.get("payment_id"), "payment_id")
        at = when("failed_at")
        observation = CancellationFailed(attempt_id, at, _text(event.get("failure_reason")))
        return ParsedEvent(event_id, event_type, "", attempt_id, observation, at)
    if event_type in ("refund_executed", "refund_failed"):
        attempt_id = _id(event.get("payment_id"), "payment_id")
        refund_id = _id(event.get("refund_id"), "refund_id")
        executed = event_type == "refund_executed"
        at = when("executed_at" if executed else "failed_at")
        observation = RefundSeen(
            refund_id,
            attempt_id,
            RefundStatus.EXECUTED if executed else RefundStatus.FAILED,
            at,
            failure_reason=_text(event.get("failure_reason")),
        )
        return ParsedEvent(event_id, event_type, "", attempt_id, observation, at)
    return ParsedEvent(event_id, event_type, "", "", None, received_at)


def observations_from_api(
    link: Mapping[str, Any] | None, attempts: Sequence[Mapping[str, Any]], *, now: datetime
) -> list[Observation]:
    """What TrueLayer's answers say: each attempt's status (with its failure and bank), and
    the link's closing. Unknown statuses are skipped (they change nothing)."""
    seen: list[Observation] = []
    for answer in attempts:
        attempt_id = answer.get("id")
        if not isinstance(attempt_id, str) or not attempt_id or len(attempt_id) > MAX_ID_LENGTH:
            continue
        try:
            status = AttemptStatus(str(answer.get("status", "")))
        except ValueError:
            continue
        if status is AttemptStatus.SETTLED and parse_time(answer.get("reversed_at")):
            # TrueLayer has no `reversed` status: a reversal shows as a time on the settled one.
            status = AttemptStatus.REVERSED
        created = parse_time(answer.get("created_at"))
        at = (
            parse_time(answer.get(f"{status.value}_at"))
            or parse_time(answer.get("failed_at"))
            or now
        )
        seen.append(
            AttemptSeen(
                attempt_id,
                status,
                at,
                created_at=created,
                failure_stage=_text(answer.get("failure_stage")),
                failure_reason=_text(answer.get("failure_reason")),
                provider_id=provider_id(answer),
            )
        )
    if link is not None and link.get("status") == "disabled":
        reason = _text(link.get("disabled_reason") or link.get("disablement_reason")) or "unknown"
        seen.append(LinkDisabled(reason, parse_time(link.get("disabled_at")) or now))
    return seen


# Times outside these years are not TrueLayer's (and would not fit our fixed-width timestamps).
_YEARS = range(2000, 3000)


def refund_observations_from_api(
    attempt_id: str, refunds: Sequence[Mapping[str, Any]], *, now: datetime
) -> list[Observation]:
    """What `GET /v3/payments/{id}/refunds` says: each refund's status and amount, with our
    refund id when its metadata carries it. Unknown statuses are skipped."""
    seen: list[Observation] = []
    for answer in refunds:
        refund_id = answer.get("id")
        if not isinstance(refund_id, str) or not refund_id or len(refund_id) > MAX_ID_LENGTH:
            continue
        try:
            status = RefundStatus(str(answer.get("status", "")))
        except ValueError:
            continue
        amount = answer.get("amount_in_minor")
        metadata = answer.get("metadata")
        ours = metadata.get("refund_id") if isinstance(metadata, dict) else None
        at = parse_time(answer.get(f"{status.value}_at")) or parse_time(answer.get("created_at"))
        seen.append(
            RefundSeen(
                refund_id,
                attempt_id,
                status,
                at or now,
                amount_minor=amount if isinstance(amount, int) and amount > 0 else None,
                failure_reason=_text(answer.get("failure_reason")),
                our_refund_id=ours if isinstance(ours, str) and len(ours) <= MAX_ID_LENGTH else "",
            )
        )
    return seen


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time as an aware datetime; None when missing, unreadable or out of range."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment if moment.year in _YEARS else None


def timestamp_problem(
    header: str, *, now: datetime, max_age: timedelta, max_skew: timedelta
) -> str:
    """Why an `X-TL-Webhook-Timestamp` is refused ("" when it is fine): a replay older than the
    time event ids are remembered could slip past the duplicate check, and a time far in the
    future is not TrueLayer's."""
    sent = parse_time(header)
    if sent is None:
        return "X-TL-Webhook-Timestamp is missing or not a time"
    if sent < now - max_age:
        return "X-TL-Webhook-Timestamp is too old (a replay?)"
    if sent > now + max_skew:
        return "X-TL-Webhook-Timestamp is in the future"
    return ""


def provider_id(answer: Mapping[str, Any]) -> str:
    """The payer's bank, where TrueLayer says it (payment_method.provider_id in webhooks,
    payment_method.provider_selection.provider_id in API answers, or payment_source)."""
    method = answer.get("payment_method")
    if isinstance(method, dict):
        # Webhooks carry it flat; API answers inside the provider selection.
        if isinstance(method.get("provider_id"), str):
            return str(method["provider_id"])[:MAX_ID_LENGTH]
        selection = method.get("provider_selection")
        if isinstance(selection, dict) and isinstance(selection.get("provider_id"), str):
            return str(selection["provider_id"])[:MAX_ID_LENGTH]
    source = answer.get("payment_source")
    if isinstance(source, dict) and isinstance(source.get("provider_id"), str):
        return str(source["provider_id"])[:MAX_ID_LENGTH]
    return ""


def _id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EventInvalid(f"The event has no {name}")
    if len(value) > MAX_ID_LENGTH:
        raise EventInvalid(f"The event's {name} is longer than {MAX_ID_LENGTH} characters")
    return value


def _optional_id(event: Mapping[str, Any]) -> str:
    value = event.get("payment_link_id")
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH else ""


def _text(value: Any) -> str:
    return value[:200] if isinstance(value, str) else ""
