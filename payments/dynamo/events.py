"""Bookkeeping items in the meta table: processed webhook event ids (applied once, kept past
TrueLayer's 72 hours of retries) and form-submission tokens (a double-clicked "Create" makes one
payment). Both are conditional puts, usually inside the transaction of the write they guard."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from payments.domain import format_timestamp, utc_now
from payments.dynamo.client import Dynamo, Metrics, get_item, put_new_or_own
from payments.dynamo.items import deserialize, serialize
from payments.dynamo.schema import EVENT_SK, event_pk, submission_pk

SUBMISSION_RETENTION = timedelta(days=1)


def _put_new(table: str, item: dict[str, Any]) -> dict[str, Any]:
    """A transaction action that writes `item` only if its key is new."""
    return {
        "Put": {
            "TableName": table,
            "Item": serialize(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def event_retention() -> timedelta:
    """How long event ids are remembered: WEBHOOK_REPLAY_WINDOW_DAYS, the same window outside
    which a webhook's timestamp is refused, so no replay slips between the two. TrueLayer
    retries for 72 hours; the default keeps ids well past that."""
    return timedelta(days=settings.WEBHOOK_REPLAY_WINDOW_DAYS)


def event_put_action(
    db: Dynamo, event_id: str, at: datetime, *, owner: tuple[str, str] | None = None
) -> dict[str, Any]:
    """The conditional put recording `event_id` as applied (for a transaction), with the
    payment it was applied to."""
    item: dict[str, Any] = {
        "pk": event_pk(event_id),
        "sk": EVENT_SK,
        "receivedAt": format_timestamp(at),
        "expiresAt": int((utc_now() + event_retention()).timestamp()),
    }
    if owner is not None:
        item["userId"], item["paymentId"] = owner
    return _put_new(db.meta_table, item)


def event_seen(db: Dynamo, event_id: str, *, metrics: Metrics | None = None) -> bool:
    """Whether a webhook event id was already applied."""
    key = serialize({"pk": event_pk(event_id), "sk": EVENT_SK})
    return get_item(db, metrics, table=db.meta_table, key=key) is not None


def event_mark(
    db: Dynamo, event_id: str, at: datetime | None = None, *, metrics: Metrics | None = None
) -> bool:
    """Record an event id as applied; False if it already was (a conditional put). A botocore
    retry that finds the item its own first attempt wrote still answers True."""
    put = event_put_action(db, event_id, at or utc_now())["Put"]
    key = serialize({"pk": event_pk(event_id), "sk": EVENT_SK})
    return put_new_or_own(db, metrics, put=put, key=key)


def submission_put_action(
    db: Dynamo, user_id: str, token: str, payment_id: str, at: datetime
) -> dict[str, Any]:
    """The conditional put that makes a form submission count once (for a transaction)."""
    return _put_new(
        db.meta_table,
        {
            "pk": submission_pk(user_id),
            "sk": token,
            "paymentId": payment_id,
            "expiresAt": int((at + SUBMISSION_RETENTION).timestamp()),
        },
    )


def submission_payment_id(
    db: Dynamo, user_id: str, token: str, *, metrics: Metrics | None = None
) -> str | None:
    """The payment a form submission created, if it was received before."""
    key = serialize({"pk": submission_pk(user_id), "sk": token})
    raw = get_item(db, metrics, table=db.meta_table, key=key)
    return str(deserialize(raw)["paymentId"]) if raw else None
