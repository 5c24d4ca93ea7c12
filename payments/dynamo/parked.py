"""Webhook events that arrived before their payment was known, kept until it is.

An event naming a link or attempt no payment owns yet (paid within seconds of creation, the
link write not stored yet, an outage) is stored here and answered 2xx; it is applied the moment
its payment becomes known (`services.events`). Two items per parked event, written together:

- `PARKED#{LINK|ATTEMPT}#{id}` / `{eventId}`: the event itself, found by what it names;
- `PARKEDLOG#{yyyy-mm-dd}` / `{receivedAt}#{eventId}`: a day's index, so an operator can list
  what is parked (`manage.py parked_events`) with one Query per day kept, never a scan.

Both expire (DynamoDB TTL on `expiresAt`) after `PARKED_RETENTION`, well past TrueLayer's 72 hours
of retries. Events about payments made outside this product simply stay parked until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from payments.domain import format_timestamp, parse_timestamp
from payments.dynamo.client import (
    Dynamo,
    Metrics,
    TransactionCanceled,
    query,
    request_token,
    transact,
)
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, serialize

PARKED_RETENTION = timedelta(days=14)


@dataclass(frozen=True)
class ParkedEvent:
    kind: str  # lookups.LINK or lookups.ATTEMPT
    target_id: str
    event_id: str
    event_type: str
    body: str  # the event's JSON, as received
    sent_at: str
    received_at: datetime


def parked_put(db: Dynamo, event: ParkedEvent, *, metrics: Metrics | None = None) -> bool:
    """Park an event; False when it was parked already (a redelivery)."""
    expires = int((event.received_at + PARKED_RETENTION).timestamp())
    received = format_timestamp(event.received_at)
    actions = [
        {
            "Put": {
                "TableName": db.meta_table,
                "Item": serialize(
                    {
                        "pk": _pk(event.kind, event.target_id),
                        "sk": event.event_id,
                        "type": event.event_type,
                        "body": event.body,
                        "sentAt": event.sent_at,
                        "receivedAt": received,
                        "expiresAt": expires,
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": db.meta_table,
                "Item": serialize(
                    {
                        "pk": _log_pk(event.received_at),
                        "sk": f"{received}#{event.event_id}",
                        "type": event.event_type,
                        "target": f"{event.kind}#{event.target_id}",
                        "expiresAt": expires,
                    }
                ),
            }
        },
    ]
    # One token per delivery: a retry of this request after a lost answer is answered "done"
    # instead of failing the condition as if it were a redelivery; a redelivery (another
    # receivedAt) has its own token and fails the condition.
    token = request_token("park", event.kind, event.target_id, event.event_id, received)
    try:
        transact(db, metrics, actions, token=token)
    except TransactionCanceled:
        return False
    return True


def parked_for(
    db: Dynamo, kind: str, target_id: str, *, metrics: Metrics | None = None
) -> list[ParkedEvent]:
    """The events waiting for this link or attempt, oldest first (one Query)."""
    found: list[ParkedEvent] = []
    kwargs = _partition_query(db, _pk(kind, target_id))
    kwargs["ConsistentRead"] = True
    while True:
        answer = query(db, metrics, **kwargs)
        for raw in answer.get("Items", []):
            item = deserialize(raw)
            found.append(
                ParkedEvent(
                    kind=kind,
                    target_id=target_id,
                    event_id=str(item["sk"]),
                    event_type=str(item.get("type", "")),
                    body=str(item.get("body", "")),
                    sent_at=str(item.get("sentAt", "")),
                    received_at=parse_timestamp(str(item["receivedAt"])),
                )
            )
        if "LastEvaluatedKey" not in answer:
            break
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return sorted(found, key=lambda e: (e.received_at, e.event_id))


def parked_delete(db: Dynamo, event: ParkedEvent, *, metrics: Metrics | None = None) -> None:
    """Forget a parked event once it has been applied (both items)."""
    received = format_timestamp(event.received_at)
    transact(
        db,
        metrics,
        [
            {
                "Delete": {
                    "TableName": db.meta_table,
                    "Key": serialize(
                        {"pk": _pk(event.kind, event.target_id), "sk": event.event_id}
                    ),
                }
            },
            {
                "Delete": {
                    "TableName": db.meta_table,
                    "Key": serialize(
                        {"pk": _log_pk(event.received_at), "sk": f"{received}#{event.event_id}"}
                    ),
                }
            },
        ],
    )


@dataclass(frozen=True)
class ParkedSummary:
    event_id: str
    event_type: str
    target: str
    received_at: datetime


def parked_list(
    db: Dynamo, *, now: datetime, metrics: Metrics | None = None
) -> list[ParkedSummary]:
    """Everything still parked, newest first: one Query per day of the retention period."""
    found: list[ParkedSummary] = []
    for days_back in range(PARKED_RETENTION.days + 1):
        kwargs = {
            "TableName": db.meta_table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": serialize(
                {":pk": _log_pk(now - timedelta(days=days_back))}
            ),
            "ScanIndexForward": False,
        }
        while True:
            answer = query(db, metrics, **kwargs)
            for raw in answer.get("Items", []):
                item = deserialize(raw)
                received, _, event_id = str(item["sk"]).partition("#")
                found.append(
                    ParkedSummary(
                        event_id=event_id,
                        event_type=str(item.get("type", "")),
                        target=str(item.get("target", "")),
                        received_at=parse_timestamp(received),
                    )
                )
            if "LastEvaluatedKey" not in answer:
                break
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    return found


def _partition_query(db: Dynamo, pk: str) -> dict[str, Any]:
    expr = Expr()
    return {
        "TableName": db.meta_table,
        "KeyConditionExpression": f"{expr.name('pk')} = {expr.value(pk)}",
        **expr.kwargs(),
    }


def _pk(kind: str, target_id: str) -> str:
    return f"PARKED#{kind}#{target_id}"


def _log_pk(moment: datetime) -> str:
    return f"PARKEDLOG#{moment.strftime('%Y-%m-%d')}"
