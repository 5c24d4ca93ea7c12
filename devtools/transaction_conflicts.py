"""A DynamoDB client double that refuses concurrent transactions on one item, as AWS does.

DynamoDB Local runs transactions one after another, so two writers of one merchant never
conflict there. On AWS, a TransactWriteItems that touches an item another transaction is
writing at that moment is cancelled: `TransactionCanceledException` with the reason code
`TransactionConflict` for that item (and `None` for the others); a single-item write to such an
item fails with `TransactionConflictException`. This wrapper adds exactly that in front of a
real client (DynamoDB Local): each transaction holds its items for `hold` seconds (AWS's own
transaction latency, ~10–30 ms; DynamoDB Local's queue, where transactions wait for each other,
is not counted, as AWS runs transactions on different items in parallel), then is applied to the
real client. Any transaction or single-item write that touches a held item meanwhile is refused
the way AWS refuses it. Everything else passes through unchanged.

Used by the hot-merchant tests (tests/services/test_hot_merchant.py) and the benchmark
(scripts/bench_hot_merchant.py). Not for production: wrap with `conflicting(db)`.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from typing import Any, cast

from botocore.exceptions import ClientError

from payments.dynamo import Dynamo
from payments.dynamo.schema import META_TABLE, PAYMENTS_TABLE

HOLD = 0.015  # seconds a transaction holds its items (AWS TransactWriteItems latency, p50-ish)

ItemKey = tuple[str, tuple[tuple[str, str], ...]]


class ConflictingClient:
    """A boto3 DynamoDB client whose writes conflict like AWS's (see the module docstring)."""

    def __init__(self, client: Any, key_names: dict[str, list[str]], *, hold: float = HOLD) -> None:
        self._client = client
        self._hold = hold
        self._lock = threading.Lock()
        self._in_flight: Counter[ItemKey] = Counter()
        self._key_names = key_names  # table name -> its key attributes
        self.transactions = 0
        self.conflicts = 0  # transactions and single writes refused with TransactionConflict

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        keys = [self._action_key(action) for action in kwargs["TransactItems"]]
        with self._lock:
            self.transactions += 1
            busy = [key in self._in_flight for key in keys]
            if any(busy):
                self.conflicts += 1
                raise _cancelled(busy)
            self._in_flight.update(keys)
        try:
            time.sleep(self._hold)
        finally:
            with self._lock:
                self._in_flight.subtract(keys)
                self._in_flight = +self._in_flight  # drop the zeros
        return self._client.transact_write_items(**kwargs)

    def put_item(self, **kwargs: Any) -> Any:
        self._refuse_if_in_flight(kwargs["TableName"], kwargs["Item"], "PutItem")
        return self._client.put_item(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self._refuse_if_in_flight(kwargs["TableName"], kwargs["Key"], "UpdateItem")
        return self._client.update_item(**kwargs)

    def delete_item(self, **kwargs: Any) -> Any:
        self._refuse_if_in_flight(kwargs["TableName"], kwargs["Key"], "DeleteItem")
        return self._client.delete_item(**kwargs)

    def _refuse_if_in_flight(self, table: str, item: dict[str, Any], operation: str) -> None:
        key = self._key(table, item)
        with self._lock:
            if key in self._in_flight:
                self.conflicts += 1
                raise ClientError(
                    {
                        "Error": {
                            "Code": "TransactionConflictException",
                            "Message": "Transaction is ongoing for the item",
                        }
                    },
                    operation,
                )

    def _action_key(self, action: dict[str, Any]) -> ItemKey:
        ((kind, body),) = action.items()
        item = body["Item"] if kind == "Put" else body["Key"]
        return self._key(body["TableName"], item)

    def _key(self, table: str, item: dict[str, Any]) -> ItemKey:
        return table, tuple((name, str(item[name])) for name in self._key_names[table])


def _cancelled(busy: list[bool]) -> ClientError:
    codes = ["TransactionConflict" if b else "None" for b in busy]
    error: dict[str, Any] = {
        "Error": {
            "Code": "TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific "
            f"reasons [{', '.join(codes)}]",
        },
        "CancellationReasons": [
            {"Code": code, "Message": "Transaction is ongoing for the item"}
            if code != "None"
            else {"Code": "None"}
            for code in codes
        ],
    }
    return ClientError(cast(Any, error), "TransactWriteItems")


def conflicting(db: Dynamo, *, hold: float = HOLD) -> tuple[Dynamo, ConflictingClient]:
    """`db` with its client wrapped in a `ConflictingClient` (returned too, for its counts)."""
    key_names = {
        db.table: [PAYMENTS_TABLE.hash_key, PAYMENTS_TABLE.range_key],
        db.meta_table: [META_TABLE.hash_key, META_TABLE.range_key],
    }
    double = ConflictingClient(db.client, key_names, hold=hold)
    return dataclasses.replace(db, client=cast(Any, double)), double
