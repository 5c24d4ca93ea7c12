"""Repository fixtures: the same PaymentRepository on moto (fast) and on DynamoDB Local (real).

Each fixture creates fresh tables with `ensure_tables()` (the code `init_dynamodb` runs) and
points Django's settings at them, so views and services that call `get_repository()` use them.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from moto import mock_aws
from pytest_django.fixtures import Settings as SettingsWrapper

from payments.repository import PaymentRepository, _cached_repository, get_repository

_names = itertools.count()


def _use_tables(settings: SettingsWrapper, endpoint: str | None) -> PaymentRepository:
    suffix = f"{os.getpid()}-{next(_names)}"
    settings.DYNAMODB_ENDPOINT_URL = endpoint
    settings.DYNAMODB_TABLE = f"Payments-{suffix}"
    settings.DYNAMODB_META_TABLE = f"PaymentsMeta-{suffix}"
    _cached_repository.cache_clear()
    repository = get_repository()
    repository.ensure_tables(wait_seconds=60)
    return repository


def _drop(repository: PaymentRepository) -> None:
    for table in (repository.table, repository.meta_table):
        repository._client.delete_table(TableName=table)


@pytest.fixture
def repo(settings: SettingsWrapper) -> Iterator[PaymentRepository]:
    """A repository on moto's in-process DynamoDB (fast unit tests)."""
    with mock_aws():
        yield _use_tables(settings, None)
    _cached_repository.cache_clear()


@pytest.fixture
def dynamodb_local_repo(
    settings: SettingsWrapper, dynamodb_local_endpoint: str
) -> Iterator[PaymentRepository]:
    """A repository on Amazon's DynamoDB Local (same engine behaviour as AWS)."""
    repository = _use_tables(settings, dynamodb_local_endpoint)
    yield repository
    _drop(repository)
    _cached_repository.cache_clear()


@pytest.fixture(params=["moto", "dynamodb_local"])
def repository(request: pytest.FixtureRequest) -> PaymentRepository:
    """The same test on both engines: moto for speed, DynamoDB Local for fidelity."""
    fixture_name = "repo" if request.param == "moto" else "dynamodb_local_repo"
    result: PaymentRepository = request.getfixturevalue(fixture_name)
    return result
