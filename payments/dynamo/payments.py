"""Payment writes and single reads: create, get, status update, link fields and the provider's
raw responses. (Lookups by TrueLayer link or payment id are in `lookups`.)

Writes never overwrite (conditional puts). A status moves only along the domain's transition
table, and DynamoDB enforces it: the update carries a condition on the current status, so a late
or repeated event changes nothing even when two deliveries race. Creation and every status change
are one transaction with the statistics aggregates (`stats.stats_move_actions`) and, when given,
the webhook event id or form token (`events`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ulid import ULID

from payments.domain import (
    LinkError,
    Payment,
    PaymentStatus,
    StatusChange,
    can_transition,
    format_timestamp,
    parse_amount,
    parse_currency,
    parse_reference,
    require_user,
    statuses_before,
    utc_now,
)
from payments.dynamo.client import (
    ConditionFailed,
    Dynamo,
    Metrics,
    RetryConflict,
    TransactionCanceled,
    count,
    get_item,
    retry_on_conflict,
    transact,
    translate_errors,
)
from payments.dynamo.events import (
    event_mark,
    event_put_action,
    event_seen,
    submission_payment_id,
    submission_put_action,
)
from payments.dynamo.expressions import Expr, set_clause
from payments.dynamo.items import (
    deserialize,
    history_entry,
    index_keys,
    item_to_payment,
    link_error_item,
    payment_key,
    serialize,
)
from payments.dynamo.stats import stats_move_actions
from payments.errors import Conflict, DuplicateSubmission

_MAX_PAYMENT_ID = 64


class UpdateOutcome(StrEnum):
    APPLIED = "applied"  # the status moved
    DUPLICATE = "duplicate"  # this event id was already applied: nothing changed
    REFUSED = "refused"  # not a move the transition table allows: nothing changed
    MISSING = "missing"  # no such payment


@dataclass(frozen=True, kw_only=True)
class StatusUpdate:
    outcome: UpdateOutcome
    payment: Payment | None  # the payment as it is now (None if it does not exist)

    @property
    def applied(self) -> bool:
        return self.outcome is UpdateOutcome.APPLIED

    @property
    def duplicate(self) -> bool:
        return self.outcome is UpdateOutcome.DUPLICATE


def payment_create(
    db: Dynamo,
    *,
    user_id: str,
    amount: Decimal | str,
    currency: str,
    reference: str,
    payer_name: str = "",
    payer_email: str = "",
    expires_at: datetime | None = None,
    submission_token: str | None = None,
    now: datetime | None = None,
    metrics: Metrics | None = None,
) -> Payment:
    """Store a new `pending` payment (never overwriting one) and count it in the statistics,
    in one transaction. With `submission_token`, a second submission of the same form raises
    `DuplicateSubmission` naming the payment the first one created."""
    require_user(user_id)
    currency = parse_currency(currency)
    amount = parse_amount(amount, currency)
    reference = parse_reference(reference)
    moment = now or utc_now()
    moment = moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
    payment_id = str(ULID.from_datetime(moment))
    created_at = format_timestamp(moment)
    status = PaymentStatus.PENDING
    item: dict[str, Any] = {
        "userId": user_id,
        "paymentId": payment_id,
        "amount": amount,
        "currency": currency,
        "reference": reference,
        "referenceLower": reference.lower(),
        "status": status.value,
        "createdAt": created_at,
        "updatedAt": created_at,
        "history": [history_entry(StatusChange(status=status, at=moment, source="created"))],
        "providerResponses": {},
        **index_keys(status, currency, created_at),
    }
    if payer_name:
        item["payerName"] = payer_name
    if payer_email:
        item["payerEmail"] = payer_email
    if expires_at:
        item["expiresAt"] = format_timestamp(expires_at)
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": db.table,
                "Item": serialize(item),
                "ConditionExpression": "attribute_not_exists(paymentId)",
            }
        },
        *stats_move_actions(db, user_id, created_at, currency, amount, add=status),
    ]
    if submission_token:
        actions.append(submission_put_action(db, user_id, submission_token, payment_id, moment))
    try:
        retry_on_conflict(lambda: transact(db, metrics, actions))
    except TransactionCanceled as cancelled:
        if submission_token and cancelled.failed(-1):
            existing = submission_payment_id(db, user_id, submission_token, metrics=metrics)
            if existing is not None:
                raise DuplicateSubmission(existing) from None
        raise Conflict("A payment with this id already exists; nothing was written.") from None
    return item_to_payment(item)


def payment_get(
    db: Dynamo, *, user_id: str, payment_id: str, metrics: Metrics | None = None
) -> Payment | None:
    """One GetItem (strongly consistent). None when missing or owned by someone else."""
    if not user_id or not payment_id or len(payment_id) > _MAX_PAYMENT_ID:
        return None
    raw = get_item(db, metrics, table=db.table, key=payment_key(user_id, payment_id))
    return item_to_payment(deserialize(raw)) if raw else None


def payment_status_update(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    status: PaymentStatus,
    source: str,
    at: datetime | None = None,
    detail: str = "",
    failure_stage: str = "",
    failure_reason: str = "",
    event_id: str | None = None,
    metrics: Metrics | None = None,
) -> StatusUpdate:
    """Move a payment's status along the transition table, add a history entry, and move its
    amount between the statistics buckets, atomically. A move that is not allowed changes
    nothing (`REFUSED`). With `event_id`, the event is recorded in the same transaction and a
    repeat of it is reported as `DUPLICATE`. A race lost to another writer is read again and
    retried under the package's one retry policy (`client.retry_on_conflict`)."""

    def current_as(outcome: UpdateOutcome) -> StatusUpdate:
        now = payment_get(db, user_id=user_id, payment_id=payment_id, metrics=metrics)
        return StatusUpdate(outcome=outcome, payment=now)

    if event_id and event_seen(db, event_id, metrics=metrics):
        return current_as(UpdateOutcome.DUPLICATE)
    moment = at or utc_now()
    entry = StatusChange(status=status, at=moment, source=source, detail=detail)

    def cycle() -> StatusUpdate:
        current = payment_get(db, user_id=user_id, payment_id=payment_id, metrics=metrics)
        if current is None:
            return StatusUpdate(outcome=UpdateOutcome.MISSING, payment=None)
        if not can_transition(current.status, status):
            if event_id:
                event_mark(db, event_id, metrics=metrics)
            return StatusUpdate(outcome=UpdateOutcome.REFUSED, payment=current)
        actions = _status_actions(db, current, status, entry, failure_stage, failure_reason)
        if event_id:
            actions.append(event_put_action(db, event_id, moment))
        try:
            transact(db, metrics, actions)
        except TransactionCanceled as cancelled:
            if event_id and cancelled.failed(-1):
                return current_as(UpdateOutcome.DUPLICATE)
            raise RetryConflict() from cancelled  # someone else moved it: read again
        return current_as(UpdateOutcome.APPLIED)

    return retry_on_conflict(cycle)


def _status_actions(
    db: Dynamo,
    current: Payment,
    status: PaymentStatus,
    entry: StatusChange,
    failure_stage: str,
    failure_reason: str,
) -> list[dict[str, Any]]:
    created_at = format_timestamp(current.created_at)
    fields: dict[str, Any] = {
        "status": status.value,
        "updatedAt": format_timestamp(utc_now()),
        **index_keys(status, current.currency, created_at),
    }
    if failure_stage:
        fields["failureStage"] = failure_stage
    if failure_reason:
        fields["failureReason"] = failure_reason
    expr = Expr()
    history = expr.name("history")
    sets = [
        *expr.assignments(fields),
        f"{history} = list_append({history}, {expr.value([history_entry(entry)])})",
    ]
    status_name = expr.name("status")
    # Enforced by DynamoDB: the status must still be the one we read (so statistics move the
    # right amount) and must be one from which the new status may be reached.
    condition = (
        f"{status_name} = {expr.value(current.status.value)} AND {status_name} IN "
        f"({expr.values(s.value for s in sorted(statuses_before(status)))})"
    )
    return [
        {
            "Update": {
                "TableName": db.table,
                "Key": payment_key(current.user_id, current.payment_id),
                "UpdateExpression": set_clause(sets),
                "ConditionExpression": condition,
                **expr.kwargs(),
            }
        },
        *stats_move_actions(
            db,
            current.user_id,
            created_at,
            current.currency,
            current.amount,
            add=status,
            remove=current.status,
        ),
    ]


def payment_link_set(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    link_id: str,
    link_url: str,
    response: Mapping[str, Any],
    metrics: Metrics | None = None,
) -> Payment:
    """Record the TrueLayer payment link created for a payment (clears any earlier error)."""
    fields = {"paymentLinkId": link_id, "paymentLinkUrl": link_url}
    response_of = ("create_link", response)
    return _update_fields(
        db, user_id, payment_id, fields, response_of, metrics, remove=["linkError"]
    )


def payment_link_error_set(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    error: LinkError,
    response: Mapping[str, Any] | None = None,
    metrics: Metrics | None = None,
) -> Payment:
    """Record why the payment link could not be created, for the merchant to see and retry."""
    fields = {"linkError": link_error_item(error, format_timestamp(error.at or utc_now()))}
    response_of = ("create_link_error", response)
    return _update_fields(db, user_id, payment_id, fields, response_of, metrics)


def payment_truelayer_id_set(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    truelayer_payment_id: str,
    response: Mapping[str, Any] | None = None,
    response_name: str = "payment",
    metrics: Metrics | None = None,
) -> Payment:
    """Link TrueLayer's payment id to our payment (idempotent)."""
    fields = {"truelayerPaymentId": truelayer_payment_id}
    return _update_fields(db, user_id, payment_id, fields, (response_name, response), metrics)


def payment_response_store(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    name: str,
    response: Mapping[str, Any],
    metrics: Metrics | None = None,
) -> Payment:
    """Keep a raw TrueLayer answer (shown in the detail page's collapsed section)."""
    return _update_fields(db, user_id, payment_id, {}, (name, response), metrics)


def _update_fields(
    db: Dynamo,
    user_id: str,
    payment_id: str,
    fields: Mapping[str, Any],
    response: tuple[str, Mapping[str, Any] | None],
    metrics: Metrics | None,
    *,
    remove: Collection[str] = (),
) -> Payment:
    """SET `fields` (and `updatedAt`), keep `response` = (name, raw answer) under
    providerResponses when there is one, and REMOVE `remove`, on an existing payment."""
    expr = Expr()
    sets = expr.assignments({"updatedAt": format_timestamp(utc_now()), **fields})
    name, raw = response
    if raw is not None:
        stored = expr.value(json.dumps(raw, sort_keys=True))
        sets.append(f"{expr.name('providerResponses')}.{expr.name(name)} = {stored}")
    expression = set_clause(sets)
    if remove:
        expression += " REMOVE " + ", ".join(expr.name(attribute) for attribute in remove)
    count(metrics, requests=1)
    try:
        with translate_errors():
            answer = db.client.update_item(
                TableName=db.table,
                Key=payment_key(user_id, payment_id),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists({expr.name('paymentId')})",
                ReturnValues="ALL_NEW",
                **expr.kwargs(),
            )
    except ConditionFailed:
        raise Conflict("That payment does not exist; nothing was changed.") from None
    return item_to_payment(deserialize(answer["Attributes"]))
