"""Where refunds are written. Two kinds of write, both on the payment item:

- `refund_create`: ONE UpdateItem that adds the refund to the `refunds` map as `pending` and
  ADDs its amount to `refundReservedMinor`, conditioned on
  `attribute_not_exists(refundReservedMinor) OR refundReservedMinor <= :limit` (limit = the
  payment's amount minus this refund), on the payment being refundable, and on the refund id
  being new. DynamoDB evaluates the condition and the ADD atomically, so refunds racing from
  several browsers can never together exceed the payment; a double-clicked form (same refund
  id) records one refund. It ADDs 1 to `version` without conditioning on it, so a concurrent
  `payment_observe` that read before it fails its version check and reads again.
- `refund_change`: a read-modify-write of one refund (TrueLayer's id stored, a send error, a
  refusal), conditioned on `version` like `payment_observe`; `refundReservedMinor` is
  recomputed from the refunds in the same write, so a refund that fails returns its amount
  in the write that records the failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from payments.domain import Payment, StatusChange, format_timestamp, from_minor_units, utc_now
from payments.dynamo.client import (
    ConditionFailed,
    Dynamo,
    Metrics,
    RetryConflict,
    TransactionCanceled,
    get_item,
    retry_on_conflict,
    transact,
    update_item,
)
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, history_entry, item_to_payment
from payments.dynamo.items import payment_key as key_of
from payments.dynamo.lifecycle_items import lifecycle_to_item, refund_to_item, row_facts_to_item
from payments.dynamo.refund_stats import executed_refund_moves
from payments.dynamo.row_facts import store_row_facts
from payments.dynamo.schema import ROW_FACTS
from payments.dynamo.stats import stats_update_actions
from payments.errors import RepositoryError
from payments.lifecycle import REFUNDABLE_STATUSES, Decision, Lifecycle, Outcome, Refund
from payments.refunds import RefundRefused, refundable_problem, remaining_message

REFUND_SOURCE = "merchant action"


class DuplicateRefund(RepositoryError):
    """This refund (the same form submission) was recorded before; `payment` shows it."""

    message = "This refund was already requested."
    title = "Already requested"
    status = 409

    def __init__(self, payment: Payment) -> None:
        super().__init__()
        self.payment = payment


def refund_create(
    db: Dynamo,
    *,
    payment: Payment,
    refund: Refund,
    now: datetime | None = None,
    metrics: Metrics | None = None,
) -> Payment:
    """Record `refund` (status pending, amount and Idempotency-Key set) on `payment` with the
    over-refund guard (see the module docstring). Raises `RefundRefused` when it would exceed
    what remains or the payment is not refundable (as DynamoDB finds it, not as `payment`
    was read), `DuplicateRefund` when this refund id exists already."""
    amount = refund.amount_minor
    if amount is None or amount <= 0:
        raise RefundRefused("amount", "The amount must be greater than zero.")
    moment = now or utc_now()
    expr = Expr()
    refunds = expr.name("refunds")
    rid = expr.name(refund.refund_id)
    reserved = expr.name("refundReservedMinor")
    history = expr.name("history")
    entry = history_entry(
        StatusChange(
            payment.status,
            moment,
            REFUND_SOURCE,
            f"refund of {_major(amount, payment)} requested",
            actor=refund.requested_by,
        )
    )
    legacy = not _has_refunds_map(db, payment, metrics)
    target = refunds if legacy else f"{refunds}.{rid}"
    value = {refund.refund_id: refund_to_item(refund)} if legacy else refund_to_item(refund)
    # The row facts move with the refund, atomically like the guard: one more refund, its
    # amount pending. (A payment stored before row facts has none to add to: the condition
    # below fails, its facts are stored, and the write is sent again.)
    facts = expr.name(ROW_FACTS)
    count, pending = expr.name("refundCount"), expr.name("refundPendingMinor")
    update = (
        f"SET {target} = {expr.value(value)}, "
        f"{history} = list_append(if_not_exists({history}, {expr.value([])}), "
        f"{expr.value([entry])}), "
        f"{expr.name('updatedAt')} = {expr.value(format_timestamp(moment))}, "
        f"{facts}.{count} = {facts}.{count} + {expr.value(1)}, "
        f"{facts}.{pending} = {facts}.{pending} + {expr.value(amount)} "
        f"ADD {reserved} {expr.value(amount)}, {expr.name('version')} {expr.value(1)}"
    )
    statuses = expr.values(sorted(s.value for s in REFUNDABLE_STATUSES))
    conditions = [
        f"attribute_exists({expr.name('paymentId')})",
        f"{expr.name('status')} IN ({statuses})",
        f"attribute_not_exists({refunds})" if legacy else f"attribute_not_exists({target})",
        f"(attribute_not_exists({reserved}) OR {reserved} <= "
        f"{expr.value(payment.minor_amount - amount)})",
        f"attribute_exists({facts})",
    ]
    for _ in range(2):
        try:
            written = update_item(
                db,
                metrics,
                key=key_of(payment.user_id, payment.payment_id),
                update=update,
                condition=" AND ".join(conditions),
                attributes=expr.kwargs(),
            )
            break
        except ConditionFailed:
            raw = get_item(
                db, metrics, table=db.table, key=key_of(payment.user_id, payment.payment_id)
            )
            if raw is not None and ROW_FACTS not in raw:
                store_row_facts(db, metrics, deserialize(raw))
                continue
            raise _why_refused(payment, refund, raw) from None
    else:  # the facts were stored, and the condition failed again for another reason
        raise _why_refused(
            payment,
            refund,
            get_item(db, metrics, table=db.table, key=key_of(payment.user_id, payment.payment_id)),
        )
    return item_to_payment(deserialize(written))


def refund_change(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    edit: Callable[[Lifecycle], tuple[Lifecycle, str] | None],
    source: str = REFUND_SOURCE,
    metrics: Metrics | None = None,
) -> Payment | None:
    """Apply `edit` to the payment's lifecycle and store the result: `edit` returns the new
    lifecycle and the timeline's words, or None for "nothing to change". Conditioned on the
    version read; `refundReservedMinor` and the refund statistics move in the same write.
    Returns the payment as stored (None if it does not exist)."""

    def cycle() -> Payment | None:
        raw = get_item(db, metrics, table=db.table, key=key_of(user_id, payment_id))
        if raw is None:
            return None
        item = deserialize(raw)
        payment = item_to_payment(item)
        edited = edit(payment.lifecycle)
        if edited is None:
            return payment
        lifecycle, words = edited
        now = utc_now()
        expr = Expr()
        fields: dict[str, Any] = {
            "refunds": lifecycle_to_item(lifecycle)["refunds"],
            **row_facts_to_item(lifecycle.row_facts),
            "refundReservedMinor": lifecycle.refund_reserved_minor,
            "updatedAt": format_timestamp(now),
            "version": payment.version + 1,
        }
        sets = expr.assignments(fields)
        entries = [history_entry(StatusChange(payment.status, now, source, words))] if words else []
        if entries:
            history = expr.name("history")
            sets.append(
                f"{history} = list_append(if_not_exists({history}, {expr.value([])}), "
                f"{expr.value(entries)})"
            )
        version = expr.name("version")
        condition = (
            f"{version} = {expr.value(payment.version)}"
            if payment.version
            else f"attribute_not_exists({version})"
        )
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": db.table,
                    "Key": key_of(user_id, payment_id),
                    "UpdateExpression": "SET " + ", ".join(sets),
                    "ConditionExpression": condition,
                    **expr.kwargs(),
                }
            }
        ]
        decision = Decision(Outcome.APPLIED, lifecycle, payment.status)
        moves = executed_refund_moves(payment, decision)
        if moves:
            actions += stats_update_actions(db, user_id, str(item["createdAt"]), moves)
        try:
            transact(db, metrics, actions)
        except TransactionCanceled as cancelled:
            raise RetryConflict() from cancelled
        written = {**item, **fields, "history": [*(item.get("history") or []), *entries]}
        return item_to_payment(written)

    return retry_on_conflict(cycle)


def with_refund(lifecycle: Lifecycle, refund: Refund) -> Lifecycle:
    """`lifecycle` with `refund` replacing the one of the same id (or added)."""
    others = tuple(r for r in lifecycle.refunds if r.refund_id != refund.refund_id)
    return replace(lifecycle, refunds=(*others, refund))


def _has_refunds_map(db: Dynamo, payment: Payment, metrics: Metrics | None) -> bool:
    # Payments stored before lifecycles existed have no `refunds` map to add a key to. Their
    # refunds list is empty; a lifecycle write gives them one. Read only in that case.
    if payment.lifecycle.attempts or payment.lifecycle.refunds:
        return True
    raw = get_item(db, metrics, table=db.table, key=key_of(payment.user_id, payment.payment_id))
    return raw is None or "refunds" in raw


def _why_refused(payment: Payment, refund: Refund, raw: dict[str, Any] | None) -> Exception:
    """Why the refund's conditional write failed, from the payment as it is now (`raw`)."""
    if raw is None:
        return RefundRefused("payment", "This payment does not exist.")
    now = item_to_payment(deserialize(raw))
    if any(r.refund_id == refund.refund_id for r in now.lifecycle.refunds):
        return DuplicateRefund(now)
    problem = refundable_problem(now)
    if problem and now.status not in REFUNDABLE_STATUSES:
        return RefundRefused("payment", problem)
    remaining = now.minor_amount - now.lifecycle.refund_reserved_minor
    return RefundRefused("amount", remaining_message(remaining, now.currency))


def _major(minor: int, payment: Payment) -> str:
    return f"{from_minor_units(minor, payment.currency)} {payment.currency}"


__all__ = [
    "REFUND_SOURCE",
    "DuplicateRefund",
    "refund_change",
    "refund_create",
    "with_refund",
]
