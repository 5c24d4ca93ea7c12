from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from payments import dynamo
from payments.domain import PaymentStatus as S
from payments.domain import Totals
from payments.dynamo import Dynamo
from payments.lifecycle import AttemptSeen, LinkDisabled, Observation
from payments.lifecycle import AttemptStatus as A
from tests.factories import ALICE, BOB

START = datetime(2026, 2, 26, 0, 0, tzinfo=UTC)


def _brute_force(repo: Dynamo, start: datetime, end: datetime) -> dict[tuple[S, str], Totals]:
    totals: dict[tuple[S, str], Totals] = defaultdict(Totals)
    for payment in dynamo.payment_iter(repo, user_id=ALICE):
        if start <= payment.created_at < end:
            totals[(payment.status, payment.currency)] += Totals(1, payment.amount)
    return dict(totals)


def _random_history(repo: Dynamo, seed: int, n: int) -> None:
    rng = random.Random(seed)
    for i in range(n):
        payment = dynamo.payment_create(
            repo,
            user_id=ALICE,
            amount=Decimal(rng.randint(1, 100_000)) / 100,
            currency=rng.choice(["GBP", "EUR"]),
            reference=f"R{i}",
            now=START + timedelta(minutes=rng.randint(0, 60 * 24 * 9)),
        )
        for _ in range(rng.randint(0, 4)):
            # Random news in any order: two attempts, any status, sometimes the link closing.
            seen: Observation = (
                LinkDisabled(rng.choice(["expired", "fulfilled"]), START)
                if rng.random() < 0.2
                else AttemptSeen(
                    f"{payment.payment_id}-{rng.randint(1, 2)}", rng.choice(list(A)), START
                )
            )
            dynamo.payment_observe(
                repo,
                user_id=ALICE,
                payment_id=payment.payment_id,
                observation=seen,
                source="r",
            )
    dynamo.payment_create(
        repo, user_id=BOB, amount="99", currency="GBP", reference="BOB", now=START
    )


def test_statistics_equal_a_brute_force_count_over_many_ranges(
    repository: Dynamo,
) -> None:
    _random_history(repository, seed=7, n=60)
    ranges = [
        (START, START + timedelta(days=10)),  # whole days only
        (START + timedelta(hours=5), START + timedelta(days=3, hours=7)),  # ragged edges
        (START + timedelta(hours=30), START + timedelta(hours=41)),  # within one day
        (START + timedelta(days=2), START + timedelta(days=2, hours=1)),  # one hour
    ]
    for start, end in ranges:
        stats = dynamo.stats_for_range(repository, user_id=ALICE, start=start, end=end)
        assert stats.totals == _brute_force(repository, start, end), (start, end)


def test_statistics_cost_follows_the_days_in_the_range(repository: Dynamo) -> None:
    _random_history(repository, seed=3, n=40)
    stats = dynamo.stats_for_range(
        repository,
        user_id=ALICE,
        start=START + timedelta(hours=3),
        end=START + timedelta(days=8, hours=2),
    )
    # 7 whole days + 21 + 2 edge hours, read in three queries, however many payments there are.
    assert stats.requests == 3
    assert stats.items_read <= 7 + 21 + 2


def test_daily_series_adds_up_to_the_totals_in_the_merchants_zone(
    repository: Dynamo,
) -> None:
    _random_history(repository, seed=11, n=30)
    london = ZoneInfo("Europe/London")
    start = datetime(2026, 2, 27, tzinfo=london)
    end = datetime(2026, 3, 4, tzinfo=london)
    days = dynamo.stats_daily(repository, user_id=ALICE, start=start, end=end, tz=london)
    assert [d.day.isoformat() for d in days][0] == "2026-02-27" and len(days) == 5
    summed: dict[tuple[S, str], Totals] = defaultdict(Totals)
    for day in days:
        for key, value in day.totals.items():
            summed[key] += value
    assert dict(summed) == _brute_force(repository, start, end)
