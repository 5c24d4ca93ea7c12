"""Who owns a TrueLayer payment link or payment attempt: one meta-table item per link and per
attempt, `{LINK|ATTEMPT}#{id}` → (merchant, payment), written in the same transaction as the
payment write that first names it.

A webhook names only TrueLayer's ids. Reading these with a strongly consistent GetItem finds the
payment the moment the write that named it is stored — a global secondary index can lag behind
it, and an event that finds nothing is parked (see `parked`). Payments stored before these items
existed are still found through the PaymentLinkIndex / TruelayerPaymentIndex fallbacks.
"""

from __future__ import annotations

from typing import Any

from payments.dynamo.client import Dynamo, Metrics, get_item
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, serialize

LINK = "LINK"
ATTEMPT = "ATTEMPT"
_SK = "-"


def owner_put_action(
    db: Dynamo, kind: str, external_id: str, *, user_id: str, payment_id: str
) -> dict[str, Any]:
    """A transaction action naming the owner of a link or attempt (idempotent: a repeat by the
    same payment succeeds; another payment claiming it fails the transaction)."""
    expr = Expr()
    owned_by_this_payment = (
        f"{expr.name('userId')} = {expr.value(user_id)} AND "
        f"{expr.name('paymentId')} = {expr.value(payment_id)}"
    )
    item = {"pk": f"{kind}#{external_id}", "sk": _SK, "userId": user_id, "paymentId": payment_id}
    return {
        "Put": {
            "TableName": db.meta_table,
            "Item": serialize(item),
            "ConditionExpression": f"attribute_not_exists(pk) OR ({owned_by_this_payment})",
            **expr.kwargs(),
        }
    }


def owner_get(
    db: Dynamo, kind: str, external_id: str, *, metrics: Metrics | None = None
) -> tuple[str, str] | None:
    """(merchant, payment id) owning a TrueLayer link or attempt id, or None (one GetItem)."""
    if not external_id or len(external_id) > 256:
        return None
    raw = get_item(
        db, metrics, table=db.meta_table, key=serialize({"pk": f"{kind}#{external_id}", "sk": _SK})
    )
    if raw is None:
        return None
    item = deserialize(raw)
    return str(item["userId"]), str(item["paymentId"])
