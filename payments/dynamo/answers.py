"""Reading DynamoDB's answers to reads without botocore's value-by-value walk.

botocore turns every JSON answer into Python by walking the operation's output shape value by
value (boto/boto3#2928). For the reads that return items — GetItem, Query, Scan, BatchGetItem —
that walk costs more than the request: a list page's Query of 26 payments with their attempts
took ~13 ms through botocore where DynamoDB Local answered in ~5 (`scripts/profile_pages.py`).
The JSON of those answers already is what botocore returns, except binary values (`B`, `BS`:
base64 text in JSON, bytes from botocore), so here those answers are JSON-decoded and only
binary values are decoded. Every other operation, and every error answer, is parsed by botocore
as before. `tests/repository/test_answers.py` checks both give the same result for any item.

Used through `make_client`, which gives each client a botocore session with this parser
factory: other boto3 clients in the process are unaffected.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary
from botocore.parsers import JSONParser, ResponseParserFactory

# A binary value on the wire: `"B":` or `"BS":` (a string holding those characters has its quotes
# escaped, so it does not match; an attribute named B or BS does, and costs only the walk).
_BINARY_RE = re.compile(rb'"BS?"\s*:')

# Output shapes whose answers are items (and keys, counts, capacity): plain JSON but for binaries.
_ITEM_OUTPUTS = frozenset({"GetItemOutput", "QueryOutput", "ScanOutput", "BatchGetItemOutput"})


class _ItemAnswerParser(JSONParser):
    def _handle_json_body(self, raw_body: bytes, shape: Any) -> Any:
        if shape is None or shape.name not in _ITEM_OUTPUTS:
            return cast(Any, JSONParser)._handle_json_body(self, raw_body, shape)
        parsed = cast(Any, self)._parse_body_as_json(raw_body)  # botocore's: {} when empty
        # Binary values are rare (this product stores none): skip the walk when none can be in it.
        if _BINARY_RE.search(raw_body):
            _decode_binaries(parsed)
        return parsed


class ItemAnswerParserFactory(ResponseParserFactory):
    """botocore's parser factory, with the fast parser for the JSON protocol."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return _ItemAnswerParser(**cast(Any, self)._defaults)
        return super().create_parser(protocol_name)


def _decode_binaries(answer: dict[str, Any]) -> None:
    """Base64 `B` and `BS` values to bytes, in place, wherever items and keys are in an answer."""
    for name in ("Item", "LastEvaluatedKey"):
        if isinstance(answer.get(name), dict):
            _item(answer[name])
    for item in answer.get("Items") or ():
        _item(item)
    for items in (answer.get("Responses") or {}).values():
        for item in items:
            _item(item)
    for request in (answer.get("UnprocessedKeys") or {}).values():
        for key in request.get("Keys") or ():
            _item(key)


def _item(item: dict[str, Any]) -> None:
    for value in item.values():
        _value(value)


def _value(value: dict[str, Any]) -> None:
    if "B" in value:
        value["B"] = base64.b64decode(value["B"])
    elif "BS" in value:
        value["BS"] = [base64.b64decode(b) for b in value["BS"]]
    elif "M" in value:
        _item(value["M"])
    elif "L" in value:
        for member in value["L"]:
            _value(member)


# --- attribute values to Python ---------------------------------------------------------------


def python_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values to Python values, as boto3's `TypeDeserializer` makes them
    (numbers to Decimal, never float; binaries to `Binary`; sets to sets), ~3× faster: one dict
    lookup per value instead of a method found by name (a list row has ~50 values)."""
    return {name: _python(value) for name, value in values.items()}


def _python(value: Mapping[str, Any]) -> Any:
    if not value:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    (kind, raw), *rest = value.items()
    if rest:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    convert = _CONVERT.get(kind)
    if convert is None:
        raise TypeError(f"Dynamodb type {kind} is not supported")
    return convert(raw)


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "S": str,
    "N": DYNAMODB_CONTEXT.create_decimal,
    "BOOL": bool,
    "NULL": lambda _raw: None,
    "M": lambda raw: {k: _python(v) for k, v in raw.items()},
    "L": lambda raw: [_python(v) for v in raw],
    "B": Binary,
    "SS": set,
    "NS": lambda raw: {DYNAMODB_CONTEXT.create_decimal(n) for n in raw},
    "BS": lambda raw: {Binary(b) for b in raw},
}
