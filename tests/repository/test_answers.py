"""The fast parser of item answers (`payments.dynamo.answers`) gives exactly what botocore's own
parser gives, for any item, on every operation it handles; other operations are botocore's."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import botocore.session
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.parsers import JSONParser
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.dynamo.answers import ItemAnswerParserFactory, python_values

_MODEL = botocore.session.get_session().get_service_model("dynamodb")

_names = st.text(min_size=1, max_size=6)
# DynamoDB numbers have at most 38 significant digits.
_whole = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)
_scalars = st.one_of(
    st.fixed_dictionaries({"S": st.text(max_size=20)}),
    st.fixed_dictionaries(
        {
            "N": st.decimals(min_value=-(10**30), max_value=10**30, places=2).map(
                lambda d: str(Decimal(d))
            )
        }
    ),
    st.fixed_dictionaries({"B": st.binary(max_size=12)}),
    st.fixed_dictionaries({"BOOL": st.booleans()}),
    st.fixed_dictionaries({"NULL": st.just(True)}),
    st.fixed_dictionaries({"SS": st.lists(st.text(max_size=5), min_size=1, max_size=3)}),
    st.fixed_dictionaries({"BS": st.lists(st.binary(max_size=5), min_size=1, max_size=3)}),
    st.fixed_dictionaries({"NS": st.lists(_whole.map(str), min_size=1, max_size=3)}),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.fixed_dictionaries({"M": st.dictionaries(_names, inner, max_size=3)}),
        st.fixed_dictionaries({"L": st.lists(inner, max_size=3)}),
    ),
    max_leaves=12,
)
_items = st.dictionaries(_names, _values, min_size=1, max_size=5)


def _wire(value: Any) -> Any:
    """As DynamoDB sends it: bytes in base64."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def _both(operation: str, answer: dict[str, Any]) -> tuple[Any, Any]:
    shape = _MODEL.operation_model(operation).output_shape
    assert shape is not None
    response = {
        "body": json.dumps(_wire(answer)).encode(),
        "headers": {"x-amzn-requestid": "r"},
        "status_code": 200,
    }
    fast = ItemAnswerParserFactory().create_parser("json").parse(dict(response), shape)
    slow = JSONParser().parse(dict(response), shape)
    return fast, slow


@settings(max_examples=150, deadline=None)
@given(st.lists(_items, max_size=4), _items)
def test_query_and_scan_answers_equal_botocore_s(
    items: list[dict[str, Any]], key: dict[str, Any]
) -> None:
    for operation in ("Query", "Scan"):
        answer = {
            "Items": items,
            "Count": len(items),
            "ScannedCount": len(items),
            "LastEvaluatedKey": key,
            "ConsumedCapacity": {"TableName": "T", "CapacityUnits": 1.5},
        }
        fast, slow = _both(operation, answer)
        assert fast == slow


@settings(max_examples=100, deadline=None)
@given(_items)
def test_get_item_answers_equal_botocore_s(item: dict[str, Any]) -> None:
    fast, slow = _both("GetItem", {"Item": item})
    assert fast == slow
    assert _both("GetItem", {}) == (_both("GetItem", {})[1],) * 2  # no such item


@settings(max_examples=100, deadline=None)
@given(st.lists(_items, max_size=3), st.lists(_items, max_size=2))
def test_batch_get_answers_equal_botocore_s(
    items: list[dict[str, Any]], unprocessed: list[dict[str, Any]]
) -> None:
    answer = {
        "Responses": {"T": items, "U": items[:1]},
        "UnprocessedKeys": {"T": {"Keys": unprocessed, "ProjectionExpression": "#a"}}
        if unprocessed
        else {},
    }
    fast, slow = _both("BatchGetItem", answer)
    assert fast == slow


def test_the_fast_path_is_taken() -> None:
    # botocore drops members its model does not know; the fast path keeps the JSON as it is.
    # If a botocore upgrade stopped calling the hook, answers would still be right, only slow:
    # this says so.
    fast, slow = _both("Query", {"Items": [], "Count": 0, "NotInTheModel": 1})
    assert "NotInTheModel" in fast
    assert "NotInTheModel" not in slow


def test_other_operations_are_parsed_by_botocore() -> None:
    # DescribeTable has a timestamp: botocore turns it into a datetime, and still does.
    answer = {"Table": {"TableName": "T", "CreationDateTime": 1_700_000_000.5}}
    fast, slow = _both("DescribeTable", answer)
    assert fast == slow
    assert fast["Table"]["CreationDateTime"].year == 2023


@settings(max_examples=200, deadline=None)
@given(_items)
def test_python_values_equal_boto3_s_deserializer(item: dict[str, Any]) -> None:
    boto3_s = {k: TypeDeserializer().deserialize(v) for k, v in item.items()}
    ours = python_values(item)
    assert ours == boto3_s
    assert repr(ours) == repr(boto3_s)  # same types too (Decimal not float, Binary, set)


def test_python_values_refuse_what_boto3_refuses() -> None:
    for bad in ({}, {"S": "a", "N": "1"}, {"X": "1"}):
        with pytest.raises(TypeError):
            python_values({"a": bad})
