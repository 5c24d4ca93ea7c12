"""Where a payment's lifecycle is written: one observation (from a webhook, "Refresh status" or
reconciliation) applied to one payment, atomically with everything that must move with it.

`payment_observe` reads the payment (GetItem, strongly consistent), lets
`payments.lifecycle.apply_observation` decide, and writes the result in ONE transaction:

- the payment: attempts, link, refunds, the derived status and its index keys, timeline entries,
  the webhook log, the reconciliation queue keys (`OpenIndex`) and `version + 1`; conditioned
  on `version` (nobody wrote since we read) AND, for each attempt that moves, on its stored
  status being one the transition table allows the move from — generated from
  `ATTEMPT_MOVES`, so DynamoDB itself refuses a move the table does not list;
- the statistics aggregates, when the derived status changed (`stats.stats_move_actions`);
- the webhook event id (a conditional put: a repeat is reported as a duplicate, never applied);
- the owner lookups of attempts seen for the first time (`lookups`), so the next event about
  them finds the payment with one GetItem instead of an eventually consistent index.

Nothing is written when an observation changes nothing and came from no webhook ("Refresh
status" that learns nothing leaves `updatedAt` alone). A lost race reads again and decides
again (`client.retry_on_conflict`).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from payments.domain import Payment, WebhookLogEntry, format_timestamp, utc_now
from payments.dynamo.client import (
    Dynamo,
    Metrics,
    RetryConflict,
    TokenReused,
    TransactionCanceled,
    get_item,
    request_token,
    retry_on_conflict,
    transact,
)
from payments.dynamo.events import event_put_action
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, history_entry, index_keys, item_to_payment
from payments.dynamo.items import payment_key as key_of
from payments.dynamo.lifecycle_items import lifecycle_to_item, webhook_log_to_item
from payments.dynamo.owners import ATTEMPT, owner_put_action
from payments.dynamo.refund_stats import executed_refund_moves
from payments.dynamo.stats import stats_update_actions, status_moves
from payments.errors import Conflict
from payments.lifecycle import (
    Decision,
    Observation,
    Outcome,
    PaymentStatus,
    apply_observation,
    attempt_statuses_before,
)

OPEN_SHARDS = 4  # the reconciliation queue is spread over this many index partitions
DUPLICATE = "duplicate"
MISSING = "missing"


@dataclass(frozen=True)
class EventReceipt:
    """The webhook an observation came from: recorded (event id) and logged on the payment."""

    event_id: str
    event_type: str
    sent_at: str
    received_at: datetime
    parked: bool = False  # it waited for its payment: logged as "parked, then applied"


@dataclass(frozen=True)
class Observed:
    """What `payment_observe` did: `outcome` is an `Outcome` value, "duplicate" or "missing"."""

    outcome: str
    payment: Payment | None
    new_attempts: tuple[str, ...] = ()

    @property
    def applied(self) -> bool:
        return self.outcome == Outcome.APPLIED.value


def payment_observe(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    observation: Observation,
    source: str,
    receipt: EventReceipt | None = None,
    actor: str = "",
    metrics: Metrics | None = None,
    now: datetime | None = None,
) -> Observed:
    """Apply one observation to one payment (see the module docstring). With `receipt`, the
    event id is recorded in the same transaction and a repeat of it is `"duplicate"`. With
    `actor` (a member's "Refresh status"), the timeline entries name who asked. `now` is the
    write's `updatedAt` (default: now; demo data dated in the past passes its own)."""
    written_at = now

    def cycle() -> Observed:
        raw = get_item(db, metrics, table=db.table, key=key_of(user_id, payment_id))
        if raw is None:
            return Observed(MISSING, None)
        item = deserialize(raw)
        payment = item_to_payment(item)
        decision = apply_observation(payment.lifecycle, observation, source=source)
        if actor:
            timeline = tuple(replace(e, actor=actor) for e in decision.timeline)
            decision = replace(decision, timeline=timeline)
        if not decision.changed and receipt is None:
            return Observed(decision.outcome.value, payment)
        now = written_at or utc_now()
        new_attempts = tuple(a for a, was, _to in decision.moves if was is None)
        update, written = _payment_update(db, item, payment, decision, receipt, now)
        actions = [update]
        moves: dict[str, Any] = {}
        if decision.changed and decision.status is not payment.status:
            moves |= status_moves(
                payment.currency, payment.amount, add=decision.status, remove=payment.status
            )
        if decision.changed:
            moves |= executed_refund_moves(payment, decision)
        if moves:
            actions += stats_update_actions(db, user_id, str(item["createdAt"]), moves)
        owners_from = len(actions)
        actions += [
            owner_put_action(db, ATTEMPT, attempt_id, user_id=user_id, payment_id=payment_id)
            for attempt_id in new_attempts
        ]
        if receipt is not None:
            actions.append(
                event_put_action(
                    db, receipt.event_id, receipt.received_at, owner=(user_id, payment_id)
                )
            )
        # One token per (payment as read, event or source): botocore's retry of this very
        # request is answered "done" without a second application.
        token = request_token(
            "observe", user_id, payment_id, _digest(raw), receipt.event_id if receipt else source
        )
        try:
            transact(db, metrics, actions, token=token)
        except TokenReused:
            # The same write from the same version already succeeded (with other timestamps):
            # read again; the version moved on and the observation is decided afresh.
            raise RetryConflict() from None
        except TransactionCanceled as cancelled:
            if receipt is not None and cancelled.failed(-1):
                return _log_duplicate(db, user_id, payment_id, receipt, metrics)
            if any(cancelled.failed(owners_from + i) for i in range(len(new_attempts))):
                # Not a race that reading again could win: refuse, change nothing.
                raise Conflict("That TrueLayer payment belongs to another payment.") from None
            raise RetryConflict() from cancelled  # written by someone else since we read
        after = item_to_payment({**item, **written})
        return Observed(decision.outcome.value, after, new_attempts)

    return retry_on_conflict(cycle)


def _digest(raw: Mapping[str, Any]) -> str:
    """The payment as read, in short: with the version alone, an item rewritten without one (an
    old-shape payment) would repeat an earlier token."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()


def open_check_at(now: datetime, expires_at: datetime | None) -> str:
    """When reconciliation should next look at an open payment: after the stale age, or when
    its link expires, whichever comes first."""
    due = now + timedelta(minutes=settings.RECONCILE_STALE_AFTER_MINUTES)
    if expires_at is not None and expires_at < due:
        due = expires_at
    return format_timestamp(due)


def open_shard(payment_id: str) -> str:
    return f"OPEN#{zlib.crc32(payment_id.encode()) % OPEN_SHARDS}"


def _payment_update(
    db: Dynamo,
    item: Mapping[str, Any],
    payment: Payment,
    decision: Decision,
    receipt: EventReceipt | None,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payment's Update action, and the attributes it sets."""
    expr = Expr()
    version = int(item.get("version", 0))
    fields: dict[str, Any] = {"version": version + 1}
    if receipt is not None:
        outcome = decision.outcome.value
        if receipt.parked:
            outcome = f"parked, then {outcome}"
        entry = WebhookLogEntry(
            receipt.event_type, receipt.event_id, receipt.sent_at, receipt.received_at, outcome
        )
        fields["webhookLog"] = webhook_log_to_item((*payment.webhook_log, entry))
    sets: list[str] = []
    removes: list[str] = []
    view: dict[str, Any] = {}
    if decision.changed:
        fields |= _written(decision, payment, item, now)
        if decision.timeline:
            entries = [history_entry(e) for e in decision.timeline]
            history = expr.name("history")
            sets.append(
                f"{history} = list_append(if_not_exists({history}, {expr.value([])}), "
                f"{expr.value(entries)})"
            )
            view["history"] = [*(item.get("history") or []), *entries]
        if "openShard" not in fields:
            removes = ["openShard", "checkAt"]
    sets += expr.assignments(fields)
    update = "SET " + ", ".join(sets)
    if removes:
        update += " REMOVE " + ", ".join(expr.name(r) for r in removes)
    version_name = expr.name("version")
    conditions = [
        f"{version_name} = {expr.value(version)}"
        if version
        else f"attribute_not_exists({version_name})"
    ]
    if "attempts" in item:  # an old-shape item has none: its version condition guards it
        for attempt_id, was, to in decision.moves:
            path = f"{expr.name('attempts')}.{expr.name(attempt_id)}"
            if was is None:
                conditions.append(f"attribute_not_exists({path})")
            else:
                allowed = sorted(s.value for s in attempt_statuses_before(to))
                conditions.append(f"{path}.{expr.name('status')} IN ({expr.values(allowed)})")
    action = {
        "Update": {
            "TableName": db.table,
            "Key": key_of(payment.user_id, payment.payment_id),
            "UpdateExpression": update,
            "ConditionExpression": " AND ".join(conditions),
            **expr.kwargs(),
        }
    }
    return action, {**fields, **view}


def _written(
    decision: Decision, payment: Payment, item: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """The attributes an applied decision sets (also used to show the payment as written)."""
    status: PaymentStatus = decision.status
    fields: dict[str, Any] = {
        **lifecycle_to_item(decision.lifecycle),
        "status": status.value,
        "updatedAt": format_timestamp(now),
        **index_keys(status, payment.currency, str(item["createdAt"])),
        # The over-refund guard's number, recomputed under the version condition.
        "refundReservedMinor": decision.lifecycle.refund_reserved_minor,
    }
    winner = decision.lifecycle.winning_attempt
    if winner is not None:
        fields["truelayerPaymentId"] = winner.attempt_id
        fields["failureStage"] = winner.failure_stage
        fields["failureReason"] = winner.failure_reason
    if not status.is_final and item.get("paymentLinkId"):
        fields["openShard"] = open_shard(payment.payment_id)
        fields["checkAt"] = open_check_at(now, payment.expires_at)
    return fields


def _log_duplicate(
    db: Dynamo,
    user_id: str,
    payment_id: str,
    receipt: EventReceipt,
    metrics: Metrics | None,
) -> Observed:
    """A repeated event changes nothing but the payment's webhook log."""

    def cycle() -> Observed:
        raw = get_item(db, metrics, table=db.table, key=key_of(user_id, payment_id))
        if raw is None:
            return Observed(DUPLICATE, None)
        item = deserialize(raw)
        payment = item_to_payment(item)
        entry = WebhookLogEntry(
            receipt.event_type, receipt.event_id, receipt.sent_at, receipt.received_at, DUPLICATE
        )
        log = webhook_log_to_item((*payment.webhook_log, entry))
        version = int(item.get("version", 0))
        expr = Expr()
        version_name = expr.name("version")
        condition = (
            f"{version_name} = {expr.value(version)}"
            if version
            else f"attribute_not_exists({version_name})"
        )
        update = {
            "Update": {
                "TableName": db.table,
                "Key": key_of(user_id, payment_id),
                "UpdateExpression": "SET "
                + ", ".join(expr.assignments({"webhookLog": log, "version": version + 1})),
                "ConditionExpression": condition,
                **expr.kwargs(),
            }
        }
        token = request_token("duplicate", user_id, payment_id, _digest(raw), receipt.event_id)
        try:
            transact(db, metrics, [update], token=token)
        except (TransactionCanceled, TokenReused) as cancelled:
            raise RetryConflict() from cancelled
        return Observed(DUPLICATE, payment)

    return retry_on_conflict(cycle)
