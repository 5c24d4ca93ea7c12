"""Links stored by the one-attempt simulator still open after migration 0002."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD = [("simulator", "0001_initial")]
NEW = [("simulator", "0002_attempts_and_webhooks")]


@pytest.fixture
def back_to_latest() -> Iterator[None]:
    """Whatever happens, the database ends at the latest migrations for the tests after."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_old_links_keep_their_reason_and_gain_their_expiry() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(OLD)
    old_apps = executor.loader.project_state(OLD).apps
    Link = old_apps.get_model("simulator", "SimulatedLink")
    Payment = old_apps.get_model("simulator", "SimulatedPayment")
    body = {"expires_at": "2026-11-25T10:00:00.000Z", "payment_configuration": {}}
    paid = Link.objects.create(
        link_id="sim-link-paid",
        idempotency_key="k1",
        request_body=json.dumps(body),
        status="disabled",
        disablement_reason="payment_completed",
    )
    Payment.objects.create(payment_id="sim-pay-1", link=paid, status="executed")
    Link.objects.create(
        link_id="sim-link-expired",
        idempotency_key="k2",
        request_body=json.dumps({"payment_configuration": {}}),
        status="disabled",
        disablement_reason="expired",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(NEW)

    new_apps = executor.loader.project_state(NEW).apps
    Link = new_apps.get_model("simulator", "SimulatedLink")
    Payment = new_apps.get_model("simulator", "SimulatedPayment")
    paid = Link.objects.get(link_id="sim-link-paid")
    assert paid.disabled_reason == "fulfilled"
    assert paid.expires_at.isoformat() == "2026-11-25T10:00:00+00:00"
    assert Payment.objects.get(payment_id="sim-pay-1").executed_at is not None
    expired = Link.objects.get(link_id="sim-link-expired")
    assert (expired.disabled_reason, expired.expires_at) == ("expired", None)
