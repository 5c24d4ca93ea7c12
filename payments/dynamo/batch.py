"""Batch reads and writes of many items at once (BatchGetItem, BatchWriteItem): the pages of a
search, the list's live rows, the search-index backfill. Counted like every other call, with
unprocessed keys and items sent again."""

from __future__ import annotations

from typing import Any

from payments.dynamo.client import Dynamo, Metrics, count, translate_errors


def batch_get(
    db: Dynamo,
    metrics: Metrics | None,
    *,
    table: str,
    keys: list[dict[str, Any]],
    consistent: bool = True,
    projection: str | None = None,
    names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """BatchGetItem of `keys` (raw attribute values, any number: sent 100 at a time, unprocessed
    keys sent again), counted; the items found, in no particular order. `projection` (with its
    placeholder `names`) asks for only those attributes."""
    found: list[dict[str, Any]] = []
    asked: dict[str, Any] = {"ConsistentRead": consistent}
    if projection:
        asked["ProjectionExpression"] = projection
        if names:
            asked["ExpressionAttributeNames"] = names
    for first in range(0, len(keys), 100):
        pending: dict[str, Any] = {table: {"Keys": keys[first : first + 100], **asked}}
        while pending:
            with translate_errors():
                answer = db.client.batch_get_item(RequestItems=pending)
            items = list(answer.get("Responses", {}).get(table, []))
            count(metrics, requests=1, items_read=len(items))
            found.extend(dict(i) for i in items)
            pending = dict(answer.get("UnprocessedKeys") or {})
    return found


def batch_put(
    db: Dynamo, metrics: Metrics | None, *, table: str, items: list[dict[str, Any]]
) -> None:
    """BatchWriteItem puts of `items` (raw attribute values, 25 at a time, unprocessed ones sent
    again). Puts overwrite: use it only for items that a repeat writes identically."""
    for first in range(0, len(items), 25):
        pending: dict[str, Any] = {
            table: [{"PutRequest": {"Item": item}} for item in items[first : first + 25]]
        }
        while pending:
            count(metrics, requests=1)
            with translate_errors(write=True):
                answer = db.client.batch_write_item(RequestItems=pending)
            pending = dict(answer.get("UnprocessedItems") or {})
