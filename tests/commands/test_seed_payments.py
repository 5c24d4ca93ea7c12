"""`manage.py seed_payments`: demo payments made through the same services as real ones, whose
timelines, attempts, links and times tell one consistent story."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from payments.lifecycle import FINAL_STATUSES
from tests.factories import ALICE


def seed(count: int, *extra: str) -> str:
    out = io.StringIO()
    call_command("seed_payments", "--user", ALICE, "--count", str(count), *extra, stdout=out)
    return out.getvalue()


def test_demo_payments_have_links_attempts_and_statistics_that_agree(
    repo: Dynamo, simulator_on: None
) -> None:
    assert "Created 30 demo payments" in seed(30, "--seed", "5")
    payments = list(dynamo.payment_iter(repo, user_id=ALICE))
    assert len(payments) == 30
    assert all(p.payment_link_id.startswith("sim-link-") for p in payments)  # the simulator's
    assert any(len(p.attempts) == 2 for p in payments)  # a failed try, then a paid one
    assert any(p.payer_email for p in payments)
    assert all(p.status == p.lifecycle.status for p in payments)  # stored = derived
    stats = dynamo.stats_for_range(
        repo,
        user_id=ALICE,
        start=datetime(2000, 1, 1, tzinfo=UTC),
        end=datetime(2100, 1, 1, tzinfo=UTC),
    )
    counted = {k: v.count for k, v in stats.totals.items() if v.count}
    brute: dict[tuple[object, str], int] = {}
    for p in payments:
        brute[(p.status, p.currency)] = brute.get((p.status, p.currency), 0) + 1
    assert counted == brute


def test_demo_payments_are_searchable_by_reference_and_payer(
    repo: Dynamo, simulator_on: None
) -> None:
    seed(10, "--seed", "3")
    payments = list(dynamo.payment_iter(repo, user_id=ALICE))
    for payment in payments[:3]:
        for query in (payment.reference, payment.payer_name or payment.reference):
            found = dynamo.payment_search(repo, user_id=ALICE, query=query, page_size=100)
            assert payment.payment_id in [p.payment_id for p in found.items], query


def test_every_timeline_is_in_order_in_the_past_and_agrees_with_link_and_times(
    repo: Dynamo, simulator_on: None
) -> None:
    seed(30, "--seed", "11", "--days", "21")
    now = datetime.now(UTC)
    rows = list(dynamo.payment_iter(repo, user_id=ALICE))
    assert min(p.created_at for p in rows) < now - timedelta(days=7)  # over past weeks
    # A list row carries no timeline (lean reads): each payment whole, as the detail page reads it.
    payments = [dynamo.payment_get(repo, user_id=ALICE, payment_id=r.payment_id) for r in rows]
    for p in payments:
        assert p is not None
        times = [change.at for change in p.history]
        assert times == sorted(times), p.payment_id
        assert all(p.created_at <= t <= now for t in times), p.payment_id
        assert p.expires_at == p.created_at + timedelta(hours=24)
        assert p.updated_at == max([p.created_at, *times])  # the last thing that happened
        for attempt in p.attempts:
            assert attempt.created_at is not None and attempt.created_at >= p.created_at
        if p.status in (PaymentStatus.EXECUTED, PaymentStatus.SETTLED):
            assert p.lifecycle.link.disabled_reason == "fulfilled"
        if p.status is PaymentStatus.EXPIRED:
            assert p.lifecycle.link.disabled_at == p.expires_at
        if not p.lifecycle.link.closed:
            # Nobody has paid yet and the link is still open: it has not expired yet.
            assert p.status not in FINAL_STATUSES and p.expires_at > now, p.payment_id


def test_it_refuses_to_make_real_truelayer_links(repo: Dynamo) -> None:
    with pytest.raises(CommandError, match="never from TrueLayer"):
        seed(1)
