"""Data-layer fixtures: the same `Dynamo` handle on moto (fast) and on DynamoDB Local (real).

Each fixture creates fresh tables with `tables_ensure()` (the code `init_dynamodb` runs) and
points Django's settings at them, so views and services that call `get_dynamo()` use them.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from moto import mock_aws
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import dynamo
from payments.dynamo import Dynamo

_names = itertools.count()


def _use_tables(settings: SettingsWrapper, endpoint: str | None) -> Dynamo:
    suffix = f"{os.getpid()}-{next(_names)}"
    settings.DYNAMODB_ENDPOINT_URL = endpoint
    settings.DYNAMODB_TABLE = f"Payments-{suffix}"
    settings.DYNAMODB_META_TABLE = f"PaymentsMeta-{suffix}"
    dynamo.forget_dynamo()
    db = dynamo.get_dynamo()
    dynamo.tables_ensure(db, wait_seconds=60)
    return db


@pytest.fixture
def repo(settings: SettingsWrapper) -> Iterator[Dynamo]:
    """The data layer on moto's in-process DynamoDB (fast unit tests)."""
    with mock_aws():
        yield _use_tables(settings, None)
    dynamo.forget_dynamo()


@pytest.fixture
def dynamodb_local_repo(
    settings: SettingsWrapper, dynamodb_local_endpoint: str
) -> Iterator[Dynamo]:
    """The data layer on Amazon's DynamoDB Local (same engine behaviour as AWS)."""
    db = _use_tables(settings, dynamodb_local_endpoint)
    yield db
    dynamo.tables_drop(db)
    dynamo.forget_dynamo()


@pytest.fixture(params=["moto", "dynamodb_local"])
def repository(request: pytest.FixtureRequest) -> Dynamo:
    """The same test on both engines: moto for speed, DynamoDB Local for fidelity."""
    fixture_name = "repo" if request.param == "moto" else "dynamodb_local_repo"
    result: Dynamo = request.getfixturevalue(fixture_name)
    return result
