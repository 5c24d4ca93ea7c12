"""The reconciliation queue: which payments should have moved by now, found without reading any
merchant's history.

Every payment that has a link and is not final carries `openShard` (one of `OPEN_SHARDS`
partitions) and `checkAt` (when to look at it next: after the stale age, or when its link
expires). The sparse, keys-only `OpenIndex` holds exactly those payments, so
`open_due` reads only the open payments that are due — its work follows the open ones, not the
history. A payment leaves the index when its status becomes final (the lifecycle write removes
the keys); a check that learns nothing pushes `checkAt` forward (`open_postpone`).

Two servers may run reconciliation at once: a short lease per payment (`reconcile_lease`, a
conditional put) keeps them from asking TrueLayer twice, and the lifecycle write's conditions
make a second application of the same news change nothing anyway.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from payments.domain import format_timestamp
from payments.dynamo.client import (
    ConditionFailed,
    Dynamo,
    Metrics,
    put_new_or_own,
    query,
    update_item,
)
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, payment_key, serialize
from payments.dynamo.lifecycle import OPEN_SHARDS, open_check_at
from payments.dynamo.schema import OPEN_INDEX


def open_due(
    db: Dynamo, *, now: datetime, limit: int = 1000, metrics: Metrics | None = None
) -> list[tuple[str, str]]:
    """(merchant, payment id) of open payments due a check, oldest due first per shard, at most
    `limit` in all (one Query per shard and page of the keys-only index)."""
    due: list[tuple[str, str]] = []
    for shard in range(OPEN_SHARDS):
        expr = Expr()
        kwargs: dict[str, Any] = {
            "IndexName": OPEN_INDEX,
            "KeyConditionExpression": (
                f"{expr.name('openShard')} = {expr.value(f'OPEN#{shard}')} AND "
                f"{expr.name('checkAt')} <= {expr.value(format_timestamp(now))}"
            ),
            **expr.kwargs(),
        }
        while len(due) < limit:
            kwargs["Limit"] = limit - len(due)
            answer = query(db, metrics, **kwargs)
            for raw in answer.get("Items", []):
                item = deserialize(raw)
                due.append((str(item["userId"]), str(item["paymentId"])))
            if "LastEvaluatedKey" not in answer:
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return due


def open_postpone(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    now: datetime,
    expires_at: datetime | None,
    metrics: Metrics | None = None,
) -> None:
    """Look at this open payment again later (no-op when it is no longer open)."""
    next_check = open_check_at(now, expires_at)
    if expires_at is not None and expires_at <= now:
        # Past its expiry and TrueLayer has not closed it yet: ask again after the stale age.
        next_check = open_check_at(now, None)
    expr = Expr()
    with contextlib.suppress(ConditionFailed):  # no longer open: nothing to postpone
        update_item(
            db,
            metrics,
            key=payment_key(user_id, payment_id),
            update=f"SET {expr.name('checkAt')} = {expr.value(next_check)}",
            condition=f"attribute_exists({expr.name('openShard')})",
            attributes=expr.kwargs(),
            return_new=False,
        )


def reconcile_lease(
    db: Dynamo,
    payment_id: str,
    *,
    now: datetime,
    seconds: int = 60,
    metrics: Metrics | None = None,
) -> bool:
    """Claim a payment for one reconciliation for `seconds`; False when another server holds
    it (a botocore retry that finds the lease its own first attempt took answers True)."""
    expr = Expr()
    lease = {
        "pk": f"LEASE#RECONCILE#{payment_id}",
        "sk": "-",
        "until": format_timestamp(now + timedelta(seconds=seconds)),
        "expiresAt": int((now + timedelta(days=1)).timestamp()),
    }
    free = (
        f"attribute_not_exists({expr.name('pk')}) OR "
        f"{expr.name('until')} < {expr.value(format_timestamp(now))}"
    )
    put = {
        "TableName": db.meta_table,
        "Item": serialize(lease),
        "ConditionExpression": free,
        **expr.kwargs(),
    }
    key = serialize({"pk": lease["pk"], "sk": lease["sk"]})
    return put_new_or_own(db, metrics, put=put, key=key)
