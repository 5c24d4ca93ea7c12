from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from payments.dynamo import make_client
from payments.dynamo.schema import OPEN_INDEX, PAYMENTS_TABLE

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


def test_a_table_with_the_old_status_index_gets_the_missing_indexes_and_names_the_mismatch(
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
        GlobalSecondaryIndexes=[
            {
                "IndexName": "StatusIndex",
                "KeySchema": [
                    {"AttributeName": "userId", "KeyType": "HASH"},
                    {"AttributeName": "status", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
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
    problems = err.getvalue()
    assert (
        "index StatusIndex has keys userId + status, expected userId + statusCreatedAt" in problems
    )
    # Indexes a newer version added are created on the existing table (OpenIndex for
    # reconciliation among them); an existing index with other keys is only reported.
    assert "is missing" not in problems
    indexes = {
        i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]]
        for i in client.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
    }
    assert set(indexes) == {i.name for i in PAYMENTS_TABLE.indexes}
    assert OPEN_INDEX in indexes
    assert indexes["StatusIndex"] == ["userId", "status"]


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
