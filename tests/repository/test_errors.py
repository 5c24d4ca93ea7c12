from __future__ import annotations

import socket

import pytest

from payments import dynamo
from payments.dynamo import Dynamo, make_client
from payments.errors import DatabaseUnavailable, TableMissing
from tests.factories import ALICE


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_database_raises_a_clear_error() -> None:
    client = make_client(
        endpoint_url=f"http://127.0.0.1:{_closed_port()}", region="eu-west-2", timeout=1
    )
    repo = Dynamo(client, table="Payments", meta_table="PaymentsMeta")
    with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
        dynamo.payment_get(repo, user_id=ALICE, payment_id="01ABC")


def test_a_missing_table_says_to_run_init_dynamodb(dynamodb_local_endpoint: str) -> None:
    client = make_client(endpoint_url=dynamodb_local_endpoint, region="eu-west-2")
    repo = Dynamo(client, table="NoSuchTable", meta_table="NoSuchMeta")
    with pytest.raises(TableMissing, match="init_dynamodb"):
        dynamo.payment_list(repo, user_id=ALICE)
