from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import make_client
from payments.dynamo.items import index_keys, serialize
from payments.dynamo.schema import (
    LIST_ATTRIBUTES,
    OPEN_INDEX,
    PAYMENT_LINK_INDEX,
    PAYMENTS_TABLE,
    RETIRED_PAYMENT_INDEXES,
    ROW_FACTS,
    STATUS_INDEX,
)
from payments.lifecycle import RowFacts, Settlement

ROOT = Path(__file__).resolve().parents[2]


def _run(endpoint: str, table: str) -> str:
    out = io.StringIO()
    call_command("init_dynamodb", endpoint_url=endpoint, table=table, stdout=out, stderr=out)
    return out.getvalue()


def test_creates_both_tables_with_every_index(dynamodb_local_endpoint: str) -> None:
    table = f"Init-{uuid.uuid4().hex[:8]}"
    output = _run(dynamodb_local_endpoint, table)
    assert f"Created table {table}" in output and f"Created table {table}Meta" in output
    assert dynamodb_local_endpoint in output
    client = make_client(endpoint_url=dynamodb_local_endpoint, region="eu-west-2")
    description = client.describe_table(TableName=table)["Table"]
    assert description["TableStatus"] == "ACTIVE"
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {i["IndexName"] for i in description["GlobalSecondaryIndexes"]} == {
        i.name for i in PAYMENTS_TABLE.indexes
    }


def test_running_it_again_checks_and_changes_nothing(dynamodb_local_endpoint: str) -> None:
    table = f"Init-{uuid.uuid4().hex[:8]}"
    _run(dynamodb_local_endpoint, table)
    again = _run(dynamodb_local_endpoint, table)
    assert f"Table {table} exists; keys and indexes match." in again
    assert "Created" not in again


def _index(name: str, hash_key: str, range_key: str | None) -> Any:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return {"IndexName": name, "KeySchema": keys, "Projection": {"ProjectionType": "ALL"}}


def _previous_version_table(client: Any, table: str) -> None:
    """The payments table as the previous version created it: six ALL-projection indexes."""
    old = [
        _index("StatusIndex", "userId", "statusCreatedAt"),
        _index("CreatedAtIndex", "userId", "createdAt"),
        _index("CurrencyIndex", "userId", "currencyCreatedAt"),
        _index("CurrencyStatusIndex", "userId", "currencyStatusCreatedAt"),
        _index("PaymentLinkIndex", "paymentLinkId", None),
        _index("TruelayerPaymentIndex", "truelayerPaymentId", None),
    ]
    names = ["userId", "paymentId"] + [
        k["AttributeName"] for i in old for k in i["KeySchema"] if k["AttributeName"] != "userId"
    ]
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in names],
        KeySchema=[
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "paymentId", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=old,
    )


def _indexes(client: Any, table: str) -> dict[str, dict[str, Any]]:
    described = client.describe_table(TableName=table)["Table"]
    return {i["IndexName"]: i for i in described.get("GlobalSecondaryIndexes", [])}


def test_a_table_of_the_previous_version_converges_to_the_lean_indexes(
    dynamodb_local_endpoint: str,
) -> None:
    table = f"Init-{uuid.uuid4().hex[:8]}"
    client = make_client(endpoint_url=dynamodb_local_endpoint, region="eu-west-2")
    _previous_version_table(client, table)
    # A payment the previous version wrote (before attempts existed, too): the new indexes
    # are backfilled with it and the list reads it.
    old_item = {
        "userId": "auth0|old",
        "paymentId": "01JD0000000000000000000000",
        "amount": Decimal("12.50"),
        "currency": "GBP",
        "reference": "OLD-1",
        "status": "executed",
        "createdAt": "2024-11-20T10:00:00.000Z",
        "updatedAt": "2024-11-20T10:05:00.000Z",
        "truelayerPaymentId": "tl-old-1",
        "history": [{"status": "executed", "at": "2024-11-20T10:05:00.000Z", "source": "x"}],
        **index_keys(PaymentStatus.EXECUTED, "GBP", "2024-11-20T10:00:00.000Z"),
    }
    client.put_item(TableName=table, Item=serialize(old_item))

    output = _run(dynamodb_local_endpoint, table)

    db = dynamo.Dynamo(client, table=table, meta_table=f"{table}Meta")
    listed = dynamo.payment_list(db, user_id="auth0|old", statuses=[PaymentStatus.EXECUTED])
    assert [(p.payment_id, p.truelayer_payment_id) for p in listed.items] == [
        ("01JD0000000000000000000000", "tl-old-1")
    ]
    assert dynamo.payment_find_by_truelayer_id(db, "tl-old-1") is not None
    indexes = _indexes(client, table)
    assert set(indexes) == {i.name for i in PAYMENTS_TABLE.indexes}
    assert not set(indexes) & set(RETIRED_PAYMENT_INDEXES)
    assert indexes[STATUS_INDEX]["Projection"]["ProjectionType"] == "INCLUDE"
    assert set(indexes[STATUS_INDEX]["Projection"]["NonKeyAttributes"]) == set(LIST_ATTRIBUTES)
    assert indexes[PAYMENT_LINK_INDEX]["Projection"]["ProjectionType"] == "KEYS_ONLY"
    assert "deleted retired index CreatedAtIndex" in output
    assert f"Table {table} exists" in output
    # Converged: a second run changes nothing.
    again = _run(dynamodb_local_endpoint, table)
    assert "Created" not in again and "deleted" not in again and "created index" not in again


def test_keep_retired_indexes_adds_the_new_ones_and_leaves_the_old_for_a_rolling_deploy(
    dynamodb_local_endpoint: str,
) -> None:
    table = f"Init-{uuid.uuid4().hex[:8]}"
    client = make_client(endpoint_url=dynamodb_local_endpoint, region="eu-west-2")
    _previous_version_table(client, table)
    out = io.StringIO()

    call_command(
        "init_dynamodb",
        endpoint_url=dynamodb_local_endpoint,
        table=table,
        keep_retired_indexes=True,
        stdout=out,
        stderr=out,
    )

    indexes = _indexes(client, table)
    previous = {"StatusIndex", "CreatedAtIndex", "CurrencyIndex", "CurrencyStatusIndex"}
    previous |= {"PaymentLinkIndex", "TruelayerPaymentIndex"}
    assert set(indexes) == {i.name for i in PAYMENTS_TABLE.indexes} | previous
    assert "index StatusIndex is retired" in out.getvalue()


# The list indexes' projection of the version before the row facts.
_LIST_INDEX_ATTRIBUTES = [
    *(a for a in LIST_ATTRIBUTES if a != ROW_FACTS),
    "attempts",
    "link",
    "refunds",
]


def test_the_rows_indexes_and_the_list_indexes_they_replace_fit_awss_projection_limit() -> None:
    # AWS allows at most 100 NonKeyAttributes summed over a table's secondary indexes, and
    # while a deploy rolls the table has both sets (DynamoDB Local's own limit, 20 distinct
    # attributes, is exercised by the test below).
    rows = sum(len(index.include) for index in PAYMENTS_TABLE.indexes)
    assert rows + 3 * len(_LIST_INDEX_ATTRIBUTES) <= 100


def test_a_table_with_the_list_indexes_of_attempts_converges_to_the_rows_indexes(
    dynamodb_local_endpoint: str,
) -> None:
    table = f"Init-{uuid.uuid4().hex[:8]}"
    client = make_client(endpoint_url=dynamodb_local_endpoint, region="eu-west-2")
    projection = {"ProjectionType": "INCLUDE", "NonKeyAttributes": _LIST_INDEX_ATTRIBUTES}
    lists = [
        {**_index(f"{name}ListIndex", "userId", key), "Projection": projection}
        for name, key in (
            ("Status", "statusCreatedAt"),
            ("Currency", "currencyCreatedAt"),
            ("CurrencyStatus", "currencyStatusCreatedAt"),
        )
    ]
    client.create_table(
        **{
            **PAYMENTS_TABLE.create_table_kwargs(table),
            "GlobalSecondaryIndexes": [
                *lists,
                *(
                    i
                    for i in PAYMENTS_TABLE.create_table_kwargs(table)["GlobalSecondaryIndexes"]
                    if i["Projection"]["ProjectionType"] == "KEYS_ONLY"
                ),
            ],
        }
    )
    # A payment that version wrote: attempts and refunds, no row facts.
    item = {
        "userId": "auth0|last",
        "paymentId": "01JD0000000000000000000001",
        "amount": Decimal("20.00"),
        "currency": "GBP",
        "reference": "LAST-1",
        "status": "executed",
        "createdAt": "2025-11-20T10:00:00.000Z",
        "updatedAt": "2025-11-20T10:05:00.000Z",
        "version": 3,
        "attempts": {"tl-last": {"status": "executed", "creditableAt": "2025-11-20T10:06:00.000Z"}},
        "link": {"status": "enabled"},
        "refunds": {"r1": {"status": "executed", "amountMinor": 500, "attemptId": "tl-last"}},
        **index_keys(PaymentStatus.EXECUTED, "GBP", "2025-11-20T10:00:00.000Z"),
    }
    client.put_item(TableName=table, Item=serialize(item))

    output = _run(dynamodb_local_endpoint, table)

    indexes = _indexes(client, table)
    assert set(indexes) == {i.name for i in PAYMENTS_TABLE.indexes}
    assert set(indexes[STATUS_INDEX]["Projection"]["NonKeyAttributes"]) == set(LIST_ATTRIBUTES)
    assert "deleted retired index StatusListIndex" in output
    db = dynamo.Dynamo(client, table=table, meta_table=f"{table}Meta")
    expected = RowFacts(Settlement.CREDITABLE, refund_count=1, refunded_minor=500)
    [row] = dynamo.payment_list(db, user_id="auth0|last", statuses=[PaymentStatus.EXECUTED]).items
    assert row.facts == expected and row.settlement_badge == "safe to credit"
    assert dynamo.row_facts_backfill(db) == dynamo.RowFactsReport(1, 1)
    [row] = dynamo.payment_list(db, user_id="auth0|last", currency="GBP").items
    assert row.row_facts == expected


def test_a_table_with_the_starting_status_index_drops_it_and_gets_the_new_indexes(
    dynamodb_local_endpoint: str,
) -> None:
    table = f"Init-{uuid.uuid4().hex[:8]}"
    client = make_client(endpoint_url=dynamodb_local_endpoint, region="eu-west-2")
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("userId", "paymentId", "status")
        ],
        KeySchema=[
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "paymentId", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[_index("StatusIndex", "userId", "status")],
    )

    output = _run(dynamodb_local_endpoint, table)

    # The starting schema's StatusIndex (userId + status) is one of the retired names: the
    # new indexes are created first (OpenIndex for reconciliation among them), then it goes.
    assert "is missing" not in output
    indexes = _indexes(client, table)
    assert set(indexes) == {i.name for i in PAYMENTS_TABLE.indexes}
    assert OPEN_INDEX in indexes


def test_an_index_of_ours_with_other_keys_is_reported_not_changed(
    dynamodb_local_endpoint: str,
) -> None:
    table = f"Init-{uuid.uuid4().hex[:8]}"
    client = make_client(endpoint_url=dynamodb_local_endpoint, region="eu-west-2")
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("userId", "paymentId", "status")
        ],
        KeySchema=[
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "paymentId", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[_index(STATUS_INDEX, "userId", "status")],
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="Schema mismatch"):
        call_command(
            "init_dynamodb",
            endpoint_url=dynamodb_local_endpoint,
            table=table,
            stdout=io.StringIO(),
            stderr=err,
        )
    assert f"index {STATUS_INDEX} has keys userId + status, expected userId + statusCreatedAt" in (
        err.getvalue()
    )
    assert _indexes(client, table)[STATUS_INDEX]["KeySchema"][1]["AttributeName"] == "status"
    # Nothing at all is changed on a table that needs a person's migration: no index added.
    assert set(_indexes(client, table)) == {STATUS_INDEX}


def test_an_unreachable_endpoint_is_one_clear_line_and_a_failing_exit() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "payments_dashboard.test_settings",
        "DYNAMODB_TIMEOUT_SECONDS": "1",
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "init_dynamodb",
            "--endpoint-url",
            f"http://127.0.0.1:{port}",
            "--wait",
            "5",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "cannot be reached" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
