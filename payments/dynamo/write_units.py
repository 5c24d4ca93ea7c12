"""What a write costs in DynamoDB write capacity units, computed from the items it changed.

DynamoDB Local returns no ConsumedCapacity for transactions, so the units are computed from
item sizes by DynamoDB's published rules:

- an item's size is the sum of its attribute names and values (`item_size`);
- writing an item costs one unit per started KB of the larger of its sizes before and after
  (at least one), twice that inside TransactWriteItems;
- every global secondary index whose entry changes costs one unit per started KB of the entry
  (table keys, index keys and the projected attributes): a new or removed entry one write, a
  changed index key two (delete the old entry, put the new one), a changed projected attribute
  one; an entry that does not change (or an item the sparse index does not hold) costs nothing.
  Index writes are not doubled by a transaction.

`measure_writes` records the items a block of code writes (their state before and after, read
with GetItem around each write call) so that `operation_units` can price the same writes under
any table design: the current `schema.PAYMENTS_TABLE`, the previous version's six
ALL-projection indexes (`PREVIOUS_PAYMENTS_TABLE`) or the starting table (`STARTING_TABLE`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from payments.dynamo.client import Dynamo
from payments.dynamo.items import deserialize
from payments.dynamo.schema import META_TABLE, PAYMENTS_TABLE, IndexSpec, TableSpec

KB = 1024
PAYMENTS = "payments"
META = "meta"

# The previous version of this code: six indexes, all projecting the whole item.
PREVIOUS_PAYMENTS_TABLE = TableSpec(
    hash_key="userId",
    range_key="paymentId",
    indexes=(
        IndexSpec("StatusIndex", "userId", "statusCreatedAt"),
        IndexSpec("CreatedAtIndex", "userId", "createdAt"),
        IndexSpec("CurrencyIndex", "userId", "currencyCreatedAt"),
        IndexSpec("CurrencyStatusIndex", "userId", "currencyStatusCreatedAt"),
        IndexSpec("PaymentLinkIndex", "paymentLinkId", None),
        IndexSpec("TruelayerPaymentIndex", "truelayerPaymentId", None),
        IndexSpec("OpenIndex", "openShard", "checkAt", projection="KEYS_ONLY"),
    ),
)

# The table the product started from (DESIGN.md): StatusIndex on the bare status.
STARTING_TABLE = TableSpec(
    hash_key="userId",
    range_key="paymentId",
    indexes=(
        IndexSpec("StatusIndex", "userId", "status"),
        IndexSpec("CreatedAtIndex", "userId", "createdAt"),
    ),
)

# A payment as the starting app stored it (DESIGN.md's attributes, before any link answer).
STARTING_ITEM: dict[str, Any] = {
    "userId": "auth0|65f0c0ffee",
    "paymentId": "01JD3Q5Z7X9K2M4N6P8R0T2V4W",
    "amount": Decimal("12.50"),
    "currency": "GBP",
    "reference": "INV-1042",
    "status": "pending",
    "createdAt": "2026-11-24T17:10:37.123Z",
    "updatedAt": "2026-11-24T17:10:37.123Z",
    "paymentLinkId": "pl_0123456789",
    "paymentLinkUrl": "https://payment.truelayer-sandbox.com/payment-link/pl_0123456789",
}


def starting_table_units() -> tuple[int, int]:
    """Units per create and per status change of the starting table (plain PutItem and
    UpdateItem, StatusIndex and CreatedAtIndex projecting everything): (3, 4)."""
    moved = {**STARTING_ITEM, "status": "executed", "updatedAt": "2026-11-24T17:12:00.000Z"}
    create = operation_units([ItemWrite(PAYMENTS, None, STARTING_ITEM, False)], STARTING_TABLE)
    change = operation_units([ItemWrite(PAYMENTS, STARTING_ITEM, moved, False)], STARTING_TABLE)
    return create.total, change.total


def value_size(value: Any) -> int:
    """Bytes DynamoDB counts for one attribute value (deserialised Python value)."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, int | Decimal):
        # About one byte per two significant digits, plus one.
        digits = len(Decimal(value).normalize().as_tuple().digits)
        return math.ceil(digits / 2) + 1
    if isinstance(value, Mapping):
        return 3 + sum(len(str(k).encode()) + value_size(v) + 1 for k, v in value.items())
    if isinstance(value, list | tuple):
        return 3 + sum(value_size(v) + 1 for v in value)
    if isinstance(value, set | frozenset):
        return sum(value_size(v) for v in value)
    raise TypeError(f"not a DynamoDB value: {type(value).__name__}")


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for an item: attribute names plus values."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def index_entry(
    item: Mapping[str, Any] | None, table: TableSpec, index: IndexSpec
) -> dict[str, Any] | None:
    """What `index` holds for `item`: None when the item lacks an index key (sparse)."""
    if item is None:
        return None
    keys = [k for k in (index.hash_key, index.range_key) if k]
    if any(item.get(k) is None for k in keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    wanted = {table.hash_key, table.range_key, *keys}
    if index.projection == "INCLUDE":
        wanted |= set(index.include)
    return {k: v for k, v in item.items() if k in wanted}


def index_write_units(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    table: TableSpec,
    index: IndexSpec,
) -> int:
    """Units one index spends on one item write (see the module docstring)."""
    old, new = index_entry(before, table, index), index_entry(after, table, index)
    if old == new:
        return 0
    if old is None:
        return _units(item_size(new or {}))
    if new is None:
        return _units(item_size(old))
    keys = [k for k in (index.hash_key, index.range_key) if k]
    if any(old[k] != new[k] for k in keys):
        return _units(item_size(old)) + _units(item_size(new))
    return _units(max(item_size(old), item_size(new)))


@dataclass(frozen=True)
class ItemWrite:
    """One item written by one call: its state before and after (None: absent)."""

    table: str  # PAYMENTS or META
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    transactional: bool


@dataclass(frozen=True)
class WriteUnits:
    """Units of some writes: on the tables' items, and on each index."""

    items: int = 0
    indexes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.items + sum(self.indexes.values())


def item_write_units(write: ItemWrite, table: TableSpec) -> WriteUnits:
    """Units of one item write under the design `table` (its indexes)."""
    if write.before is None and write.after is None:
        return WriteUnits()
    size = max(item_size(write.before or {}), item_size(write.after or {}))
    items = _units(size) * (2 if write.transactional else 1)
    indexes = {
        index.name: index_write_units(write.before, write.after, table, index)
        for index in table.indexes
    }
    return WriteUnits(items, {name: units for name, units in indexes.items() if units})


def operation_units(
    writes: list[ItemWrite], payments: TableSpec = PAYMENTS_TABLE, meta: TableSpec = META_TABLE
) -> WriteUnits:
    """Units of every item write of one operation (e.g. one create), payments-table writes
    priced under the design `payments`."""
    items = 0
    indexes: dict[str, int] = {}
    for write in writes:
        units = item_write_units(write, payments if write.table == PAYMENTS else meta)
        items += units.items
        for name, n in units.indexes.items():
            indexes[name] = indexes.get(name, 0) + n
    return WriteUnits(items, indexes)


_WRITE_CALLS = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems")


@contextmanager
def measure_writes(db: Dynamo) -> Iterator[list[ItemWrite]]:
    """Record every item the code in the block writes through `db.client` (succeeded calls
    only), with its state before and after. For measurements (benchmark, tests): each write
    costs two extra GetItems, and the client's event hooks are shared by its threads."""
    writes: list[ItemWrite] = []
    pending: list[tuple[str, dict[str, Any], dict[str, Any] | None, bool]] = []
    tables = {db.table: (PAYMENTS, PAYMENTS_TABLE), db.meta_table: (META, META_TABLE)}

    def read(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
        answer = db.client.get_item(TableName=table_name, Key=key, ConsistentRead=True)
        return deserialize(answer["Item"]) if "Item" in answer else None

    def targets(operation: str, params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if operation != "TransactWriteItems":
            actions = [{operation.removesuffix("Item"): params}]
        else:
            actions = list(params.get("TransactItems", []))
        found = []
        for action in actions:
            for kind, body in action.items():
                if kind == "ConditionCheck" or body["TableName"] not in tables:
                    continue
                spec = tables[body["TableName"]][1]
                key = body.get("Key") or {
                    k: body["Item"][k] for k in (spec.hash_key, spec.range_key)
                }
                found.append((body["TableName"], dict(key)))
        return found

    def before_write(params: dict[str, Any], model: Any, **_: Any) -> None:
        transactional = model.name == "TransactWriteItems"
        for table_name, key in targets(model.name, params):
            pending.append((table_name, key, read(table_name, key), transactional))

    def after_write(http_response: Any, model: Any, **_: Any) -> None:
        done = list(pending)
        pending.clear()
        if http_response.status_code != 200:
            return
        for table_name, key, before, transactional in done:
            after = read(table_name, key)
            writes.append(ItemWrite(tables[table_name][0], before, after, transactional))

    events = db.client.meta.events
    # botocore keys unique ids across all events: one per (hook, operation).
    hooks = [
        (f"{stage}.dynamodb.{operation}", handler, f"write-units-{stage}-{operation}")
        for operation in _WRITE_CALLS
        for stage, handler in (("provide-client-params", before_write), ("after-call", after_write))
    ]
    for event, handler, unique_id in hooks:
        events.register(event, handler, unique_id=unique_id)
    try:
        yield writes
    finally:
        for event, _handler, unique_id in hooks:
            events.unregister(event, unique_id=unique_id)
