"""What the simulator does when the payer (or the bank) acts on a payment link: the state
change in the simulator's tables, and the webhooks TrueLayer would send about it, in its order,
with its field names.

Each action runs in one database transaction on the locked link and returns the events it
produced; `perform` then delivers them the way the caller asked (normally, lost, twice, or held
back and sent after the next action's), always after the state is committed, so a dashboard
that asks the simulator's API while handling a webhook already sees the new state.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import transaction

from payments.domain import format_timestamp, utc_now
from simulator import delivery
from simulator.models import (
    AUTHORIZATION_REQUIRED,
    AUTHORIZED,
    AUTHORIZING,
    EXECUTED,
    FAILED,
    IN_PROGRESS,
    LINK_DISABLED,
    LINK_DISABLING,
    LINK_ENABLED,
    SETTLED,
    SUCCEEDED,
    SimulatedLink,
    SimulatedPayment,
    SimulatedRefund,
    SimulatedWebhook,
)

# Banks the payer can pick, as TrueLayer's sandbox names its mock providers, by currency.
PROVIDERS: dict[str, list[tuple[str, str]]] = {
    "GBP": [
        ("mock-payments-gb-redirect", "Mock UK bank (redirect)"),
        ("mock-payments-gb-embedded", "Mock UK bank (embedded)"),
    ],
    "EUR": [
        ("mock-payments-fr-redirect", "Mock French bank (redirect)"),
        ("mock-payments-de-embedded", "Mock German bank (embedded)"),
    ],
}
SCHEMES = {"GBP": "faster_payments_service", "EUR": "sepa_credit_transfer_instant"}

# TrueLayer's documented failure reasons a payer can cause (unknown ones are stored as given).
FAILURE_REASONS = [
    ("authorization_failed", "The bank declined the authorisation"),
    ("user_canceled_at_provider", "The payer cancelled at the bank"),
    ("provider_rejected", "The bank rejected the payment"),
    ("insufficient_funds", "Not enough money in the account"),
    ("provider_error", "The bank had an error"),
    ("expired", "The payer took too long"),
]
# Examples only: TrueLayer does not publish a closed list of reversal reasons.
REVERSAL_REASONS = [
    ("returned_by_bank", "The payer's bank returned the money"),
    ("fraud", "Reversed as fraud"),
]
VERIFICATION_FAILED = "verification_failed"
DISABLED_FULFILLED = "fulfilled"
DISABLED_EXPIRED = "expired"


class ActionRefused(Exception):
    """The action is not possible in the link's or attempt's current state (or the form was
    not filled in). The message says why, for the payer's page."""


class Delivery(StrEnum):
    """How the webhooks of one action reach the dashboard."""

    NORMAL = "normal"
    LOSE = "lose"  # state changes, nothing is sent: only the API can tell
    TWICE = "twice"  # each event twice, same event_id (TrueLayer retries)
    LATE = "late"  # held back, sent after the next action's events (out of order)


DELIVERY_CHOICES = [
    (Delivery.NORMAL, "Deliver normally"),
    (Delivery.LOSE, "Lose them (the state changes, no webhook is sent)"),
    (Delivery.TWICE, "Deliver each twice (same event_id)"),
    (Delivery.LATE, "Hold them back: deliver after the next action's webhooks (out of order)"),
]


@dataclass(frozen=True)
class Sent:
    """What became of one event: delivered (with the dashboard's answer), lost or held."""

    event_type: str
    event_id: str
    outcome: str
    status: int | None = None
    message: str = ""


# --- reading state ---------------------------------------------------------------------------


def link_request(link: SimulatedLink) -> dict[str, Any]:
    """The `POST /v3/payment-links` body the link was created with."""
    body: dict[str, Any] = json.loads(link.request_body)
    return body


def link_currency(link: SimulatedLink) -> str:
    return str(link_request(link)["payment_configuration"]["currency"])


def link_status(link: SimulatedLink) -> str:
    """`enabled`, `disabling` (an attempt is at the bank) or `disabled`, as TrueLayer reads."""
    if (
        link.status == LINK_ENABLED
        and link.payments.filter(status__in=(AUTHORIZING, AUTHORIZED)).exists()
    ):
        return LINK_DISABLING
    return link.status


def expire_if_due(link: SimulatedLink, *, now: datetime | None = None) -> bool:
    """Disable an enabled link whose `expires_at` has passed with no successful attempt, as
    TrueLayer would have at that moment (`disabled_at` = `expires_at`). No webhook: the
    simulator has no clock, so the dashboard learns it only by asking the API. True if it
    flipped now."""
    now = now or utc_now()
    if link.status != LINK_ENABLED or link.expires_at is None or link.expires_at > now:
        return False
    if link.payments.filter(status__in=SUCCEEDED).exists():
        return False
    link.status, link.disabled_reason, link.disabled_at = (
        LINK_DISABLED,
        DISABLED_EXPIRED,
        link.expires_at,
    )
    link.save(update_fields=["status", "disabled_reason", "disabled_at"])
    return True


def open_attempt(link: SimulatedLink) -> SimulatedPayment | None:
    """The attempt still in the bank flow, if any (at most one at a time)."""
    return link.payments.filter(status__in=IN_PROGRESS).order_by("-created_at").first()


def stamp(moment: datetime | None) -> str:
    return format_timestamp(moment) if moment else ""


def payment_method(attempt: SimulatedPayment) -> dict[str, Any]:
    """`payment_method` as TrueLayer's payment webhooks carry it."""
    method: dict[str, Any] = {"type": "bank_transfer"}
    if attempt.provider_id:
        method["provider_id"] = attempt.provider_id
        method["scheme_id"] = SCHEMES.get(link_currency(attempt.link), "")
    return method


def payment_source(attempt: SimulatedPayment) -> dict[str, Any]:
    """A made-up payer account, the same for every event of one attempt."""
    identifiers: list[dict[str, str]] = [{"type": "iban", "iban": "GB33SIMU00000012345678"}]
    if link_currency(attempt.link) == "GBP":
        identifiers.insert(
            0,
            {
                "type": "sort_code_account_number",
                "sort_code": "000000",
                "account_number": "12345678",
            },
        )
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"simulator-source:{attempt.payment_id}")),
        "account_holder_name": "SIMULATED PAYER",
        "account_identifiers": identifiers,
    }


def _metadata(attempt: SimulatedPayment) -> dict[str, Any]:
    metadata: dict[str, Any] = link_request(attempt.link)["payment_configuration"].get(
        "metadata", {}
    )
    return metadata


def _payment_event(event_type: str, attempt: SimulatedPayment, **fields: Any) -> dict[str, Any]:
    return delivery.new_event(
        event_type, payment_id=attempt.payment_id, **fields, metadata=_metadata(attempt)
    )


def _with_method(attempt: SimulatedPayment) -> dict[str, Any]:
    return {"payment_method": payment_method(attempt), "payment_source": payment_source(attempt)}


# --- actions ---------------------------------------------------------------------------------
# Each takes the locked link (and the attempt it acts on), changes state, returns the events.

Events = list[dict[str, Any]]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ActionRefused(message)


def _link_disabled_event(link: SimulatedLink) -> dict[str, Any]:
    return delivery.new_event(
        "payment_link_disabled",
        payment_link_id=link.link_id,
        disabled_reason=link.disabled_reason,
        disabled_at=stamp(link.disabled_at),
    )


def pay_now(link: SimulatedLink, *, provider_id: str) -> tuple[SimulatedPayment, Events]:
    """The payer presses "Pay now" having picked a bank: a new attempt, in
    `authorization_required`."""
    _require(link.status == LINK_ENABLED, "This link is disabled: it cannot be paid any more.")
    _require(
        open_attempt(link) is None, "An attempt is already in progress: finish or fail it first."
    )
    banks = dict(PROVIDERS.get(link_currency(link), []))
    _require(provider_id in banks, "Pick a bank.")
    attempt = SimulatedPayment.objects.create(
        payment_id=f"sim-pay-{uuid.uuid4()}", link=link, provider_id=provider_id
    )
    event = delivery.new_event(
        "payment_link_payment_created",
        payment_link_id=link.link_id,
        payment={"id": attempt.payment_id, "created_at": stamp(attempt.created_at)},
    )
    return attempt, [event]


def go_to_bank(link: SimulatedLink, attempt: SimulatedPayment) -> Events:
    """The payer is redirected to the bank: `authorizing` (TrueLayer sends no webhook)."""
    _require(attempt.status == AUTHORIZATION_REQUIRED, "Only a new attempt can go to the bank.")
    attempt.status = AUTHORIZING
    attempt.save(update_fields=["status", "updated_at"])
    return []


def authorise(link: SimulatedLink, attempt: SimulatedPayment, *, send_authorized: bool) -> Events:
    """The payer authorises at the bank and the bank executes: `authorized` then `executed`;
    the link is disabled as fulfilled. `payment_authorized` only when opted in (it is off by
    default at TrueLayer)."""
    _require(attempt.status in (AUTHORIZATION_REQUIRED, AUTHORIZING), "Nothing to authorise.")
    _require(link.status == LINK_ENABLED, "This link is disabled: it cannot be paid any more.")
    now = utc_now()
    attempt.status, attempt.authorized_at, attempt.executed_at = EXECUTED, now, now
    attempt.save(update_fields=["status", "authorized_at", "executed_at", "updated_at"])
    link.status, link.disabled_reason, link.disabled_at = LINK_DISABLED, DISABLED_FULFILLED, now
    link.save(update_fields=["status", "disabled_reason", "disabled_at"])
    events: Events = []
    if send_authorized:
        events.append(
            _payment_event(
                "payment_authorized", attempt, authorized_at=stamp(now), **_with_method(attempt)
            )
        )
    events.append(
        _payment_event(
            "payment_executed",
            attempt,
            executed_at=stamp(now),
            **_with_method(attempt),
            settlement_risk={"category": "low_risk"},
        )
    )
    events.append(_link_disabled_event(link))
    return events


def fail(link: SimulatedLink, attempt: SimulatedPayment, *, reason: str) -> Events:
    """The attempt fails in the bank flow, at the stage it had reached. The link stays
    enabled: the payer can press "Pay now" again."""
    _require(attempt.status in IN_PROGRESS, "Only an attempt in progress can fail this way.")
    _require(reason in dict(FAILURE_REASONS), "Pick a failure reason.")
    return _fail(attempt, stage=attempt.status, reason=reason)


def abandon(link: SimulatedLink, attempt: SimulatedPayment) -> Events:
    """The payer leaves the bank flow: TrueLayer fails the attempt with reason `expired`
    (about 15 minutes later). Not the link's expiry: the link stays enabled."""
    _require(attempt.status in IN_PROGRESS, "Only an attempt in progress can be abandoned.")
    return _fail(attempt, stage=attempt.status, reason="expired")


def fail_verification(link: SimulatedLink, attempt: SimulatedPayment) -> Events:
    """Name or age verification fails after execution (merchant-account payments):
    `executed` → `failed`, stage `executed`. The link stays disabled."""
    _require(
        attempt.status == EXECUTED, "Only an executed, unsettled payment can fail verification."
    )
    return _fail(attempt, stage=EXECUTED, reason=VERIFICATION_FAILED)


def _fail(attempt: SimulatedPayment, *, stage: str, reason: str) -> Events:
    now = utc_now()
    attempt.status, attempt.failure_stage, attempt.failure_reason = FAILED, stage, reason
    attempt.failed_at = now
    attempt.save(
        update_fields=["status", "failure_stage", "failure_reason", "failed_at", "updated_at"]
    )
    fields: dict[str, Any] = {
        "failed_at": stamp(now),
        "failure_stage": stage,
        "failure_reason": reason,
    }
    if attempt.provider_id:
        fields["payment_method"] = payment_method(attempt)
    return [_payment_event("payment_failed", attempt, **fields)]


def settle(link: SimulatedLink, attempt: SimulatedPayment) -> Events:
    """The money reaches the merchant account: `settled`."""
    _require(attempt.status == EXECUTED, "Only an executed payment can settle.")
    now = utc_now()
    attempt.status, attempt.settled_at = SETTLED, now
    attempt.save(update_fields=["status", "settled_at", "updated_at"])
    return [
        _payment_event(
            "payment_settled",
            attempt,
            settled_at=stamp(now),
            **_with_method(attempt),
            settlement_risk={"category": "low_risk"},
        )
    ]


def mark_creditable(link: SimulatedLink, attempt: SimulatedPayment) -> Events:
    """TrueLayer judges the payment safe to credit (a fact, not a status change)."""
    _require(
        attempt.status in (EXECUTED, SETTLED),
        "Only an executed or settled payment can be creditable.",
    )
    _require(attempt.creditable_at is None, "This payment is already creditable.")
    attempt.creditable_at = utc_now()
    attempt.save(update_fields=["creditable_at", "updated_at"])
    return [
        _payment_event("payment_creditable", attempt, creditable_at=stamp(attempt.creditable_at))
    ]


def stall_settlement(link: SimulatedLink, attempt: SimulatedPayment) -> Events:
    """An executed payment has not settled in the expected time (a fact, not a status)."""
    _require(attempt.status == EXECUTED, "Only an executed, unsettled payment can stall.")
    _require(attempt.settlement_stalled_at is None, "This settlement already stalled.")
    attempt.settlement_stalled_at = utc_now()
    attempt.save(update_fields=["settlement_stalled_at", "updated_at"])
    return [
        _payment_event(
            "payment_settlement_stalled",
            attempt,
            settlement_stalled_at=stamp(attempt.settlement_stalled_at),
        )
    ]


def reverse(link: SimulatedLink, attempt: SimulatedPayment, *, reason: str) -> Events:
    """The money goes back after settlement (`payment_reversed`)."""
    _require(attempt.status == SETTLED, "Only a settled payment can be reversed.")
    _require(attempt.reversed_at is None, "This payment is already reversed.")
    _require(reason in dict(REVERSAL_REASONS), "Pick a reversal reason.")
    attempt.reversed_at, attempt.reversal_reason = utc_now(), reason
    attempt.save(update_fields=["reversed_at", "reversal_reason", "updated_at"])
    return [
        _payment_event(
            "payment_reversed",
            attempt,
            reversed_at=stamp(attempt.reversed_at),
            reversal_reason=reason,
        )
    ]


def expire_link(link: SimulatedLink) -> Events:
    """The link expires unpaid: `payment_link_disabled` with `disabled_reason: "expired"`.
    Also sends that webhook for a link that expired by time, when none was sent yet."""
    if link.status == LINK_DISABLED and link.disabled_reason == DISABLED_EXPIRED:
        _require(
            not link.webhooks.filter(event_type="payment_link_disabled").exists(),
            "This link's expiry was already reported.",
        )
        return [_link_disabled_event(link)]
    _require(link.status == LINK_ENABLED, "Only an enabled link can expire.")
    _require(
        not link.payments.filter(status__in=SUCCEEDED).exists(),
        "A paid link does not expire.",
    )
    link.status, link.disabled_reason, link.disabled_at = (
        LINK_DISABLED,
        DISABLED_EXPIRED,
        utc_now(),
    )
    link.save(update_fields=["status", "disabled_reason", "disabled_at"])
    return [_link_disabled_event(link)]


# --- refunds: the merchant decides what the bank does with each ------------------------------

REFUND_FAILURE_REASON = "refund_rejected_by_bank"


def _refund_of(link: SimulatedLink, form: dict[str, str]) -> SimulatedRefund:
    refund = (
        SimulatedRefund.objects.select_for_update()
        .filter(refund_id=form.get("refund_id", ""), payment__link=link)
        .select_related("payment")
        .first()
    )
    _require(refund is not None, "No such refund on this link.")
    assert refund is not None
    return refund


def execute_refund(link: SimulatedLink, form: dict[str, str]) -> Events:
    """The refund reaches the payer: `refund_executed`."""
    refund = _refund_of(link, form)
    _require(refund.status == SimulatedRefund.PENDING, "Only a pending refund can be executed.")
    refund.status, refund.executed_at = SimulatedRefund.EXECUTED, utc_now()
    refund.save(update_fields=["status", "executed_at"])
    return [
        delivery.new_event(
            "refund_executed",
            refund_id=refund.refund_id,
            payment_id=refund.payment.payment_id,
            executed_at=stamp(refund.executed_at),
        )
    ]


def fail_refund(link: SimulatedLink, form: dict[str, str]) -> Events:
    """The bank refuses the refund (or returns it after execution): `refund_failed`."""
    refund = _refund_of(link, form)
    _require(refund.status != SimulatedRefund.FAILED, "This refund has failed already.")
    refund.status, refund.failed_at = SimulatedRefund.FAILED, utc_now()
    refund.failure_reason = REFUND_FAILURE_REASON
    refund.save(update_fields=["status", "failed_at", "failure_reason"])
    return [
        delivery.new_event(
            "refund_failed",
            refund_id=refund.refund_id,
            payment_id=refund.payment.payment_id,
            failed_at=stamp(refund.failed_at),
            failure_reason=refund.failure_reason,
        )
    ]


def cancel_attempt(attempt_id: str) -> list[Sent]:
    """TrueLayer's answer to `POST /v3/payments/{id}/actions/cancel`, through webhooks: an
    attempt still before `authorized` fails with reason `canceled`; a later one sends
    `payment_cancellation_failed`. Raises `SimulatedPayment.DoesNotExist`."""
    with transaction.atomic():
        attempt = (
            SimulatedPayment.objects.select_for_update()
            .select_related("link")
            .get(payment_id=attempt_id)
        )
        if attempt.status in (AUTHORIZATION_REQUIRED, AUTHORIZING):
            events = _fail(attempt, stage=attempt.status, reason="canceled")
        else:
            events = [
                _payment_event(
                    "payment_cancellation_failed",
                    attempt,
                    failed_at=stamp(utc_now()),
                    failure_reason="payment_already_authorized",
                )
            ]
    return _dispatch(attempt.link, events, Delivery.NORMAL)


REFUND_ACTIONS: dict[str, Callable[[SimulatedLink, dict[str, str]], Events]] = {
    "refund_execute": execute_refund,
    "refund_fail": fail_refund,
}


# --- running an action and delivering its events ---------------------------------------------

# Actions on the link's attempt: name → (function, whether a payer may start the attempt in
# the same step, as a payer who pressed "Pay now" and went straight on to the bank).
AttemptAction = Callable[[SimulatedLink, SimulatedPayment, dict[str, str]], Events]
ATTEMPT_ACTIONS: dict[str, tuple[AttemptAction, bool]] = {
    "bank": (lambda link, attempt, form: go_to_bank(link, attempt), True),
    "authorise": (
        lambda link, attempt, form: authorise(
            link, attempt, send_authorized=bool(form.get("send_authorized"))
        ),
        True,
    ),
    "fail": (
        lambda link, attempt, form: fail(link, attempt, reason=form.get("failure_reason", "")),
        True,
    ),
    "abandon": (lambda link, attempt, form: abandon(link, attempt), False),
    "fail_verification": (lambda link, attempt, form: fail_verification(link, attempt), False),
    "settle": (lambda link, attempt, form: settle(link, attempt), False),
    "creditable": (lambda link, attempt, form: mark_creditable(link, attempt), False),
    "stall": (lambda link, attempt, form: stall_settlement(link, attempt), False),
    "reverse": (
        lambda link, attempt, form: reverse(link, attempt, reason=form.get("reversal_reason", "")),
        False,
    ),
}
ACTIONS = frozenset({"pay_now", "expire", "release", *ATTEMPT_ACTIONS, *REFUND_ACTIONS})


def perform(link_id: str, action: str, form: dict[str, str]) -> list[Sent]:
    """Run one action on a link with the posted fields (`payment_id`, `provider_id`,
    `failure_reason`, `reversal_reason`, `send_authorized`, `delivery`) and deliver its
    events. Raises `SimulatedLink.DoesNotExist` or `ActionRefused` (nothing changed)."""
    _require(action in ACTIONS, "Unknown action.")
    try:
        mode = Delivery(form.get("delivery") or Delivery.NORMAL)
    except ValueError:
        raise ActionRefused("Pick how the webhooks are delivered.") from None
    with transaction.atomic():
        link = SimulatedLink.objects.select_for_update().get(link_id=link_id)
        expire_if_due(link)
        events = _run(link, action, form)
    if action == "release":
        return _deliver_held(link)
    return _dispatch(link, events, mode)


def _run(link: SimulatedLink, action: str, form: dict[str, str]) -> Events:
    if action == "pay_now":
        return pay_now(link, provider_id=form.get("provider_id", ""))[1]
    if action == "expire":
        return expire_link(link)
    if action == "release":
        _require(
            link.webhooks.filter(outcome__in=SimulatedWebhook.PENDING).exists(),
            "No webhook is held back or waiting for a retry.",
        )
        return []
    if action in REFUND_ACTIONS:
        return REFUND_ACTIONS[action](link, form)
    function, may_start = ATTEMPT_ACTIONS[action]
    events: Events = []
    payment_id = form.get("payment_id", "")
    if payment_id:
        attempt = link.payments.filter(payment_id=payment_id).first()
        _require(attempt is not None, "No such attempt on this link.")
    else:
        attempt = open_attempt(link) or link.payments.exclude(status=FAILED).first()
        if attempt is None and may_start:
            # The payer pressed "Pay now" and went straight on: the attempt starts here.
            provider_id = form.get("provider_id") or PROVIDERS[link_currency(link)][0][0]
            attempt, events = pay_now(link, provider_id=provider_id)
        _require(attempt is not None, "There is no attempt to act on: press Pay now first.")
    assert attempt is not None  # for mypy: _require raised otherwise
    return events + function(link, attempt, form)


def _dispatch(link: SimulatedLink, events: Events, mode: Delivery) -> list[Sent]:
    # Held back or refused by an earlier action: they arrive after this action's events.
    earlier = list(link.webhooks.filter(outcome__in=SimulatedWebhook.PENDING))
    sent: list[Sent] = []
    for event in events:
        if mode is Delivery.LOSE:
            sent.append(_record(link, event, SimulatedWebhook.LOST))
        elif mode is Delivery.LATE:
            sent.append(_record(link, event, SimulatedWebhook.HELD))
        else:
            for _ in range(2 if mode is Delivery.TWICE else 1):
                sent.append(_send(link, event))
    if mode is not Delivery.LATE:
        sent.extend(_redeliver(earlier))
    return sent


def _deliver_held(link: SimulatedLink) -> list[Sent]:
    return _redeliver(list(link.webhooks.filter(outcome__in=SimulatedWebhook.PENDING)))


def _redeliver(webhooks: list[SimulatedWebhook]) -> list[Sent]:
    """Send what was held back or refused before, oldest first (a retry is the same event,
    same `event_id`, stamped with a new timestamp)."""
    sent = []
    for held in webhooks:
        result = delivery.deliver_event(held.body)
        held.outcome = _outcome(result.status)
        held.response_status, held.response_message = result.status, result.message[:500]
        held.save(update_fields=["outcome", "response_status", "response_message"])
        sent.append(_sent(held))
    return sent


def _send(link: SimulatedLink, event: dict[str, Any]) -> Sent:
    result = delivery.deliver_event(event)
    return _record(
        link, event, _outcome(result.status), status=result.status, message=result.message
    )


def _outcome(status: int) -> str:
    # Anything but 2xx is retried by TrueLayer: keep it to be sent again.
    return SimulatedWebhook.DELIVERED if 200 <= status < 300 else SimulatedWebhook.RETRY


def _record(
    link: SimulatedLink,
    event: dict[str, Any],
    outcome: str,
    *,
    status: int | None = None,
    message: str = "",
) -> Sent:
    webhook = SimulatedWebhook.objects.create(
        link=link,
        event_id=event["event_id"],
        event_type=event["type"],
        body=event,
        outcome=outcome,
        response_status=status,
        response_message=message[:500],
    )
    return _sent(webhook)


def _sent(webhook: SimulatedWebhook) -> Sent:
    return Sent(
        event_type=webhook.event_type,
        event_id=webhook.event_id,
        outcome=webhook.outcome,
        status=webhook.response_status,
        message=webhook.response_message,
    )
