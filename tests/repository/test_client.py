"""The data layer's plumbing: the one retry policy for lost races, and per-call metrics."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from payments import dynamo
from payments.domain import utc_now
from payments.dynamo import Dynamo, Metrics
from payments.dynamo.client import CONFLICT_ATTEMPTS
from payments.errors import Conflict
from payments.lifecycle import AttemptSeen, AttemptStatus
from tests.factories import ALICE, make_payments


def test_a_race_lost_every_time_gives_up_after_the_stated_attempts(
    repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    calls = {"n": 0}

    def always_conflicting(**kwargs: Any) -> None:
        calls["n"] += 1
        raise ClientError(
            {"Error": {"Code": "TransactionConflictException", "Message": "busy"}},
            "TransactWriteItems",
        )

    monkeypatch.setattr(repo.client, "transact_write_items", always_conflicting)
    with pytest.raises(Conflict):
        dynamo.payment_observe(
            repo,
            user_id=ALICE,
            payment_id=payment.payment_id,
            observation=AttemptSeen("a", AttemptStatus.EXECUTED, utc_now()),
            source="t",
        )
    assert calls["n"] == CONFLICT_ATTEMPTS  # one loop, not loops inside loops


def test_each_call_counts_its_own_work(repo: Dynamo) -> None:
    made = make_payments(repo, ALICE, 3)
    one, page = Metrics(), Metrics()
    dynamo.payment_get(repo, user_id=ALICE, payment_id=made[0].payment_id, metrics=one)
    listed = dynamo.payment_list(repo, user_id=ALICE, page_size=2, metrics=page)
    assert (one.requests, one.items_read) == (1, 1)
    assert (page.requests, page.items_read) == (1, 3)  # page size + 1
    assert (listed.requests, listed.items_read) == (page.requests, page.items_read)


def test_a_create_table_that_finds_its_table_made_meanwhile_checks_it_instead(
    repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore retries a CreateTable that timed out; if the first attempt had worked, the
    retry answers ResourceInUse. init_dynamodb then checks the table instead of failing."""
    db = Dynamo(repo.client, table=f"{repo.table}-new", meta_table=f"{repo.meta_table}-new")
    real_create = repo.client.create_table

    def created_then_in_use(**kwargs: Any) -> None:
        real_create(**kwargs)
        raise ClientError(
            {"Error": {"Code": "ResourceInUseException", "Message": "preexisting table"}},
            "CreateTable",
        )

    monkeypatch.setattr(repo.client, "create_table", created_then_in_use)
    reports = dynamo.tables_ensure(db, wait_seconds=30)
    assert [(r.table, r.created, r.problems) for r in reports] == [
        (db.table, False, []),
        (db.meta_table, False, []),
    ]
