"""Listing a merchant's payments newest first, filtered and paged.

Each filter combination is served by one or more query streams, each one Query on the base table
or on an index whose sort key carries the creation time (so a date range is a key condition, not
a FilterExpression over the history). A date range without status or currency is a key condition
on the base table's ULID `paymentId`, whose first 10 characters are the creation time. Several
statuses mean one stream per status, queried concurrently and merged newest first: each first
reads its share of the page, and a stream that runs dry is read again for what the page lacks
(about one page of items in all, not one per status). The signed cursor keeps every stream's
position (`payments.cursors`).

Every Query asks only for `LIST_ATTRIBUTES` (the list indexes project no more): a row never
carries the attempts, the refunds, the timeline, the webhook log or raw provider responses,
only four row facts derived from them, so a page costs the same however much its payments have
accumulated. `payment_get` reads the whole payment.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ulid import ULID

from payments.cursors import decode_cursor, encode_cursor, query_fingerprint
from payments.domain import (
    Payment,
    PaymentStatus,
    PaymentValidationError,
    format_timestamp,
    parse_currency,
    parse_timestamp,
    require_user,
)
from payments.dynamo.batch import batch_get
from payments.dynamo.client import Dynamo, Metrics, query
from payments.dynamo.concurrent import run_concurrently
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, item_to_row, payment_key, serialize
from payments.dynamo.lifecycle_items import LIFECYCLE_SOURCE_ATTRIBUTES, item_lifecycle
from payments.dynamo.schema import (
    CURRENCY_INDEX,
    CURRENCY_STATUS_INDEX,
    LIST_ATTRIBUTES,
    STATUS_INDEX,
)
from payments.errors import InvalidCursor
from payments.lifecycle import RowFacts

MAX_PAGE_SIZE = 100
_END_OF_TIME = "~"  # sorts after every timestamp
_DONE = "done"  # a stream with nothing left, in a cursor


@dataclass(frozen=True)
class PaymentPage:
    items: list[Payment]
    next_cursor: str | None
    requests: int
    items_read: int


@dataclass(frozen=True)
class _Stream:
    """One Query that yields payments newest first: on the base table or on an index."""

    index: str | None
    sort_attribute: str | None
    prefix: str
    lo: str
    hi: str

    def query_kwargs(self, user_id: str, limit: int) -> dict[str, Any]:
        expr = Expr()
        condition = f"{expr.name('userId')} = {expr.value(user_id)}"
        kwargs: dict[str, Any] = {"ScanIndexForward": False, "Limit": limit}
        if self.index:
            kwargs["IndexName"] = self.index
        if self.sort_attribute:
            condition += (
                f" AND {expr.name(self.sort_attribute)} BETWEEN "
                f"{expr.value(self.prefix + self.lo)} AND {expr.value(self.prefix + self.hi)}"
            )
        kwargs["ProjectionExpression"] = list_projection(expr, self.sort_attribute)
        return kwargs | {"KeyConditionExpression": condition, **expr.kwargs()}

    def key_of(self, item: Mapping[str, Any]) -> dict[str, str]:
        key = {"userId": item["userId"], "paymentId": item["paymentId"]}
        if self.sort_attribute:
            key[self.sort_attribute] = item[self.sort_attribute]
        return key


def _streams(
    statuses: list[PaymentStatus], currency: str | None, lo: str, hi: str
) -> dict[str, _Stream]:
    if not statuses:
        if currency:
            return {"all": _Stream(CURRENCY_INDEX, "currencyCreatedAt", f"{currency}#", lo, hi)}
        if lo or hi != _END_OF_TIME:
            # The base table's ULID sort key starts with the creation time.
            return {
                "all": _Stream(None, "paymentId", "", _ulid_bound(lo, "0"), _ulid_bound(hi, "Z"))
            }
        return {"all": _Stream(None, None, "", lo, hi)}
    if currency:
        return {
            s.value: _Stream(
                CURRENCY_STATUS_INDEX, "currencyStatusCreatedAt", f"{currency}#{s.value}#", lo, hi
            )
            for s in statuses
        }
    return {
        s.value: _Stream(STATUS_INDEX, "statusCreatedAt", f"{s.value}#", lo, hi) for s in statuses
    }


def list_projection(expr: Expr, *extra: str | None) -> str:
    """A ProjectionExpression for `LIST_ATTRIBUTES`, the keys and `extra` attributes (e.g. the
    sort key of the index a cursor must resume from)."""
    names = ("userId", "paymentId", *LIST_ATTRIBUTES, *(e for e in extra if e))
    return ", ".join(expr.name(n) for n in dict.fromkeys(names))


def payment_rows_get(
    db: Dynamo,
    *,
    user_id: str,
    payment_ids: Collection[str],
    metrics: Metrics | None = None,
) -> list[Payment]:
    """The list rows (`LIST_ATTRIBUTES` only) of these payments of the merchant, read with
    BatchGetItem (100 keys a request, strongly consistent): what the list's one live-update
    request needs. Ids that are not the merchant's, or not ids at all, are simply not found."""
    require_user(user_id)
    wanted = [p for p in dict.fromkeys(payment_ids) if p and len(p) <= _MAX_ID_LENGTH]
    if not wanted:
        return []
    expr = Expr()
    projection = list_projection(expr)
    names = expr.kwargs().get("ExpressionAttributeNames")
    keys = [payment_key(user_id, payment_id) for payment_id in wanted]
    raws = batch_get(db, metrics, table=db.table, keys=keys, projection=projection, names=names)
    return [row for row in payment_rows(db, metrics, raws) if row.user_id == user_id]


def payment_rows(db: Dynamo, metrics: Metrics | None, raws: list[dict[str, Any]]) -> list[Payment]:
    """Raw items read with `list_projection` as rows, in order. An item written before the row
    facts existed has none: its lifecycle is read for them (one BatchGetItem for all such rows
    of the page; none once `backfill_row_facts` has run), so no row ever shows less than the
    payment's settlement and refunds."""
    rows = [item_to_row(deserialize(raw)) for raw in raws]
    older = [row for row in rows if row.row_facts is None]
    if not older:
        return rows
    expr = Expr()
    projection = ", ".join(expr.name(n) for n in LIFECYCLE_SOURCE_ATTRIBUTES)
    names = expr.kwargs().get("ExpressionAttributeNames")
    keys = [payment_key(row.user_id, row.payment_id) for row in older]
    found = batch_get(db, metrics, table=db.table, keys=keys, projection=projection, names=names)
    facts = {
        (item["userId"], item["paymentId"]): item_lifecycle(item).row_facts
        for item in map(deserialize, found)
    }
    return [
        replace(row, row_facts=facts.get((row.user_id, row.payment_id), RowFacts()))
        if row.row_facts is None
        else row
        for row in rows
    ]


def payment_versions_get(
    db: Dynamo,
    *,
    user_id: str,
    payment_ids: Collection[str],
    metrics: Metrics | None = None,
) -> dict[str, int]:
    """{payment id: version} of these payments of the merchant, read with BatchGetItem asking
    for the keys and the version only (strongly consistent): what the list's live-update request
    compares with the versions it shows, before reading the rows of those that moved. Ids that
    are not the merchant's, or not ids at all, are simply not found."""
    require_user(user_id)
    wanted = [p for p in dict.fromkeys(payment_ids) if p and len(p) <= _MAX_ID_LENGTH]
    if not wanted:
        return {}
    expr = Expr()
    projection = ", ".join(expr.name(n) for n in ("userId", "paymentId", "version"))
    names = expr.kwargs().get("ExpressionAttributeNames")
    keys = [payment_key(user_id, payment_id) for payment_id in wanted]
    raws = batch_get(db, metrics, table=db.table, keys=keys, projection=projection, names=names)
    return {
        values["paymentId"]: int(values.get("version", 0))  # as `item_to_payment` reads it
        for values in map(deserialize, raws)
        if values.get("userId") == user_id
    }


# Longer than any id this product makes: such a key is never asked for.
_MAX_ID_LENGTH = 64


def _ulid_bound(moment: str, fill: str) -> str:
    """The smallest ("0") or largest ("Z") ULID of a `format_timestamp` millisecond; an open
    end stays open ("" or `_END_OF_TIME` sort before and after every ULID)."""
    if moment in ("", _END_OF_TIME):
        return moment
    return str(ULID.from_datetime(parse_timestamp(moment)))[:10] + fill * 16


def payment_list(
    db: Dynamo,
    *,
    user_id: str,
    statuses: Collection[PaymentStatus] = (),
    currency: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    page_size: int = 25,
    cursor: str | None = None,
    metrics: Metrics | None = None,
) -> PaymentPage:
    """Newest first, one page. Filters: any of `statuses`, one `currency`, and a creation
    range [created_from, created_to). One Query per status (or one in all without a status
    filter): one stream reads page_size + 1 items, several read their shares first and are read
    again when one runs dry; `next_cursor` continues."""
    require_user(user_id)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise PaymentValidationError("page_size", f"Page size must be 1 to {MAX_PAGE_SIZE}.")
    if currency is not None:
        currency = parse_currency(currency)
    if created_from and created_to and created_from >= created_to:
        raise PaymentValidationError("created_to", "The end of the date range is before its start.")
    wanted = sorted({PaymentStatus(s) for s in statuses})
    lo = format_timestamp(created_from) if created_from else ""
    hi = format_timestamp(created_to - timedelta(milliseconds=1)) if created_to else _END_OF_TIME
    streams = _streams(wanted, currency, lo, hi)
    # "v": cursors of the version that read dates through CreatedAtIndex are refused cleanly.
    fingerprint = query_fingerprint(
        {"s": [s.value for s in wanted], "c": currency, "f": lo, "t": hi, "n": page_size, "v": 2}
    )
    positions: dict[str, Any] = dict.fromkeys(streams)
    if cursor:
        positions = decode_cursor(cursor, user_id=user_id, fingerprint=fingerprint)
        if set(positions) != set(streams) or not _positions_belong_to(positions, user_id):
            raise InvalidCursor()
    used = Metrics()
    live = [name for name in streams if positions[name] != _DONE]
    # Where each stream resumes (raw key), what it has answered so far, and whether it is done.
    resume = {name: serialize(positions[name]) if positions[name] else None for name in live}
    buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in live}
    exhausted = dict.fromkeys(live, False)
    taken = dict.fromkeys(live, 0)
    # One stream reads the page and one more. Several first read their share of the page (and
    # one more) each: a stream that runs dry before the page is full is read again for what
    # the page still lacks. Items are merged on their raw keys and only the page's are
    # deserialised: a page of three statuses costs about one page of items, not three.
    share = page_size + 1 if len(live) <= 1 else -(-page_size // len(live)) + 1
    wanted_more = dict.fromkeys(live, share)
    page: list[dict[str, Any]] = []
    while True:
        if wanted_more:
            requests: dict[str, dict[str, Any]] = {}
            for name, limit in wanted_more.items():
                kwargs = streams[name].query_kwargs(user_id, limit)
                if resume[name]:
                    kwargs["ExclusiveStartKey"] = resume[name]
                requests[name] = kwargs
            for name, answer in _query_all(db, used, requests).items():
                buffers[name].extend(answer.get("Items", []))
                resume[name] = answer.get("LastEvaluatedKey")
                exhausted[name] = resume[name] is None
            wanted_more = {}
        if len(page) == page_size:
            break
        # A stream with nothing left in hand but more in DynamoDB may hold the next item.
        dry = [n for n in live if taken[n] == len(buffers[n]) and not exhausted[n]]
        if dry:
            wanted_more = dict.fromkeys(dry, page_size - len(page) + 1)
            continue
        heads = [n for n in live if taken[n] < len(buffers[n])]
        if not heads:
            break
        best = max(heads, key=lambda n: _order_key(buffers[n][taken[n]]))
        page.append(buffers[best][taken[best]])
        taken[best] += 1
    next_positions = dict(positions)
    more = False
    for name in live:
        if taken[name] == len(buffers[name]) and exhausted[name]:
            next_positions[name] = _DONE
            continue
        more = True
        if taken[name]:
            last = deserialize(buffers[name][taken[name] - 1])
            next_positions[name] = streams[name].key_of(last)
    next_cursor = (
        encode_cursor(user_id=user_id, fingerprint=fingerprint, position=next_positions)
        if more
        else None
    )
    rows = payment_rows(db, used, page)
    if metrics is not None:
        metrics.add(used.requests, used.items_read)
    return PaymentPage(rows, next_cursor, used.requests, used.items_read)


def payment_iter(
    db: Dynamo,
    *,
    user_id: str,
    statuses: Collection[PaymentStatus] = (),
    currency: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    page_size: int = MAX_PAGE_SIZE,
    metrics: Metrics | None = None,
) -> Iterator[Payment]:
    """Every payment matching the filters, newest first, page by page (for CSV export)."""
    cursor: str | None = None
    while True:
        page = payment_list(
            db,
            user_id=user_id,
            statuses=statuses,
            currency=currency,
            created_from=created_from,
            created_to=created_to,
            page_size=page_size,
            cursor=cursor,
            metrics=metrics,
        )
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def _query_all(
    db: Dynamo, used: Metrics, requests: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Run the streams' Queries at once (a page of three statuses takes the time of one): boto3
    clients are thread-safe and `Metrics` counts under a lock. The first error is raised."""
    names = list(requests)
    answers = run_concurrently(
        [functools.partial(query, db, used, **requests[name]) for name in names]
    )
    return dict(zip(names, answers, strict=True))


def _order_key(raw: Mapping[str, Any]) -> tuple[str, str]:
    """Newest first: creation time, then id (raw attribute values, as the Query answered)."""
    return str(raw["createdAt"]["S"]), str(raw["paymentId"]["S"])


def _positions_belong_to(positions: Mapping[str, Any], user_id: str) -> bool:
    return all(
        p is None or p == _DONE or (isinstance(p, dict) and p.get("userId") == user_id)
        for p in positions.values()
    )
