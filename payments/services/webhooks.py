"""TrueLayer webhooks: verified, read, routed to their payment and applied once — or parked until
their payment is known. The one path behind the endpoint and the simulator's deliveries.

1. The signature (`truelayer.webhooks.verify_webhook`) and the `X-TL-Webhook-Timestamp` window
   (older than the time event ids are remembered, or further in the future than
   `WEBHOOK_MAX_CLOCK_SKEW`, is refused: a replay could otherwise slip past the duplicate check).
2. The event is read into an observation (`truelayer.events.parse_event`); a type the product
   does not act on is answered 200 "ignored".
3. Its payment is found by the link or attempt it names (`dynamo.owner_get`, with the indexes as
   a fallback for payments stored before those lookups existed).
4. Found: applied through `dynamo.payment_observe`, together with its event id (a repeat is a
   "duplicate") and a line in the payment's webhook log. Not found: parked (`dynamo.parked_put`)
   and answered 202; it is applied the moment its link is stored (`payment_create`) or its
   attempt becomes known (`drain_parked`).

Every answer says what happened ("applied", "duplicate", "not a valid move", "no change",
"ignored", "parked"); TrueLayer retries anything but 2xx for up to 72 hours, so only a failure
on our side that a retry can cure (the database, fetching TrueLayer's keys) answers 5xx.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from payments import dynamo
from payments.domain import utc_now
from payments.dynamo import ATTEMPT, LINK, Dynamo, EventReceipt, ParkedEvent, get_dynamo
from payments.truelayer.events import EventInvalid, ParsedEvent, parse_event, timestamp_problem
from payments.truelayer.webhooks import SignatureRejected, verify_webhook

logger = logging.getLogger(__name__)

PARKED = "parked"
IGNORED = "ignored"
# Where the payment's timeline says a webhook's news came from.
WEBHOOK_SOURCE = "TrueLayer webhook"


@dataclass(frozen=True)
class WebhookResult:
    """What the endpoint answers (`status`) and says (`message`)."""

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
    db: Dynamo | None = None,
    now: datetime | None = None,
) -> WebhookResult:
    """Verify one webhook request and apply its event. Unsigned, badly signed, foreign-`jku`,
    replayed or malformed requests change nothing (401/400)."""
    try:
        verify_webhook(method=method, path=path, headers=headers, body=body)
    except SignatureRejected as rejected:
        logger.warning("webhook rejected (%s): %s", rejected.status, rejected.reason)
        return WebhookResult(rejected.status, rejected.reason)
    received_at = now or utc_now()
    sent_at = _header(headers, "X-Tl-Webhook-Timestamp")
    problem = timestamp_problem(
        sent_at,
        now=received_at,
        max_age=timedelta(days=settings.WEBHOOK_REPLAY_WINDOW_DAYS),
        max_skew=timedelta(seconds=settings.WEBHOOK_MAX_CLOCK_SKEW_SECONDS),
    )
    if problem:
        logger.warning("webhook refused: %s (%r)", problem, sent_at[:64])
        return WebhookResult(400, problem)
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        return WebhookResult(400, "The body is not JSON")
    if not isinstance(event, dict):
        return WebhookResult(400, "The body is not a JSON object")
    try:
        parsed = parse_event(event, received_at=received_at)
    except EventInvalid as invalid:
        return WebhookResult(400, str(invalid))
    if parsed.observation is None:
        logger.info("webhook %s of type %r ignored", parsed.event_id, parsed.event_type)
        return WebhookResult(200, IGNORED)
    return event_apply(
        parsed,
        body=body.decode("utf-8", "replace"),
        sent_at=sent_at,
        received_at=received_at,
        db=db or get_dynamo(),
    )


def event_apply(
    parsed: ParsedEvent,
    *,
    body: str,
    sent_at: str,
    received_at: datetime,
    db: Dynamo,
    parked: bool = False,
) -> WebhookResult:
    """Apply one read event to its payment, or park it until the payment is known."""
    assert parsed.observation is not None
    kind, target = _target(parsed)
    owner = _owner(db, parsed)
    if owner is None:
        if parked:
            return WebhookResult(202, PARKED)
        dynamo.parked_put(
            db,
            ParkedEvent(
                kind, target, parsed.event_id, parsed.event_type, body, sent_at, received_at
            ),
        )
        logger.info(
            "webhook %s (%s) parked for %s %s", parsed.event_id, parsed.event_type, kind, target
        )
        # The payment may have become known while we parked it: look again, so that whichever
        # of the two writes came second applies the event.
        if _owner(db, parsed) is None:
            return WebhookResult(202, PARKED)
        drain_parked(db, kind, target)
        return WebhookResult(200, "parked, then applied", applied=True)
    user_id, payment_id = owner
    observed = dynamo.payment_observe(
        db,
        user_id=user_id,
        payment_id=payment_id,
        observation=parsed.observation,
        source=f"{WEBHOOK_SOURCE} ({parsed.event_type})",
        receipt=EventReceipt(parsed.event_id, parsed.event_type, sent_at, received_at, parked),
    )
    for attempt_id in observed.new_attempts:
        drain_parked(db, ATTEMPT, attempt_id)
    return WebhookResult(
        200,
        observed.outcome,
        applied=observed.applied,
        duplicate=observed.outcome == dynamo.DUPLICATE,
    )


def drain_parked(db: Dynamo, kind: str, target: str) -> int:
    """Apply the events parked for a link or attempt that just became known; returns how many
    were applied (each is forgotten once applied)."""
    applied = 0
    for waiting in dynamo.parked_for(db, kind, target):
        try:
            parsed = parse_event(json.loads(waiting.body), received_at=waiting.received_at)
        except (ValueError, RecursionError, EventInvalid):
            dynamo.parked_delete(db, waiting)  # cannot happen to an event we parked: drop it
            continue
        if parsed.observation is None:
            dynamo.parked_delete(db, waiting)
            continue
        result = event_apply(
            parsed,
            body=waiting.body,
            sent_at=waiting.sent_at,
            received_at=waiting.received_at,
            db=db,
            parked=True,
        )
        if result.status == 200:
            dynamo.parked_delete(db, waiting)
            applied += 1
    return applied


def _target(parsed: ParsedEvent) -> tuple[str, str]:
    """What a parked event waits for: its attempt if it names one, else its link."""
    if parsed.attempt_id and parsed.event_type != "payment_link_payment_created":
        return ATTEMPT, parsed.attempt_id
    return LINK, parsed.link_id


def _owner(db: Dynamo, parsed: ParsedEvent) -> tuple[str, str] | None:
    if parsed.event_type != "payment_link_payment_created" and parsed.attempt_id:
        owner = dynamo.owner_get(db, ATTEMPT, parsed.attempt_id)
        if owner is None:
            legacy = dynamo.payment_find_by_truelayer_id(db, parsed.attempt_id)
            owner = (legacy.user_id, legacy.payment_id) if legacy else None
        if owner is not None or not parsed.link_id:
            return owner
    owner = dynamo.owner_get(db, LINK, parsed.link_id)
    if owner is None:
        legacy = dynamo.payment_find_by_link_id(db, parsed.link_id)
        owner = (legacy.user_id, legacy.payment_id) if legacy else None
    return owner


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")
