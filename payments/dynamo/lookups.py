"""Finding a payment by TrueLayer's ids: the payment link id or TrueLayer's payment id, each one
Query on a sparse, keys-only index, then one GetItem of the payment it names. Webhooks look up
whoever owns it (TrueLayer sends one endpoint every merchant's events); search passes the
merchant's `user_id` and sees only their payments.

Keys only: the index is written once, when the id is set, and never again by a status change
(an ALL projection copied the whole payment into it on every write). The GetItem also reads the
payment strongly consistent, which the index alone never is."""

from __future__ import annotations

from payments.domain import Payment
from payments.dynamo.client import Dynamo, Metrics, get_item, query
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, item_to_payment, payment_key
from payments.dynamo.schema import PAYMENT_LINK_INDEX, TRUELAYER_PAYMENT_INDEX

_MAX_PROVIDER_ID = 256


def payment_find_by_link_id(
    db: Dynamo, link_id: str, *, user_id: str | None = None, metrics: Metrics | None = None
) -> Payment | None:
    """The payment a TrueLayer payment link belongs to: whoever owns it (webhooks), or only
    among `user_id`'s payments (search). One indexed Query and one GetItem."""
    return _find_one(db, PAYMENT_LINK_INDEX, "paymentLinkId", link_id, user_id, metrics)


def payment_find_by_truelayer_id(
    db: Dynamo,
    truelayer_payment_id: str,
    *,
    user_id: str | None = None,
    metrics: Metrics | None = None,
) -> Payment | None:
    """The payment TrueLayer knows by this id: whoever owns it (webhooks), or only among
    `user_id`'s payments (search). One indexed Query and one GetItem."""
    return _find_one(
        db, TRUELAYER_PAYMENT_INDEX, "truelayerPaymentId", truelayer_payment_id, user_id, metrics
    )


def _find_one(
    db: Dynamo,
    index: str,
    attribute: str,
    value: str,
    user_id: str | None,
    metrics: Metrics | None,
) -> Payment | None:
    if not value or len(value) > _MAX_PROVIDER_ID:
        return None
    expr = Expr()
    answer = query(
        db,
        metrics,
        IndexName=index,
        KeyConditionExpression=f"{expr.name(attribute)} = {expr.value(value)}",
        Limit=10,
        **expr.kwargs(),
    )
    for raw in answer.get("Items", []):
        keys = deserialize(raw)
        if user_id is not None and keys["userId"] != user_id:
            continue
        raw_item = get_item(
            db, metrics, table=db.table, key=payment_key(keys["userId"], keys["paymentId"])
        )
        item = deserialize(raw_item) if raw_item else None
        # The index lags the table: a payment it still names may be gone or have changed.
        if item is not None and item.get(attribute) == value:
            return item_to_payment(item)
    return None
