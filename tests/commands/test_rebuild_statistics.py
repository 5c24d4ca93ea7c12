"""`manage.py rebuild_statistics`: the aggregates written again from the payments, in the
merchant's current zone (after MERCHANT_TIME_ZONE changes, and once on upgrade)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import dynamo
from payments.domain import PaymentStatus as S
from payments.domain import Totals
from payments.dynamo import Dynamo
from payments.dynamo.schema import LEGACY_DAILY, LEGACY_HOURLY, stats_pk
from tests.factories import ALICE, BOB, make_payments, merchant_user

AUCKLAND = ZoneInfo("Pacific/Auckland")


def _days(repo: Dynamo, first: date, last: date) -> dict[str, int]:
    tz = AUCKLAND
    period = dynamo.stats_period(
        repo,
        user_id=ALICE,
        start=datetime.combine(first, time.min, tzinfo=tz),
        end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
    )
    return {d.day.isoformat(): sum(t.count for t in d.totals.values()) for d in period.days}


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("rebuild_statistics", *args, stdout=out)
    return out.getvalue()


def test_after_a_zone_change_the_days_follow_the_new_zone(
    repo: Dynamo, settings: SettingsWrapper
) -> None:
    settings.MERCHANT_TIME_ZONE = "Europe/London"
    # 20:00 UTC on 1 and 2 March: London days 1 and 2 March, Auckland days 2 and 3 March.
    make_payments(
        repo, ALICE, 2, step=timedelta(days=1), start=datetime(2026, 3, 1, 20, tzinfo=UTC)
    )
    make_payments(repo, ALICE, 1, statuses=(S.SETTLED,), start=datetime(2026, 3, 2, 9, tzinfo=UTC))
    settings.MERCHANT_TIME_ZONE = "Pacific/Auckland"
    assert _days(repo, date(2026, 3, 1), date(2026, 3, 3)) == {
        "2026-03-01": 1,  # still London's days: stale
        "2026-03-02": 2,
        "2026-03-03": 0,
    }
    report = _run("--user", ALICE, "--dry-run")
    assert "period(s) differed: DAY 2026-03-01" in report and "Would write" in report
    assert _days(repo, date(2026, 3, 1), date(2026, 3, 3))["2026-03-01"] == 1  # dry run

    report = _run("--user", ALICE)
    assert "for 1 merchant(s) and 3 payment(s), days in Pacific/Auckland" in report
    assert _days(repo, date(2026, 3, 1), date(2026, 3, 3)) == {
        "2026-03-01": 0,
        "2026-03-02": 2,  # 09:00 UTC on 2 March (settled) and 20:00 UTC on 1 March
        "2026-03-03": 1,
    }
    all_time = dynamo.stats_for_range(repo, user_id=ALICE)
    assert all_time.totals == {
        (S.PENDING, "GBP"): Totals(2, Decimal("21.00")),
        (S.SETTLED, "GBP"): Totals(1, Decimal("10.00")),
    }
    assert "differed" not in _run("--user", ALICE, "--dry-run")


def test_upgrade_deletes_the_utc_hourly_and_daily_items_of_before(
    repo: Dynamo, settings: SettingsWrapper
) -> None:
    settings.MERCHANT_TIME_ZONE = "Europe/London"
    make_payments(repo, ALICE, 2)
    for grain, sk in ((LEGACY_HOURLY, "2026-01-01T09"), (LEGACY_DAILY, "2026-01-01")):
        repo.client.put_item(
            TableName=repo.meta_table,
            Item={
                "pk": {"S": stats_pk(grain, ALICE)},
                "sk": {"S": sk},
                "c#pending#GBP": {"N": "2"},
            },
        )
    report = _run("--user", ALICE)
    assert "deleted 2 for 1 merchant(s)" in report
    remaining = repo.client.scan(TableName=repo.meta_table)["Items"]
    assert not [i for i in remaining if i["pk"]["S"].startswith(("STATS#H#", "STATS#D#"))]
    assert dynamo.stats_for_range(repo, user_id=ALICE).count == 2


def test_without_user_every_signed_in_merchant_is_rebuilt(repo: Dynamo, db: None) -> None:
    merchant_user(ALICE, "Alice")
    merchant_user(BOB, "Bob")
    make_payments(repo, ALICE, 1)
    make_payments(repo, BOB, 2)
    assert "for 2 merchant(s) and 3 payment(s)" in _run()


def test_an_empty_user_is_refused_with_a_clear_message(repo: Dynamo) -> None:
    with pytest.raises(CommandError, match="--user needs a merchant id"):
        _run("--user", " ")


def test_without_user_business_accounts_are_rebuilt_too(repo: Dynamo, db: None) -> None:
    from accounts.models import MerchantAccount

    business = "acct_01JBUSINESS0000000000000000"
    MerchantAccount.objects.create(id=business, name="Shop Ltd")
    merchant_user(ALICE, "Alice")
    make_payments(repo, business, 2)
    make_payments(repo, ALICE, 1)
    assert "for 2 merchant(s) and 3 payment(s)" in _run()
    assert dynamo.stats_for_range(repo, user_id=business).count == 2
