"""The app talking to DynamoDB Local through `DelayingProxy`, with a 1 s client timeout and two
attempts per request (DYNAMODB_MAX_ATTEMPTS: the code reads it from settings), so a late answer
costs about a second of wall time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import dynamo
from payments.dynamo import Dynamo
from tests.dynamodb_fixtures import _use_tables
from tests.reliability.proxy import DelayingProxy

TIMEOUT = 1  # DYNAMODB_TIMEOUT_SECONDS in these tests
LATE = 1.6  # seconds an answer is held: past TIMEOUT


@pytest.fixture
def proxy(dynamodb_local_endpoint: str) -> Iterator[DelayingProxy]:
    with DelayingProxy(dynamodb_local_endpoint) as running:
        yield running


@pytest.fixture
def slow_settings(settings: SettingsWrapper) -> SettingsWrapper:
    settings.DYNAMODB_TIMEOUT_SECONDS = TIMEOUT
    settings.DYNAMODB_MAX_ATTEMPTS = 2
    return settings


@pytest.fixture
def proxied(slow_settings: SettingsWrapper, proxy: DelayingProxy) -> Iterator[Dynamo]:
    """Fresh tables, and the app's `get_dynamo()`, behind the proxy."""
    db = _use_tables(slow_settings, proxy.url)
    yield db
    proxy.clear()
    dynamo.tables_drop(db)
    dynamo.forget_dynamo()
