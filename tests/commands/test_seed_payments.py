"""`manage.py seed_payments`: demo payments made through the same services as real ones, whose
timelines, attempts, links and times tell one consistent story."""

from __future__ import annotations

import io
import json
import random
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from devtools.bulk_load import BulkWriter
from payments import dynamo
from payments.domain import Payment, PaymentStatus
from payments.dynamo import Dynamo
from payments.lifecycle import FINAL_STATUSES
from payments.management.commands import seed_payments as seed_command
from payments.search_tokens import short_id_tail
from tests.factories import ALICE, BOB, make_payments


def seed(count: int, *extra: str) -> str:
    out = io.StringIO()
    call_command("seed_payments", "--user", ALICE, "--count", str(count), *extra, stdout=out)
    return out.getvalue()


def full_payment(repo: Dynamo, payment_id: str) -> Payment:
    found = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
    assert found is not None
    return found


def test_demo_payments_have_links_attempts_and_statistics_that_agree(
    repo: Dynamo, simulator_on: None
) -> None:
    assert "Created 30 demo payments" in seed(30, "--seed", "5")
    rows = list(dynamo.payment_iter(repo, user_id=ALICE))
    assert len(rows) == 30
    payments = [full_payment(repo, r.payment_id) for r in rows]
    assert all(p.facts == r.facts for p, r in zip(payments, rows, strict=True))
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


def _items_of(repo: Dynamo, user_id: str) -> list[str]:
    """Every item (both tables) that names `user_id` or one of its payments, with those ids
    replaced by placeholders, as sorted JSON lines: what two merchants' equal stories share."""
    payments = list(dynamo.payment_iter(repo, user_id=user_id))
    names = {user_id: "<user>"}
    for p in payments:
        names |= {p.payment_id: "<payment>", p.payment_id.lower(): "<payment>"}
        names |= {p.payment_link_id: "<link>", f"w:{short_id_tail(p.payment_id)}": "<short id>"}
    lines = []
    for table in (repo.table, repo.meta_table):
        for page in repo.client.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                item.pop("openShard", None)  # spread by the payment id's hash
                text = json.dumps(item, sort_keys=True)
                if not any(name in text for name in names):
                    continue
                for name, placeholder in names.items():
                    text = text.replace(name, placeholder)
                lines.append(text)
    return sorted(lines)


def test_bulk_written_items_are_exactly_what_the_services_write_one_request_at_a_time(
    repo: Dynamo, simulator_on: None
) -> None:
    """`make seed` sends what the services wrote in bulk (devtools/bulk_load.py): the items it
    stores are the ones the same story stores through DynamoDB request by request."""
    now = datetime.now(UTC)
    for number in range(12):  # every kind of story, some open, some closed
        plan = seed_command._plan(random.Random(number), number, now, days=3)
        seed_command._make(repo, BOB, plan, now)  # request by request
        with BulkWriter(repo) as writer:
            seed_command._make(writer.db, ALICE, plan, now)
        direct, bulk = _items_of(repo, BOB), _items_of(repo, ALICE)
        assert bulk == direct, (number, set(bulk) ^ set(direct))
        for user_id in (ALICE, BOB):  # one payment at a time: placeholders stay unambiguous
            for payment in dynamo.payment_iter(repo, user_id=user_id):
                _forget(repo, user_id, payment.payment_id)


def _forget(repo: Dynamo, user_id: str, payment_id: str) -> None:
    for table in (repo.table, repo.meta_table):
        for page in repo.client.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                text = json.dumps(item)
                if payment_id in text or payment_id.lower() in text or user_id in text:
                    keys = ("userId", "paymentId") if table == repo.table else ("pk", "sk")
                    repo.client.delete_item(TableName=table, Key={k: item[k] for k in keys})


def test_seeding_adds_to_a_merchants_statistics_and_says_what_it_cost(
    repo: Dynamo, simulator_on: None
) -> None:
    make_payments(repo, n=3)  # the merchant already has payments (and statistics)
    first = seed(40, "--seed", "1", "--days", "5")
    seed(25, "--seed", "2", "--days", "5")
    payments = list(dynamo.payment_iter(repo, user_id=ALICE))
    assert len(payments) == 68
    stats = dynamo.stats_for_range(repo, user_id=ALICE, start=None, end=None)
    counted = {k: (v.count, v.amount) for k, v in stats.totals.items() if v.count}
    brute: dict[tuple[object, str], tuple[int, Decimal]] = {}
    for p in payments:
        n, amount = brute.get((p.status, p.currency), (0, Decimal(0)))
        brute[(p.status, p.currency)] = (n + 1, amount + p.amount)
    assert counted == brute
    # About 28 items a payment in batches of 25, and one write per day and month touched:
    # far below the ~11 requests a payment of writing it step by step.
    requests = int(re.search(r"([\d,]+) DynamoDB requests", first)[1].replace(",", ""))  # type: ignore[index]
    assert requests <= 40 * 3


def test_with_dynamodb_down_it_says_so_and_how_much_was_written(
    simulator_on: None, settings: SettingsWrapper
) -> None:
    settings.DYNAMODB_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on discard
    settings.DYNAMODB_TIMEOUT_SECONDS = 1
    settings.DYNAMODB_MAX_ATTEMPTS = 1
    with pytest.raises(CommandError) as refused:
        seed(3)
    message = str(refused.value)
    assert "database" in message.lower() and "At least 0 demo payments were written" in message
