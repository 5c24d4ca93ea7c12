"""One busy merchant: many writers at once, with transactions that conflict as they do on AWS.

DynamoDB Local serialises transactions, so these tests put `devtools.transaction_conflicts` in
front of it: a transaction that touches an item another transaction is writing is cancelled with
`TransactionConflict`. Under that model every payment must still be written, and the statistics
must still equal a brute-force count of the payments (the property), whichever shards the
aggregates were spread over.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError
from pytest_django.fixtures import Settings as SettingsWrapper

from devtools.transaction_conflicts import conflicting
from payments import dynamo
from payments.domain import PaymentStatus as S
from payments.domain import Totals
from payments.dynamo import Dynamo, shards
from payments.dynamo.schema import DAY, stats_pk
from tests.factories import ALICE, observations_for

LONDON = ZoneInfo("Europe/London")
DAY_ONE = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
OUTCOMES = [S.PENDING, S.AUTHORIZING, S.EXECUTED, S.SETTLED, S.FAILED, S.EXPIRED]


@pytest.fixture(autouse=True)
def fresh_shards(settings: SettingsWrapper) -> Iterator[None]:
    settings.MERCHANT_TIME_ZONE = "Europe/London"
    shards.forget_hot()
    yield
    shards.forget_hot()


def _brute_force(db: Dynamo) -> dict[tuple[S, str], Totals]:
    totals: dict[tuple[S, str], Totals] = {}
    for payment in dynamo.payment_iter(db, user_id=ALICE):
        key = (payment.status, payment.currency)
        totals[key] = totals.get(key, Totals()) + Totals(1, payment.amount)
    return totals


def _write_one(db: Dynamo, seed: int) -> None:
    rng = random.Random(seed)
    payment = dynamo.payment_create(
        db,
        user_id=ALICE,
        amount=Decimal(rng.randint(100, 9_999)) / 100,
        currency=rng.choice(["GBP", "EUR"]),
        reference=f"HOT {seed}",
        now=DAY_ONE + timedelta(seconds=rng.randint(0, 3600)),
    )
    for observation in observations_for(payment, rng.choice(OUTCOMES), at=DAY_ONE):
        dynamo.payment_observe(
            db,
            user_id=ALICE,
            payment_id=payment.payment_id,
            observation=observation,
            source="hot",
        )


def test_the_double_cancels_a_transaction_on_an_item_another_one_is_writing(
    dynamodb_local_repo: Dynamo,
) -> None:
    db, double = conflicting(dynamodb_local_repo, hold=0.5)
    client: Any = db.client

    def update(value: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": db.meta_table,
                "Key": {"pk": {"S": "STATS#DAY#x"}, "sk": {"S": "2026-03-10#00"}},
                "UpdateExpression": "ADD #c :v",
                "ExpressionAttributeNames": {"#c": "c#pending#GBP"},
                "ExpressionAttributeValues": {":v": {"N": str(value)}},
            }
        }

    other = {"Put": {"TableName": db.meta_table, "Item": {"pk": {"S": "other"}, "sk": {"S": "-"}}}}
    started = threading.Event()

    def slow_first() -> None:
        started.set()
        client.transact_write_items(TransactItems=[update(1)])

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(slow_first)
        started.wait()
        threading.Event().wait(0.2)  # the first transaction is now holding the item
        with pytest.raises(ClientError) as refused:
            client.transact_write_items(TransactItems=[other, update(1)])
        first.result()
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = refused.value.response.get("CancellationReasons", [])
    assert [r.get("Code") for r in reasons] == ["None", "TransactionConflict"]
    assert double.conflicts == 1
    # Once the first one is done, the same transaction goes through.
    client.transact_write_items(TransactItems=[other, update(1)])


def test_one_busy_merchants_concurrent_writes_all_land_and_statistics_equal_a_count(
    dynamodb_local_repo: Dynamo,
) -> None:
    db, double = conflicting(dynamodb_local_repo, hold=0.01)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda seed: _write_one(db, seed), range(96)))
    # The model bit: writers collided on the day's aggregate items, and were spread out.
    assert double.conflicts > 0
    expected = _brute_force(dynamodb_local_repo)
    assert sum(t.count for t in expected.values()) == 96
    assert dynamo.stats_for_range(dynamodb_local_repo, user_id=ALICE).totals == expected
    day = DAY_ONE.astimezone(LONDON).date()
    period = dynamo.stats_period(
        dynamodb_local_repo,
        user_id=ALICE,
        start=datetime.combine(day, time.min, tzinfo=LONDON),
        end=datetime.combine(day + timedelta(days=1), time.min, tzinfo=LONDON),
    )
    assert period.stats.totals == expected
    # One Query, at most one item per shard for the busy day.
    assert period.stats.requests == 1
    assert 1 < period.stats.items_read <= shards.SHARDS


def test_a_quiet_day_keeps_one_item_however_busy_another_day_was(
    dynamodb_local_repo: Dynamo,
) -> None:
    db, _double = conflicting(dynamodb_local_repo, hold=0.01)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda seed: _write_one(db, seed), range(24)))
    quiet = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    for i in range(3):
        dynamo.payment_create(
            db, user_id=ALICE, amount="1.00", currency="GBP", reference=f"Q{i}", now=quiet
        )
    items = dynamodb_local_repo.client.query(
        TableName=db.meta_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :day)",
        ExpressionAttributeValues={
            ":pk": {"S": stats_pk(DAY, ALICE)},
            ":day": {"S": date(2026, 3, 12).isoformat()},
        },
    )["Items"]
    assert [item["sk"]["S"] for item in items] == ["2026-03-12#00"]
