"""Fixtures shared by the whole suite.

Generic part (devtools/, the test harness): dummy AWS credentials for every test, and a
session-wide Amazon DynamoDB Local in memory on a free port. Tests that use
`dynamodb_local_endpoint` are marked `dynamodb_local` automatically, so
`pytest -m "not dynamodb_local"` leaves them out.

Shared part: an empty Django cache per test, the faked TrueLayer API (`truelayer`) and webhook
signer (`signer`), a signed-in merchant (`alice`) and the simulator switched on (`simulator_on`).

DynamoDB Local needs Java 17+ and npm. When it cannot start, its tests are skipped with the reason,
except in CI (CI=true), where they fail: CI must never pass by skipping the real database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from devtools import dynamodb_local
from tests.factories import ALICE, sign_in
from tests.truelayer.fakes import signer as signer  # noqa: F401  (fixture, for every test)
from tests.truelayer.fakes import truelayer as truelayer  # noqa: F401  (fixture, for every test)

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skips locally; fails in CI, where every part of the suite must really run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "dynamodb_local_endpoint" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dynamodb_local)


@pytest.fixture(scope="session", autouse=True)
def dummy_aws_env() -> Iterator[None]:
    """Dummy credentials and region for every test: nothing in the suite can reach real AWS."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in dynamodb_local.DUMMY_AWS_ENV.items():
            mp.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN"):
            mp.delenv(key, raising=False)
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


@pytest.fixture(scope="session")
def dynamodb_local_endpoint(
    dummy_aws_env: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of Amazon's DynamoDB Local, in memory, started once per test session (per xdist
    worker) on a free port, and stopped (SIGTERM, then SIGKILL) at the end."""
    log_path = tmp_path_factory.mktemp("dynamodb-local") / "dynamodb-local.log"
    try:
        server = dynamodb_local.start_on_free_port(None, log_path=log_path)
    except dynamodb_local.DynamoDBLocalError as exc:
        skip_or_fail(f"DynamoDB Local could not start: {exc}")
        raise AssertionError("unreachable") from exc
    try:
        yield server.endpoint_url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dynamodb_local_client(dynamodb_local_endpoint: str) -> Any:
    """A low-level boto3 DynamoDB client for DynamoDB Local (dummy credentials)."""
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local_endpoint,
        region_name=dynamodb_local.DUMMY_AWS_ENV["AWS_REGION"],
        aws_access_key_id=dynamodb_local.DUMMY_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=dynamodb_local.DUMMY_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """TrueLayer tokens, JWKS and sign-in state live in Django's cache: every test starts
    without them."""
    cache.clear()


@pytest.fixture
def alice(client: Client, db: None) -> Client:
    """The test client, signed in as the merchant ALICE."""
    sign_in(client, ALICE)
    return client


@pytest.fixture
def simulator_on(settings: SettingsWrapper, db: None) -> None:
    """Simulator mode as `make run` has it (DEBUG on); links point at the test client's host.
    A live-server test sets `TRUELAYER_SIMULATOR_BASE_URL` to its own URL after this."""
    settings.DEBUG = True
    settings.TRUELAYER_MODE = "simulator"
    settings.TRUELAYER_PROVIDER = "simulator.provider.SimulatorProvider"
    settings.TRUELAYER_LOCAL_JWKS = {settings.TRUELAYER_SIMULATOR_JKU: "simulator.keys.public_jwks"}
    settings.TRUELAYER_SIMULATOR_BASE_URL = "http://testserver"
    settings.TRUELAYER_WEBHOOK_JKU_ALLOWLIST = [settings.TRUELAYER_SIMULATOR_JKU]


# =========================================================================================
# Data-layer fixtures (payments/dynamo owner): `Dynamo` fixtures parametrized over moto
# and DynamoDB Local live in tests/dynamodb_fixtures.py. Build on `dynamodb_local_endpoint` above.
# =========================================================================================
