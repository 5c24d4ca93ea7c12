"""A DynamoDB client double that keeps what the data layer writes in memory, for bulk loads.

The benchmark and the HTTP load script need 100,000 realistic payments with everything the data
layer writes beside them (statistics aggregates, owner items, index items, whatever the current
schema has). Writing them one transaction each takes DynamoDB Local half an hour; building the
items a second time in the benchmark would drift from the real shape. So the real write path
(`payment_create`, `payment_link_set`, `payment_observe`, ...) runs against this double: every
item it puts or updates is kept here, exactly as DynamoDB would hold it, and the loader sends
the finished items with BatchWriteItem.

It evaluates what the write path sends: Put, Update (SET with `list_append`, `if_not_exists`,
`+`/`-`; ADD; REMOVE; DELETE), Delete, GetItem and a Query on a table's own key. Conditions are
not evaluated: the loader writes each payment from one thread, in order, as a lone writer would,
so every condition the data layer sets holds. Anything else it is asked raises
`NotImplementedError` naming the call, so a new kind of write fails loudly instead of loading
wrong data.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from payments.dynamo.items import deserialize, serialize

Key = tuple[str, tuple[Any, ...]]
Segment = str | int


class CaptureClient:
    """Duck-types the few boto3 DynamoDB client methods the write path calls.

    `key_schema(table)` gives a table's key attribute names (hash, then range): the loader reads
    them from DescribeTable on the real endpoint, so any table the schema has works."""

    def __init__(self, key_schema: Callable[[str], tuple[str, ...]], meta: Any) -> None:
        self._key_schema = key_schema
        self.meta = meta  # `Dynamo.endpoint` and `.region` read it
        self.items: dict[Key, dict[str, Any]] = {}
        # Items changed by ADD are counters shared by many payments (aggregates): they stay
        # here until the end of the load; every other item belongs to one payment.
        self.counters: set[Key] = set()
        self.sent: set[Key] = set()
        # Keys written otherwise than by ADD: such an item is not a plain sum of its changes.
        self.mixed: set[Key] = set()

    # --- what the loader reads back ---------------------------------------------------------

    def take_finished(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(table, item as attribute values) for every item that is not a counter, forgetting
        them: called once a payment's whole story is written."""
        for key in [k for k in self.items if k not in self.counters]:
            item = self.items.pop(key)
            self.sent.add(key)
            yield key[0], serialize(item)

    def take_counters(self) -> dict[Key, dict[str, Any]]:
        """The counter items (deserialised), forgetting them: the end of a loader's share. Counters
        of several loaders are summed by `merge_counters`."""
        out = {k: self.items.pop(k) for k in list(self.items) if k in self.counters}
        self.sent.update(out)
        return out

    def take_counter_changes(self) -> dict[Key, dict[str, Any]]:
        """The counter items as changes since the last call (deserialised), forgetting them
        without marking them sent: the next payment's ADD starts a new change of the same item.
        For a loader that adds each batch's sums to items DynamoDB already holds."""
        impure = self.counters & self.mixed
        if impure:
            raise RuntimeError(f"CaptureClient: {sorted(impure)[0]} is not a pure counter")
        out = {k: self.items.pop(k) for k in list(self.items) if k in self.counters}
        self.counters.clear()
        return out

    def take_all(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every item still held, counters included (the end of the load)."""
        for key, item in self.items.items():
            yield key[0], serialize(item)
        self.sent.update(self.items)
        self.items.clear()

    # --- the client surface -----------------------------------------------------------------

    def get_item(self, *, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        item = self.items.get(self._key(TableName, deserialize(Key)))
        return {"Item": serialize(item)} if item is not None else {}

    def put_item(self, *, TableName: str, Item: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        self._put(TableName, Item)
        return {}

    def delete_item(self, *, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        self.items.pop(self._key(TableName, deserialize(Key)), None)
        return {}

    def update_item(self, **request: Any) -> dict[str, Any]:
        item = self._update(request)
        if request.get("ReturnValues") == "ALL_NEW":
            return {"Attributes": serialize(item)}  # a copy: later updates do not change it
        return {}

    def transact_write_items(self, *, TransactItems: list[dict[str, Any]], **_: Any) -> Any:  # noqa: N803
        for action in TransactItems:
            ((kind, request),) = action.items()
            if kind == "Put":
                self._put(request["TableName"], request["Item"])
            elif kind == "Update":
                self._update(request)
            elif kind == "Delete":
                self.delete_item(TableName=request["TableName"], Key=request["Key"])
            elif kind != "ConditionCheck":
                raise NotImplementedError(f"CaptureClient: transaction action {kind}")
        return {}

    def query(self, **request: Any) -> dict[str, Any]:
        """A Query on the table's own key (partition equality, optional sort-key condition).
        Items already sent to DynamoDB are not seen: the write path only queries what the
        payment being written owns (parked events, ...), and a loaded payment has none."""
        if request.get("IndexName"):
            raise NotImplementedError(f"CaptureClient: Query on index {request['IndexName']}")
        table = request["TableName"]
        names = request.get("ExpressionAttributeNames", {})
        values = deserialize(request.get("ExpressionAttributeValues", {}))
        keys = self._key_schema(table)
        matches = [
            item
            for (t, _), item in self.items.items()
            if t == table and _key_condition(request["KeyConditionExpression"], item, names, values)
        ]
        if len(keys) > 1:
            matches.sort(key=lambda i: i[keys[1]], reverse=not request.get("ScanIndexForward", 1))
        if request.get("Limit"):
            matches = matches[: int(request["Limit"])]
        return {
            "Items": [serialize(i) for i in matches],
            "Count": len(matches),
            "ScannedCount": len(matches),
        }

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"CaptureClient: {name} is not supported by the bulk loader")

    # --- evaluation -------------------------------------------------------------------------

    def _key(self, table: str, item: dict[str, Any]) -> Key:
        return table, tuple(item[name] for name in self._key_schema(table))

    def _touch(self, key: Key) -> None:
        if key in self.sent:
            raise RuntimeError(
                f"CaptureClient: {key} was written again after it was sent to DynamoDB; the "
                "loader assumes only counter (ADD) items are shared between payments"
            )

    def _put(self, table: str, raw: dict[str, Any]) -> None:
        item = deserialize(raw)
        key = self._key(table, item)
        self._touch(key)
        self.items[key] = item
        self.mixed.add(key)

    def _update(self, request: dict[str, Any]) -> dict[str, Any]:
        table = request["TableName"]
        key_values = deserialize(request["Key"])
        key = self._key(table, key_values)
        self._touch(key)
        item = self.items.setdefault(key, dict(key_values))
        names: dict[str, str] = request.get("ExpressionAttributeNames", {})
        values = deserialize(request.get("ExpressionAttributeValues", {}))
        for clause, body in _clauses(request["UpdateExpression"]):
            for part in _split_top(body):
                if clause == "SET":
                    target, expression = part.split("=", 1)
                    value = _operand(expression.strip(), item, names, values)
                    _assign(item, _path(target.strip(), names), value)
                elif clause == "REMOVE":
                    _remove(item, _path(part.strip(), names))
                else:  # ADD / DELETE: "path :value"
                    target, name = part.strip().rsplit(None, 1)
                    path, value = _path(target, names), values[name]
                    current = _get(item, path)
                    if clause == "ADD":
                        self.counters.add(key)
                        if isinstance(value, set):
                            _assign(item, path, (current or set()) | value)
                        else:
                            _assign(item, path, (current or Decimal(0)) + value)
                    elif current is not None:
                        _assign(item, path, current - value)
                if clause != "ADD":
                    self.mixed.add(key)
        return item


def merge_counters(
    shares: list[tuple[dict[Key, dict[str, Any]], set[Key]]],
) -> dict[Key, dict[str, Any]]:
    """Sum the counter items several loaders built from disjoint sets of payments: (counters,
    keys written otherwise than by ADD) per loader. Only an item changed by ADD alone is the sum
    of its changes, so one that two loaders hold and either also wrote otherwise raises."""
    merged: dict[Key, dict[str, Any]] = {}
    impure: set[Key] = set()
    for counters, mixed in shares:
        for key, item in counters.items():
            if key not in merged:
                merged[key] = dict(item)
                impure |= {key} & mixed
                continue
            if key in impure or key in mixed:
                raise RuntimeError(f"CaptureClient: {key} is not a pure counter; cannot merge")
            target = merged[key]
            for name, value in item.items():
                if isinstance(value, Decimal) and name in target:
                    target[name] += value  # keys are strings: every number is a counter
                elif isinstance(value, set) and name in target:
                    target[name] = target[name] | value
                else:
                    target.setdefault(name, value)
    return merged


_CLAUSE_RE = re.compile(r"\b(SET|ADD|REMOVE|DELETE)\b", re.IGNORECASE)


def _clauses(expression: str) -> list[tuple[str, str]]:
    parts = _CLAUSE_RE.split(expression)
    return [(parts[i].upper(), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def _split_top(body: str, separator: str = ",") -> list[str]:
    """Split at separators outside parentheses."""
    out, depth, current = [], 0, ""
    for char in body:
        depth += char == "("
        depth -= char == ")"
        if char == separator and depth == 0:
            out.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        out.append(current)
    return out


def _path(text: str, names: dict[str, str]) -> list[Segment]:
    path: list[Segment] = []
    for part in text.strip().split("."):
        name, *indexes = part.split("[")
        path.append(names.get(name, name))
        path.extend(int(index.rstrip("]")) for index in indexes)
    return path


def _get(item: Any, path: list[Segment]) -> Any:
    for segment in path:
        try:
            item = item[segment]
        except (KeyError, IndexError, TypeError):
            return None
    return item


def _assign(item: Any, path: list[Segment], value: Any) -> None:
    parent = _get(item, path[:-1]) if len(path) > 1 else item
    if parent is None:
        raise ValueError(f"CaptureClient: the document path {path} has no parent")
    last = path[-1]
    if isinstance(parent, list) and isinstance(last, int) and last >= len(parent):
        parent.append(value)
    else:
        parent[last] = value


def _remove(item: Any, path: list[Segment]) -> None:
    parent = _get(item, path[:-1]) if len(path) > 1 else item
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
        del parent[path[-1]]


def _operand(text: str, item: dict[str, Any], names: dict[str, str], values: dict[str, Any]) -> Any:
    pieces = _split_top(text.replace(" - ", " + -"), "+")
    if len(pieces) == 2:
        left = _operand(pieces[0].strip(), item, names, values)
        right_text = pieces[1].strip()
        negative = right_text.startswith("-")
        right = _operand(right_text.lstrip("-").strip(), item, names, values)
        return left - right if negative else left + right
    text = text.strip()
    if text.startswith(":"):
        return copy.deepcopy(values[text])
    function, _, rest = text.partition("(")
    if rest:
        args = _split_top(rest[:-1])
        if function.strip() == "if_not_exists":
            current = _get(item, _path(args[0], names))
            return (
                copy.deepcopy(current)
                if current is not None
                else _operand(args[1].strip(), item, names, values)
            )
        if function.strip() == "list_append":
            first, second = (_operand(a.strip(), item, names, values) for a in args)
            return [*first, *second]
        raise NotImplementedError(f"CaptureClient: function {function} in an update")
    return copy.deepcopy(_get(item, _path(text, names)))


def _key_condition(
    expression: str, item: dict[str, Any], names: dict[str, str], values: dict[str, Any]
) -> bool:
    """A key condition: `hash = :v`, optionally `AND` one sort-key condition."""
    first, *sort = re.split(r"\s+AND\s+", expression.strip(), maxsplit=1, flags=re.I)
    if not _compare(first, item, names, values):
        return False
    if not sort:
        return True
    condition = sort[0].strip()
    between = re.fullmatch(r"(\S+)\s+BETWEEN\s+(:\w+)\s+AND\s+(:\w+)", condition, re.I)
    if between:
        got = item.get(names.get(between[1], between[1]))
        return got is not None and values[between[2]] <= got <= values[between[3]]
    begins = re.fullmatch(r"begins_with\(\s*(\S+)\s*,\s*(:\w+)\s*\)", condition)
    if begins:
        got = item.get(names.get(begins[1], begins[1]))
        return isinstance(got, str) and got.startswith(values[begins[2]])
    return _compare(condition, item, names, values)


def _compare(
    condition: str, item: dict[str, Any], names: dict[str, str], values: dict[str, Any]
) -> bool:
    match = re.fullmatch(r"(\S+)\s*(=|<=|>=|<|>)\s*(:\w+)", condition.strip())
    if not match:
        raise NotImplementedError(f"CaptureClient: key condition {condition!r}")
    got, want = item.get(names.get(match[1], match[1])), values[match[3]]
    if got is None:
        return False
    return bool(
        {
            "=": got == want,
            "<": got < want,
            "<=": got <= want,
            ">": got > want,
            ">=": got >= want,
        }[match[2]]
    )
