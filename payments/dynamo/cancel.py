"""A cancellation request on a payment's timeline: written before TrueLayer is asked, only while
the attempt is still before `authorized` (a DynamoDB condition on the attempt's status)."""

from __future__ import annotations

from datetime import datetime

from payments.domain import (
    Payment,
    PaymentValidationError,
    StatusChange,
    format_timestamp,
    utc_now,
)
from payments.dynamo.client import ConditionFailed, Dynamo, Metrics, update_item
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, history_entry, item_to_payment
from payments.dynamo.items import payment_key as key_of
from payments.lifecycle import AttemptStatus

CANCELLABLE = (AttemptStatus.AUTHORIZATION_REQUIRED, AttemptStatus.AUTHORIZING)
CANCEL_REQUESTED = "cancellation requested"


def payment_timeline_note(
    db: Dynamo,
    *,
    payment: Payment,
    attempt_id: str,
    detail: str,
    source: str,
    require_cancellable: bool = False,
    actor: str = "",
    now: datetime | None = None,
    metrics: Metrics | None = None,
) -> Payment:
    """Add one timeline entry (and bump `version`). With `require_cancellable`, only while
    attempt `attempt_id` is still before `authorized`; else raises `RefundRefused`
    ("payment")."""
    moment = now or utc_now()
    expr = Expr()
    history = expr.name("history")
    entry = history_entry(StatusChange(payment.status, moment, source, detail, actor))
    update = (
        f"SET {history} = list_append(if_not_exists({history}, {expr.value([])}), "
        f"{expr.value([entry])}), {expr.name('updatedAt')} = "
        f"{expr.value(format_timestamp(moment))} ADD {expr.name('version')} {expr.value(1)}"
    )
    condition = f"attribute_exists({expr.name('paymentId')})"
    if require_cancellable:
        path = f"{expr.name('attempts')}.{expr.name(attempt_id)}.{expr.name('status')}"
        condition += f" AND {path} IN ({expr.values([s.value for s in CANCELLABLE])})"
    try:
        written = update_item(
            db,
            metrics,
            key=key_of(payment.user_id, payment.payment_id),
            update=update,
            condition=condition,
            attributes=expr.kwargs(),
        )
    except ConditionFailed:
        raise PaymentValidationError(
            "payment",
            "The payer has already authorised this payment: it can no longer be cancelled.",
        ) from None
    return item_to_payment(deserialize(written))
