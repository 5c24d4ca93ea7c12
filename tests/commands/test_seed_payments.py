"""`manage.py seed_payments`: demo payments made through the real write path."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from django.core.management import call_command

from payments import dynamo
from payments.dynamo import Dynamo
from tests.factories import ALICE


def test_demo_payments_have_links_attempts_and_statistics_that_agree(repo: Dynamo) -> None:
    out = io.StringIO()
    call_command("seed_payments", "--user", ALICE, "--count", "40", "--seed", "5", stdout=out)

    assert "Created 40 demo payments" in out.getvalue()
    payments = list(dynamo.payment_iter(repo, user_id=ALICE))
    assert len(payments) == 40
    assert all(p.payment_link_id for p in payments)
    assert any(len(p.attempts) == 2 for p in payments)  # a failed try, then a paid one
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


def test_demo_payments_are_searchable_by_reference_and_payer(repo: Dynamo) -> None:
    call_command(
        "seed_payments", "--user", ALICE, "--count", "10", "--seed", "3", stdout=io.StringIO()
    )
    payments = list(dynamo.payment_iter(repo, user_id=ALICE))
    for payment in payments[:3]:
        for query in (payment.reference, payment.payer_name or payment.reference):
            found = dynamo.payment_search(repo, user_id=ALICE, query=query, page_size=100)
            assert payment.payment_id in [p.payment_id for p in found.items], query
