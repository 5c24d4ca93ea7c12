"""`/healthz`: what the load balancer asks every few seconds."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from payments.dynamo import Dynamo
from payments_dashboard import health


def test_healthy_when_the_database_and_both_tables_answer(
    client: Client, dynamodb_local_repo: Dynamo, db: None
) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "dynamodb": "ok"},
    }
    assert response["Cache-Control"] == "no-store"


def test_a_missing_table_makes_the_server_unhealthy(
    client: Client, dynamodb_local_repo: Dynamo, db: None, settings: SettingsWrapper
) -> None:
    settings.DYNAMODB_META_TABLE = "NoSuchTable"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "dynamodb": "failed (TableMissing)",  # the data layer names it in its own terms
    }


def test_unreachable_dynamodb_answers_503_within_the_timeout(
    client: Client, db: None, settings: SettingsWrapper
) -> None:
    # Nothing listens on port 9 (discard): the connection is refused at once or times out.
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.HEALTHZ_TIMEOUT_SECONDS = 1

    started = time.monotonic()
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["dynamodb"] != "ok"
    assert time.monotonic() - started < 3


def test_a_hung_database_answers_503_at_the_deadline(
    client: Client,
    dynamodb_local_repo: Dynamo,
    db: None,
    settings: SettingsWrapper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    def hangs() -> None:
        release.wait(30)

    # A deadline the other check meets even on a busy CI machine (two cores, eight processes).
    settings.HEALTHZ_TIMEOUT_SECONDS = 3
    client.get("/healthz")  # the DynamoDB client is made once per process, not at each check
    monkeypatch.setitem(health.CHECKS, "database", hangs)
    started = time.monotonic()
    try:
        response = client.get("/healthz")
    finally:
        release.set()

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "no answer within 3 s", "dynamodb": "ok"}
    assert time.monotonic() - started < 5  # at the deadline, not when the database answers


def test_healthz_answers_any_host_over_plain_http_without_a_session(
    client: Client, dynamodb_local_repo: Dynamo, db: None, settings: SettingsWrapper
) -> None:
    # An AWS load balancer sends the target's private IP as Host, over HTTP.
    settings.SECURE_SSL_REDIRECT = True
    response: Any = client.get("/healthz", HTTP_HOST="10.0.3.17:8000")

    assert response.status_code == 200
    assert "Set-Cookie" not in response


def test_healthz_refuses_a_post(client: Client) -> None:
    response = client.post("/healthz")

    assert response.status_code == 405
