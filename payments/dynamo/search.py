"""Search within one merchant's payments.

An id (ours, a TrueLayer payment link id or payment id) names one payment: one GetItem or one
indexed Query answers it, with no history read. Reference text (case-insensitive, contains) or
an exact amount is a Query with a FilterExpression, newest first, that reads at most a budget
of items per request and then answers with a cursor to continue further back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from payments.cursors import decode_cursor, encode_cursor, query_fingerprint
from payments.domain import Payment, PaymentValidationError, require_user
from payments.dynamo.client import Dynamo, Metrics
from payments.dynamo.client import query as run_query
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, item_to_payment, serialize
from payments.dynamo.listing import list_projection
from payments.dynamo.lookups import payment_find_by_link_id, payment_find_by_truelayer_id
from payments.dynamo.payments import payment_get
from payments.errors import InvalidCursor

MAX_QUERY_LENGTH = 128
_ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$", re.IGNORECASE)
_ID_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-:.]{6,128}$")
_AMOUNT_RE = re.compile(r"^[£€]?\s*(\d+(?:\.\d{1,2})?)\s*(?:GBP|EUR)?$", re.IGNORECASE)


@dataclass(frozen=True)
class SearchResult:
    items: list[Payment]
    next_cursor: str | None
    # True when the search stopped at its read budget with history left to search.
    budget_exhausted: bool
    items_read: int
    requests: int


def payment_search(
    db: Dynamo,
    *,
    user_id: str,
    query: str,
    cursor: str | None = None,
    budget: int = 1000,
    page_size: int = 25,
    metrics: Metrics | None = None,
) -> SearchResult:
    """Find payments by our id, TrueLayer payment or link id (exact, indexed), or by
    reference text (case-insensitive, contains) or exact amount. The text/amount part reads
    at most `budget` items, newest first, and returns a cursor to search further back."""
    require_user(user_id)
    text = (query or "").strip()
    if not text:
        raise PaymentValidationError("q", "Type a reference, an amount or a payment id to search.")
    if len(text) > MAX_QUERY_LENGTH:
        raise PaymentValidationError(
            "q", f"Search text is limited to {MAX_QUERY_LENGTH} characters."
        )
    fingerprint = query_fingerprint({"search": text.lower(), "n": page_size, "b": budget})
    used = Metrics()
    start_key: dict[str, Any] | None = None
    if cursor:
        position = decode_cursor(cursor, user_id=user_id, fingerprint=fingerprint)
        start_key = position.get("k")
        if not isinstance(start_key, dict) or start_key.get("userId") != user_id:
            raise InvalidCursor()
    else:
        exact = _exact_match(db, used, user_id, text)
        if exact is not None:
            # An id names one payment: no need to read any history for it.
            return _result(metrics, used, [exact], None, budget_exhausted=False)
    expr = Expr()
    condition = f"contains({expr.name('referenceLower')}, {expr.value(text.lower())})"
    amount = _parse_search_amount(text)
    if amount is not None:
        condition += f" OR {expr.name('amount')} = {expr.value(amount)}"
    key_condition = f"{expr.name('userId')} = {expr.value(user_id)}"
    matches: list[dict[str, Any]] = []
    last_read: dict[str, Any] | None = None
    stopped_at: dict[str, Any] | None = None
    remaining = budget
    while remaining > 0 and stopped_at is None:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": key_condition,
            "FilterExpression": condition,
            "ScanIndexForward": False,
            "Limit": remaining,
            # The filter sees whole items; the answer carries only what a result row shows.
            "ProjectionExpression": list_projection(expr),
            **expr.kwargs(),
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = serialize(start_key)
        answer = run_query(db, used, **kwargs)
        remaining -= int(answer.get("ScannedCount", 0))
        for raw in answer.get("Items", []):
            item = deserialize(raw)
            matches.append(item)
            if len(matches) == page_size:
                # Full page: continue right after this item next time.
                stopped_at = {"userId": user_id, "paymentId": item["paymentId"]}
                break
        last_evaluated = answer.get("LastEvaluatedKey")
        if last_evaluated is None:
            last_read = None
            break
        last_read = deserialize(last_evaluated)
        start_key = last_read
    resume = stopped_at or last_read
    next_cursor = (
        encode_cursor(user_id=user_id, fingerprint=fingerprint, position={"k": resume})
        if resume
        else None
    )
    return _result(
        metrics,
        used,
        [item_to_payment(m) for m in matches],
        next_cursor,
        budget_exhausted=resume is not None and stopped_at is None,
    )


def _result(
    metrics: Metrics | None,
    used: Metrics,
    items: list[Payment],
    next_cursor: str | None,
    *,
    budget_exhausted: bool,
) -> SearchResult:
    if metrics is not None:
        metrics.add(used.requests, used.items_read)
    return SearchResult(items, next_cursor, budget_exhausted, used.items_read, used.requests)


def _exact_match(db: Dynamo, used: Metrics, user_id: str, text: str) -> Payment | None:
    """The payment named by our id (one GetItem) or by a TrueLayer link or payment id (one
    indexed Query each), tried in that order, only for text shaped like such an id."""
    if _ULID_RE.match(text):
        payment = payment_get(db, user_id=user_id, payment_id=text.upper(), metrics=used)
        if payment:
            return payment
    if _ID_TOKEN_RE.match(text) and not _AMOUNT_RE.match(text):
        for find in (payment_find_by_link_id, payment_find_by_truelayer_id):
            payment = find(db, text, user_id=user_id, metrics=used)
            if payment:
                return payment
    return None


def _parse_search_amount(text: str) -> Decimal | None:
    match = _AMOUNT_RE.match(text.replace(",", ""))
    if not match:
        return None
    try:
        return Decimal(match.group(1))
    except InvalidOperation:
        return None
