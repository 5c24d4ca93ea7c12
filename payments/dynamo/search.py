"""Search within one merchant's payments.

An id (ours, a TrueLayer payment link id or payment id) names one payment: one GetItem or one
indexed Query answers it, with no history read. Anything else (reference words and their
beginnings, payer name or email, the short id a row shows, an exact amount) is looked up in the
token index (`search_index`): one Query per token looked up (at most two: an amount and a
word), newest first, merged, then one BatchGetItem of the payments of the page. Whatever its
depth in the history, a match comes back in the first request, and a request reads about two
items per result. Status, currency and dates are applied inside those reads (dates as the
key condition, currency as a filter on the entries, status on the payments read), continuing
until the page is full or the request's read budget is spent.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from payments.cursors import decode_cursor, encode_cursor, query_fingerprint
from payments.domain import (
    Payment,
    PaymentStatus,
    PaymentValidationError,
    format_timestamp,
    parse_currency,
    require_user,
)
from payments.dynamo.batch import batch_get
from payments.dynamo.client import Dynamo, Metrics
from payments.dynamo.client import query as run_query
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, payment_key
from payments.dynamo.listing import list_projection, payment_rows
from payments.dynamo.lookups import payment_find_by_link_id, payment_find_by_truelayer_id
from payments.dynamo.payments import payment_get
from payments.dynamo.search_index import payment_id_of, search_pk
from payments.errors import InvalidCursor
from payments.formatting import search_amount
from payments.search_tokens import MAX_PREFIX, MIN_PREFIX, SearchTerms, search_terms

MAX_QUERY_LENGTH = 128
_ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$", re.IGNORECASE)
_ID_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-:.]{6,128}$")
_AMOUNT_RE = re.compile(r"^[£€]?\s*(\d+(?:\.\d{1,2})?)\s*(?:GBP|EUR)?$", re.IGNORECASE)
# Entries read per Query while a post-filter (status, several words) may drop candidates.
_FILTERED_CHUNK = 100


@dataclass(frozen=True)
class SearchResult:
    items: list[Payment]
    next_cursor: str | None
    # True when the search stopped at its read budget with history left to search (only when
    # filters or extra words dropped most of what it read).
    budget_exhausted: bool
    items_read: int
    requests: int


@dataclass
class _Stream:
    """The entries of one token, newest first, within the date range, read as needed. Each
    entry is (sort key, currency)."""

    pk: str
    lo: str | None
    hi: str | None
    buffer: deque[tuple[str, str]] = field(default_factory=deque)
    start_key: dict[str, Any] | None = None
    done: bool = False

    def refill(self, db: Dynamo, used: Metrics, limit: int) -> None:
        expr = Expr()
        sk = expr.name("sk")
        condition = f"{expr.name('pk')} = {expr.value(self.pk)}"
        if self.lo is not None and self.hi is not None:
            condition += f" AND {sk} BETWEEN {expr.value(self.lo)} AND {expr.value(self.hi)}"
        elif self.hi is not None:
            condition += f" AND {sk} <= {expr.value(self.hi)}"
        elif self.lo is not None:
            condition += f" AND {sk} >= {expr.value(self.lo)}"
        kwargs: dict[str, Any] = {
            "TableName": db.meta_table,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            # A base-table Query: strongly consistent, so a payment is found the moment its
            # creation transaction is answered.
            "ConsistentRead": True,
            "Limit": limit,
            "ProjectionExpression": f"{sk}, {expr.name('currency')}",
            **expr.kwargs(),
        }
        if self.start_key:
            kwargs["ExclusiveStartKey"] = self.start_key
        answer = run_query(db, used, **kwargs)
        for raw in answer.get("Items", []):
            entry = deserialize(raw)
            self.buffer.append((str(entry["sk"]), str(entry.get("currency", ""))))
        self.start_key = answer.get("LastEvaluatedKey")
        self.done = self.start_key is None

    @property
    def has_more(self) -> bool:
        return bool(self.buffer) or not self.done


def payment_search(
    db: Dynamo,
    *,
    user_id: str,
    query: str,
    cursor: str | None = None,
    budget: int = 1000,
    page_size: int = 25,
    statuses: Collection[PaymentStatus] = (),
    currency: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    metrics: Metrics | None = None,
) -> SearchResult:
    """Find payments by our id, TrueLayer payment or link id (exact, indexed), or through the
    token index: reference words and their beginnings, payer name or email, the short id, or
    an exact amount; newest first, `page_size` a page, among those with one of `statuses`, in
    `currency`, created in [created_from, created_to). Reads about two items per result; with
    filters that drop most candidates, at most about `budget` items, then a cursor continues."""
    require_user(user_id)
    text = (query or "").strip()
    if not text:
        raise PaymentValidationError("q", "Type a reference, an amount or a payment id to search.")
    if len(text) > MAX_QUERY_LENGTH:
        raise PaymentValidationError(
            "q", f"Search text is limited to {MAX_QUERY_LENGTH} characters."
        )
    if currency is not None:
        currency = parse_currency(currency)
    wanted = sorted({PaymentStatus(s) for s in statuses})
    lo = format_timestamp(created_from) if created_from else None
    # `~` sorts after `#<paymentId>`: every payment of the last millisecond is in.
    hi = format_timestamp(created_to - timedelta(milliseconds=1)) + "~" if created_to else None
    # The one amount reader of the forms: £12.50, 12.50 and £1,250.00 alike; 12,50 is not 1250.
    terms = search_terms(text, search_amount(text))
    fingerprint = query_fingerprint(
        {
            "search": terms.lookups,
            "terms": list(terms.terms),
            "s": [s.value for s in wanted],
            "c": currency,
            "f": lo,
            "t": hi,
            "n": page_size,
            "b": budget,
        }
    )
    used = Metrics()
    after: str | None = None
    if cursor:
        position = decode_cursor(cursor, user_id=user_id, fingerprint=fingerprint)
        after = position.get("after")
        if not isinstance(after, str):
            raise InvalidCursor()
    else:
        exact = _exact_match(db, used, user_id, text)
        if exact is not None and _passes(exact, wanted, currency, created_from, created_to):
            # An id names one payment: no need to read any history for it.
            return _result(metrics, used, [exact], None, budget_exhausted=False)
    if terms.is_empty:
        raise PaymentValidationError(
            "q", f"Type at least {MIN_PREFIX} letters or digits, an amount or a payment id."
        )
    upper = hi
    if after is not None:
        # Resume just below the last entry the previous page consumed.
        upper = after if hi is None or after < hi else hi
    streams = [_Stream(search_pk(user_id, token), lo, upper) for token in terms.lookups]
    found, last, more, budget_hit = _collect(
        db, used, user_id, streams, terms, (wanted, currency), page_size, budget, skip=after
    )
    next_cursor = (
        encode_cursor(user_id=user_id, fingerprint=fingerprint, position={"after": last})
        if more and last is not None
        else None
    )
    return _result(
        metrics, used, found, next_cursor, budget_exhausted=budget_hit and next_cursor is not None
    )


def _collect(
    db: Dynamo,
    used: Metrics,
    user_id: str,
    streams: list[_Stream],
    terms: SearchTerms,
    filters: tuple[list[PaymentStatus], str | None],
    page_size: int,
    budget: int,
    *,
    skip: str | None,
) -> tuple[list[Payment], str | None, bool, bool]:
    """Read the streams' entries newest first (merged, each payment once) and their payments,
    keeping those that pass, until the page is full, the entries run out or the budget is
    spent. Returns the page, the sort key of the last entry consumed (where the next page
    starts), whether entries are left and whether the budget stopped it."""
    statuses, currency = filters
    # Without a post-filter every entry is a result: read a page (and one more, to know).
    filtered = (
        bool(statuses)
        or bool(currency)
        or len(terms.terms) > 1
        or any(len(t) > MAX_PREFIX for t in terms.terms)
    )
    found: list[Payment] = []
    last: str | None = None
    budget_hit = False
    while len(found) < page_size and not budget_hit:
        need = page_size - len(found)
        # A filtered search reads a page's worth first, then larger chunks if it must go on.
        chunk = min(_FILTERED_CHUNK, need * 4) if filtered and last else need + 1
        batch: list[str] = []
        while len(batch) < (chunk if filtered else need):
            for stream in streams:
                if not stream.buffer and not stream.done:
                    if used.items_read >= budget and last is not None:
                        budget_hit = True
                        break
                    stream.refill(db, used, chunk)
                while stream.buffer and stream.buffer[0][0] == skip:
                    stream.buffer.popleft()  # the cursor's own entry, shown on the last page
            # Merge only while every stream that has entries left shows its next one.
            if budget_hit or any(not s.buffer and not s.done for s in streams):
                break
            heads = [s for s in streams if s.buffer]
            if not heads:
                break
            top = max(s.buffer[0][0] for s in heads)
            entry_currency = ""
            for stream in heads:
                if stream.buffer[0][0] == top:
                    entry_currency = stream.buffer.popleft()[1]
            last = top
            if currency is None or entry_currency == currency:
                batch.append(top)
        if not batch:
            break
        payments = _payments(db, used, user_id, [payment_id_of(sk) for sk in batch])
        for n, sk in enumerate(batch):
            payment = payments.get(payment_id_of(sk))
            if payment is not None and _wanted(payment, terms, statuses):
                found.append(payment)
                if len(found) == page_size:
                    # The rest of what was read waits for the next page, which reads it again.
                    left = n + 1 < len(batch) or last != sk or _left(streams)
                    return found, sk, left, False
        if used.items_read >= budget:
            budget_hit = True
    left = _left(streams)
    return found, last, left, budget_hit and left


def _left(streams: list[_Stream]) -> bool:
    return any(s.has_more for s in streams)


def _payments(db: Dynamo, used: Metrics, user_id: str, ids: list[str]) -> dict[str, Payment]:
    """The merchant's own payments with these ids, by id (keys always in their partition)."""
    keys = [payment_key(user_id, payment_id) for payment_id in dict.fromkeys(ids)]
    # Only what a result row shows: the heavy attributes stay unread (see listing.py).
    expr = Expr()
    projection = list_projection(expr)
    names = expr.kwargs().get("ExpressionAttributeNames")
    raws = batch_get(db, used, table=db.table, keys=keys, projection=projection, names=names)
    payments = payment_rows(db, used, raws)
    return {p.payment_id: p for p in payments if p.user_id == user_id}


def _wanted(payment: Payment, terms: SearchTerms, statuses: list[PaymentStatus]) -> bool:
    if statuses and payment.status not in statuses:
        return False
    return terms.matches(
        payment_id=payment.payment_id,
        amount=payment.amount,
        reference=payment.reference,
        payer_name=payment.payer_name,
        payer_email=payment.payer_email,
    )


def _passes(
    payment: Payment,
    statuses: list[PaymentStatus],
    currency: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
) -> bool:
    if statuses and payment.status not in statuses:
        return False
    if currency and payment.currency != currency:
        return False
    if created_from and payment.created_at < created_from:
        return False
    return not (created_to and payment.created_at >= created_to)


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
