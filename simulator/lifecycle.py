"""What the simulator does when the payer (or the bank) acts on a payment link: the state
change in the simulator's tables, and the webhooks TrueLayer would send about it, in its order,
with its field names.

Each action runs in one database transaction on the locked link and returns the events it
produced; `perform` then delivers them the way the caller asked (normally, lost, twice, or held
back and sent after the next action's), always after the state is committed, so a dashboard
that asks the simulator's API while handling a webhook already sees the new state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db import transaction

from payments.domain import utc_now
from simulator import delivery
from simulator.models import (
    AUTHORIZATION_REQUIRED,
    AUTHORIZING,
    EXECUTED,
    FAILED,
    IN_PROGRESS,
    LINK_DISABLED,
    LINK_ENABLED,
    SETTLED,
    SUCCEEDED,
    SimulatedLink,
    SimulatedPayment,
    SimulatedRefund,
    SimulatedWebhook,
)
from simulator.outbox import (
    Delivery,
    Sent,
    deliver_held,
    dispatch,
)
from simulator.state import (
    DISABLED_EXPIRED,
    DISABLED_FULFILLED,
    expire_if_due,
    link_currency,
    open_attempt,
    payment_event,
    payment_method,
    stamp,
    with_method,
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


class ActionRefused(Exception):
    """The action is not possible in the link's or attempt's current state (or the form was
    not filled in). The message says why, for the payer's page."""


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
            payment_event(
                "payment_authorized", attempt, authorized_at=stamp(now), **with_method(attempt)
            )
        )
    events.append(
        payment_event(
            "payment_executed",
            attempt,
            executed_at=stamp(now),
            **with_method(attempt),
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
    return [payment_event("payment_failed", attempt, **fields)]


def settle(link: SimulatedLink, attempt: SimulatedPayment) -> Events:
    """The money reaches the merchant account: `settled`."""
    _require(attempt.status == EXECUTED, "Only an executed payment can settle.")
    now = utc_now()
    attempt.status, attempt.settled_at = SETTLED, now
    attempt.save(update_fields=["status", "settled_at", "updated_at"])
    return [
        payment_event(
            "payment_settled",
            attempt,
            settled_at=stamp(now),
            **with_method(attempt),
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
        payment_event("payment_creditable", attempt, creditable_at=stamp(attempt.creditable_at))
    ]


def stall_settlement(link: SimulatedLink, attempt: SimulatedPayment) -> Events:
    """An executed payment has not settled in the expected time (a fact, not a status)."""
    _require(attempt.status == EXECUTED, "Only an executed, unsettled payment can stall.")
    _require(attempt.settlement_stalled_at is None, "This settlement already stalled.")
    attempt.settlement_stalled_at = utc_now()
    attempt.save(update_fields=["settlement_stalled_at", "updated_at"])
    return [
        payment_event(
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
        payment_event(
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
                payment_event(
                    "payment_cancellation_failed",
                    attempt,
                    failed_at=stamp(utc_now()),
                    failure_reason="payment_already_authorized",
                )
            ]
    return dispatch(attempt.link, events, Delivery.NORMAL)


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
        return deliver_held(link)
    return dispatch(link, events, mode)


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
