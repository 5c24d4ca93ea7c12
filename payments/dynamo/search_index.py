"""The search token index, in the meta table: one small item per (merchant, token, payment).

    pk `SEARCH#<userId>#<token>`   sk `<createdAt>#<paymentId>`   currency

A token's entries sort newest first by their sort key, so "payments whose reference has a word
starting `inv`, newest first, created in March, in EUR" is one Query on one partition: a key
condition on the dates, a filter on the entry's `currency` (which never changes). Status does
change, so it is not copied here: it is checked on the payments read for the page.

Entries are written in the transaction that creates the payment (`search_put_actions`), so a
payment is searchable the moment it exists and never without its tokens; what they are made of
(reference, payer, amount, id) never changes after creation. `search_backfill` writes the
entries of payments stored before the index existed (`manage.py index_search`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from payments.dynamo.batch import batch_put
from payments.dynamo.client import Dynamo, Metrics, scan_items
from payments.dynamo.items import serialize
from payments.search_tokens import payment_tokens

_SEARCH = "SEARCH#"


def search_pk(user_id: str, token: str) -> str:
    return f"{_SEARCH}{user_id}#{token}"


def search_sk(created_at: str, payment_id: str) -> str:
    """`<createdAt>#<paymentId>`: newest first, and unique per payment."""
    return f"{created_at}#{payment_id}"


def payment_id_of(sk: str) -> str:
    return sk.rpartition("#")[2]


def search_items(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The token entries of a payment item (Python values, as `payment_create` builds it or as
    read back), for a transaction or a batch write."""
    tokens = payment_tokens(
        payment_id=str(item["paymentId"]),
        amount=Decimal(item["amount"]),
        reference=str(item.get("reference", "")),
        payer_name=str(item.get("payerName", "")),
        payer_email=str(item.get("payerEmail", "")),
    )
    sk = search_sk(str(item["createdAt"]), str(item["paymentId"]))
    user_id = str(item["userId"])
    return [
        {"pk": search_pk(user_id, token), "sk": sk, "currency": str(item["currency"])}
        for token in tokens
    ]


def search_put_actions(db: Dynamo, item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """TransactWriteItems Puts of a new payment's token entries (a repeat writes the same)."""
    return [
        {"Put": {"TableName": db.meta_table, "Item": serialize(entry)}}
        for entry in search_items(item)
    ]


# Attributes the tokens are made of: all a backfill reads of each payment.
_TOKEN_SOURCES = (
    "userId",
    "paymentId",
    "createdAt",
    "amount",
    "currency",
    "reference",
    "payerName",
    "payerEmail",
)


@dataclass(frozen=True)
class BackfillReport:
    payments: int
    entries: int


def _scan_payments(db: Dynamo, metrics: Metrics | None) -> Iterator[dict[str, Any]]:
    names = {f"#a{i}": name for i, name in enumerate(_TOKEN_SOURCES)}
    return scan_items(
        db, metrics, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names
    )


def search_backfill(db: Dynamo, *, metrics: Metrics | None = None) -> BackfillReport:
    """Write the token entries of every payment in the table (one Scan of the token sources,
    then batch puts). Idempotent: an entry is a pure function of the payment, so running it
    again, or over payments that already have their entries, writes the same items."""
    payments = entries = 0
    pending: list[dict[str, Any]] = []
    for item in _scan_payments(db, metrics):
        payments += 1
        for entry in search_items(item):
            pending.append(serialize(entry))
        if len(pending) >= 500:
            batch_put(db, metrics, table=db.meta_table, items=pending)
            entries += len(pending)
            pending = []
    if pending:
        batch_put(db, metrics, table=db.meta_table, items=pending)
        entries += len(pending)
    return BackfillReport(payments, entries)
