from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import dynamo
from payments.domain import PaymentStatus as S
from payments.domain import PaymentValidationError, Totals
from payments.dynamo import Dynamo, shards
from payments.dynamo.schema import DAY, MONTH, stats_pk
from payments.lifecycle import AttemptSeen, LinkDisabled, Observation
from payments.lifecycle import AttemptStatus as A
from tests.factories import ALICE, BOB

LONDON = ZoneInfo("Europe/London")
# Late January to early April: whole months inside, ragged month edges, and the clock change.
START = datetime(2026, 1, 20, 0, 0, tzinfo=UTC)
SPAN_MINUTES = 60 * 24 * 75


def _local(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def _brute_force(
    repo: Dynamo, first: date | None, last: date | None
) -> dict[tuple[S, str], Totals]:
    """Count the payments themselves, by their local (London) creation day."""
    totals: dict[tuple[S, str], Totals] = defaultdict(Totals)
    for payment in dynamo.payment_iter(repo, user_id=ALICE):
        day = payment.created_at.astimezone(LONDON).date()
        if (first is None or first <= day) and (last is None or day <= last):
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
            now=START + timedelta(minutes=rng.randint(0, SPAN_MINUTES)),
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


@pytest.fixture
def london(settings: SettingsWrapper) -> None:
    settings.MERCHANT_TIME_ZONE = "Europe/London"
    shards.forget_hot()  # no period left hot by another test's conflicts: writes go to shard 0


def test_statistics_equal_a_brute_force_count_over_many_ranges(
    repository: Dynamo, london: None
) -> None:
    _random_history(repository, seed=7, n=70)
    ranges: list[tuple[date | None, date | None]] = [
        (date(2026, 1, 20), date(2026, 1, 29)),  # days of one month
        (date(2026, 1, 25), date(2026, 3, 3)),  # ragged edges around a whole month
        (date(2026, 2, 1), date(2026, 3, 31)),  # whole months only (across the clock change)
        (date(2026, 2, 27), date(2026, 3, 2)),  # two months, no whole one
        (date(2026, 3, 14), date(2026, 3, 14)),  # one day
        (None, date(2026, 3, 10)),  # since the first payment
        (date(2026, 2, 10), None),  # up to now
        (None, None),  # all time
    ]
    for first, last in ranges:
        stats = dynamo.stats_for_range(
            repository,
            user_id=ALICE,
            start=_local(first) if first else None,
            end=_local(last + timedelta(days=1)) if last else None,
        )
        assert stats.totals == _brute_force(repository, first, last), (first, last)
        period_days = (
            dynamo.stats_period(
                repository,
                user_id=ALICE,
                start=_local(first),
                end=_local(last + timedelta(days=1)),
            )
            if first and last
            else None
        )
        if period_days is not None:
            assert period_days.stats.totals == stats.totals, (first, last)


def test_a_ragged_range_counts_whole_local_days(repository: Dynamo, london: None) -> None:
    # 23:30 UTC on 31 March is 00:30 on 1 April in London (summer time).
    late = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    dynamo.payment_create(
        repository, user_id=ALICE, amount="5.00", currency="GBP", reference="LATE", now=late
    )
    stats = dynamo.stats_for_range(
        repository,
        user_id=ALICE,
        start=datetime(2026, 4, 1, 9, 15, tzinfo=LONDON),
        end=datetime(2026, 4, 1, 10, 0, tzinfo=LONDON),
    )
    assert stats.start == _local(date(2026, 4, 1))
    assert stats.end == _local(date(2026, 4, 2))
    assert stats.totals == {(S.PENDING, "GBP"): Totals(1, Decimal("5.00"))}
    march = dynamo.stats_for_range(
        repository,
        user_id=ALICE,
        start=_local(date(2026, 3, 1)),
        end=_local(date(2026, 4, 1)),
    )
    assert march.totals == {}


def test_days_follow_the_merchants_time_zone_setting(
    repository: Dynamo, settings: SettingsWrapper
) -> None:
    settings.MERCHANT_TIME_ZONE = "Pacific/Auckland"
    auckland = ZoneInfo("Pacific/Auckland")
    # 20:00 UTC on 1 March is 09:00 on 2 March in Auckland.
    dynamo.payment_create(
        repository,
        user_id=ALICE,
        amount="7.00",
        currency="GBP",
        reference="NZ",
        now=datetime(2026, 3, 1, 20, 0, tzinfo=UTC),
    )
    days = dynamo.stats_daily(
        repository,
        user_id=ALICE,
        start=datetime(2026, 3, 1, tzinfo=auckland),
        end=datetime(2026, 3, 4, tzinfo=auckland),
        tz=auckland,
    )
    assert [(d.day.isoformat(), sum(t.count for t in d.totals.values())) for d in days] == [
        ("2026-03-01", 0),
        ("2026-03-02", 1),
        ("2026-03-03", 0),
    ]


def test_the_statistics_page_reads_one_item_per_day_at_any_history_size(
    repository: Dynamo, london: None
) -> None:
    _random_history(repository, seed=3, n=50)
    period = dynamo.stats_period(
        repository,
        user_id=ALICE,
        start=_local(date(2026, 2, 1)),
        end=_local(date(2026, 3, 3)),
    )
    # 30 days: one Query, at most one item per day (no shards without conflicts).
    assert len(period.days) == 30
    assert period.stats.requests == 1
    assert 0 < period.stats.items_read <= 30


def test_all_time_reads_one_item_per_month_of_history(repository: Dynamo, london: None) -> None:
    _random_history(repository, seed=5, n=40)
    stats = dynamo.stats_for_range(repository, user_id=ALICE)
    months = {
        p.created_at.astimezone(LONDON).strftime("%Y-%m")
        for p in dynamo.payment_iter(repository, user_id=ALICE)
    }
    assert stats.requests == 1
    assert stats.items_read == len(months) <= 4  # January to early April
    assert stats.count == 40
    assert stats.totals == _brute_force(repository, None, None)
    long_range = dynamo.stats_for_range(
        repository, user_id=ALICE, start=_local(date(2026, 1, 25)), end=_local(date(2026, 4, 2))
    )
    # Days at the edges (25–31 Jan, 1 Apr), February and March from their month items.
    assert long_range.requests == 3
    assert long_range.items_read <= 7 + 1 + 2


def test_each_write_updates_one_day_and_one_month_item_and_no_hourly_ones(
    repository: Dynamo, london: None
) -> None:
    dynamo.payment_create(
        repository,
        user_id=ALICE,
        amount="3.00",
        currency="EUR",
        reference="ONE",
        now=datetime(2026, 2, 3, 12, 0, tzinfo=UTC),
    )
    scanned = repository.client.scan(TableName=repository.meta_table)["Items"]
    stats_keys = sorted(
        (item["pk"]["S"], item["sk"]["S"])
        for item in scanned
        if item["pk"]["S"].startswith("STATS#")
    )
    assert stats_keys == [
        (stats_pk(DAY, ALICE), "2026-02-03#00"),
        (stats_pk(MONTH, ALICE), "2026-02#00"),
    ]


def test_shards_of_a_day_are_summed_before_anything_is_dropped(
    repository: Dynamo, london: None
) -> None:
    """A status change may add to one shard and subtract from another: the day's totals are
    the sum of its shards (a shard alone may hold a count of 0 with an amount, or -1)."""
    for sk, counters in (
        ("2026-02-03#00", {"c#pending#GBP": 1, "a#pending#GBP": Decimal("10.00")}),
        ("2026-02-03#05", {"c#pending#GBP": 1, "a#pending#GBP": Decimal("4.00")}),
        (
            "2026-02-03#06",
            {
                "c#pending#GBP": -1,
                "a#pending#GBP": Decimal("-10.00"),
                "c#settled#GBP": 1,
                "a#settled#GBP": Decimal("10.00"),
            },
        ),
    ):
        item = {"pk": {"S": stats_pk(DAY, ALICE)}, "sk": {"S": sk}}
        item |= {name: {"N": str(value)} for name, value in counters.items()}
        repository.client.put_item(TableName=repository.meta_table, Item=item)
    period = dynamo.stats_period(
        repository, user_id=ALICE, start=_local(date(2026, 2, 3)), end=_local(date(2026, 2, 4))
    )
    assert period.stats.totals == {
        (S.PENDING, "GBP"): Totals(1, Decimal("4.00")),
        (S.SETTLED, "GBP"): Totals(1, Decimal("10.00")),
    }
    assert period.stats.items_read == 3 and period.stats.requests == 1


def test_bad_ranges_are_refused_with_a_clear_message(repository: Dynamo) -> None:
    with pytest.raises(PaymentValidationError, match="after its start"):
        dynamo.stats_for_range(
            repository, user_id=ALICE, start=_local(date(2026, 2, 3)), end=_local(date(2026, 2, 3))
        )
    with pytest.raises(PaymentValidationError, match="time zone"):
        dynamo.stats_for_range(repository, user_id=ALICE, start=datetime(2026, 2, 3), end=None)


def test_all_time_has_printable_bounds(repository: Dynamo, london: None) -> None:
    stats = dynamo.stats_for_range(repository, user_id=ALICE)
    assert stats.count == 0 and stats.requests == 1
    for moment in (stats.start, stats.end):
        moment.astimezone(ZoneInfo("Pacific/Kiritimati")).astimezone(LONDON)  # no overflow
    assert stats.start.year == 1970 and stats.end.year > 2100
