"""Issue 11: a DynamoDB answer that arrives after the client's timeout makes botocore retry a
write that already happened. Through `DelayingProxy` (every request reaches DynamoDB Local at
once; chosen answers come back late), each write must recognise its own earlier success and the
merchant must be told the truth."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import responses
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import dynamo
from payments.domain import PaymentStatus, utc_now
from payments.dynamo import Dynamo, EventReceipt
from payments.dynamo.client import request_token
from payments.dynamo.parked import ParkedEvent
from payments.errors import DatabaseUnavailable
from payments.lifecycle import AttemptSeen, AttemptStatus
from tests.dynamodb_fixtures import _use_tables
from tests.factories import ALICE
from tests.reliability.conftest import LATE
from tests.reliability.proxy import DelayingProxy
from tests.truelayer.fakes import LINKS_URL, link_created, link_posts

TRANSACT = "TransactWriteItems"
FORM = {"amount": "12.50", "currency": "GBP", "reference": "INV-1", "submission_token": "b" * 32}


def _exactly_one_payment_with_its_link(db: Dynamo) -> str:
    """The merchant's list and statistics both count one payment, and it has its link."""
    (listed,) = dynamo.payment_list(db, user_id=ALICE).items
    assert listed.payment_link_id == "link-1"
    # A list row carries no link URL (issue 15: lists read only what a row shows).
    payment = dynamo.payment_get(db, user_id=ALICE, payment_id=listed.payment_id)
    assert payment is not None and payment.payment_link_url
    now = utc_now()
    stats = dynamo.stats_for_range(
        db, user_id=ALICE, start=now - timedelta(days=1), end=now + timedelta(days=1)
    )
    assert {key: t.count for key, t in stats.totals.items()} == {(PaymentStatus.PENDING, "GBP"): 1}
    assert stats.totals[(PaymentStatus.PENDING, "GBP")].amount == Decimal("12.50")
    return payment.payment_id


# --- init_dynamodb ------------------------------------------------------------------------


def _init_through(proxy: DelayingProxy, settings: SettingsWrapper, name: str, *, late: int) -> str:
    """`init_dynamodb` from empty with the first `late` CreateTable and DescribeTable answers
    held past DYNAMODB_TIMEOUT_SECONDS."""
    settings.DYNAMODB_ENDPOINT_URL = proxy.url
    for operation in ("CreateTable", "DescribeTable"):
        proxy.delay_next(operation, count=late, delay=LATE)
    out = StringIO()
    try:
        call_command("init_dynamodb", "--table", name, "--wait", "60", stdout=out)
    finally:
        proxy.clear()
        db = dynamo.dynamo_from_settings(table=name, meta_table=f"{name}Meta")
        dynamo.tables_drop(db)
    return out.getvalue()


def test_init_dynamodb_from_empty_succeeds_when_control_plane_answers_are_late(
    proxy: DelayingProxy, slow_settings: SettingsWrapper
) -> None:
    output = _init_through(proxy, slow_settings, "InitLate", late=2)

    # Control-plane calls wait longer than DYNAMODB_TIMEOUT_SECONDS: no retry was needed.
    assert proxy.held["CreateTable"] == 2
    assert proxy.forwarded["CreateTable"] == 2
    assert "Created table InitLate;" in output
    assert "Created table InitLateMeta;" in output


def test_init_dynamodb_from_empty_succeeds_when_create_table_is_retried(
    proxy: DelayingProxy, slow_settings: SettingsWrapper
) -> None:
    # Even with a control-plane timeout too short for the late answer, botocore's retry of
    # CreateTable finds the table it made and init_dynamodb finishes.
    slow_settings.DYNAMODB_CONTROL_TIMEOUT_SECONDS = 1

    output = _init_through(proxy, slow_settings, "InitRetried", late=1)

    assert proxy.forwarded["CreateTable"] == 3  # the first table's CreateTable was retried
    assert "Table InitRetried exists; keys and indexes match." in output
    assert "Created table InitRetriedMeta;" in output


# --- creating a payment -------------------------------------------------------------------


def test_create_when_only_the_first_answer_is_late_makes_one_payment_with_its_link(
    alice: Client, proxied: Dynamo, proxy: DelayingProxy, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    proxy.delay_next(TRANSACT, count=1, delay=LATE)

    response = alice.post(reverse("payments:new"), FORM)

    assert proxy.held[TRANSACT] == 1  # the payment's write was answered late and retried
    payment_id = _exactly_one_payment_with_its_link(proxied)
    # Both attempts carried the token derived from the payment, so DynamoDB applied it once.
    # (botocore would fill in a random token per call too; ours also holds across calls.)
    create_token = request_token("create", ALICE, payment_id)
    assert [t for op, _status, t in proxy.log if op == TRANSACT][:2] == [create_token] * 2
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:detail", args=[payment_id])
    page = alice.get(response["Location"]).content.decode()
    assert "Payment created. Send the link to the payer." in page
    assert len(link_posts(truelayer)) == 1


def test_create_when_the_link_write_answer_is_late_stores_the_link_once(
    alice: Client, proxied: Dynamo, proxy: DelayingProxy, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    # The payment's own transaction is fast; the link's (the second) is answered late.
    proxy.delay_next(TRANSACT, count=1, delay=0)  # passes the payment's write untouched
    proxy.delay_next(TRANSACT, count=1, delay=LATE)  # then holds the link's write

    response = alice.post(reverse("payments:new"), FORM)

    assert proxy.held[TRANSACT] == 1
    payment_id = _exactly_one_payment_with_its_link(proxied)
    assert response["Location"] == reverse("payments:detail", args=[payment_id])


def test_create_while_dynamodb_stays_slow_tells_the_truth_and_a_resubmit_finishes_it(
    alice: Client, proxied: Dynamo, proxy: DelayingProxy, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    proxy.delay_all(TRANSACT, delay=LATE)

    response = alice.post(reverse("payments:new"), FORM)

    # Every attempt reached DynamoDB and none was answered in time: the merchant is told so.
    assert response.status_code == 503
    page = response.content.decode()
    assert "could not confirm whether the payment was saved" in page
    assert "Check the payments list" in page
    assert "submitting this same form again is safe" in page
    assert "Nothing was changed" not in page
    assert f'value="{FORM["submission_token"]}"' in page  # the same token, for the retry
    # The truth it could not confirm: the payment is stored, once, still without a link.
    (stored,) = dynamo.payment_list(proxied, user_id=ALICE).items
    assert not stored.payment_link_id
    assert link_posts(truelayer) == []

    proxy.clear()  # DynamoDB is fast again; the merchant submits the same form
    again = alice.post(reverse("payments:new"), FORM)

    payment_id = _exactly_one_payment_with_its_link(proxied)
    assert payment_id == stored.payment_id
    assert again.status_code == 302
    assert again["Location"] == reverse("payments:detail", args=[payment_id])
    assert len(link_posts(truelayer)) == 1


def test_a_double_submit_after_a_late_answer_keeps_one_link(
    alice: Client, proxied: Dynamo, proxy: DelayingProxy, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    proxy.delay_next(TRANSACT, count=1, delay=LATE)
    alice.post(reverse("payments:new"), FORM)

    again = alice.post(reverse("payments:new"), FORM)

    payment_id = _exactly_one_payment_with_its_link(proxied)
    assert again["Location"] == reverse("payments:detail", args=[payment_id])
    assert len(link_posts(truelayer)) == 1  # the link exists: nothing asked of TrueLayer


# --- the other writes botocore may retry --------------------------------------------------


def test_reads_that_get_no_answer_still_say_nothing_was_changed(
    proxied: Dynamo, proxy: DelayingProxy
) -> None:
    proxy.delay_all("GetItem", delay=LATE)

    with pytest.raises(DatabaseUnavailable) as raised:
        dynamo.payment_get(proxied, user_id=ALICE, payment_id="01J0000000000000000000000")

    assert not raised.value.outcome_unknown
    assert "Nothing was changed" in raised.value.message


def test_a_write_that_gets_no_answer_says_its_outcome_is_unknown(
    proxied: Dynamo, proxy: DelayingProxy
) -> None:
    proxy.delay_all(TRANSACT, delay=LATE)

    with pytest.raises(DatabaseUnavailable) as raised:
        dynamo.payment_create(proxied, user_id=ALICE, amount="5", currency="GBP", reference="X")

    assert raised.value.outcome_unknown
    assert "Nothing was changed" not in raised.value.message
    assert "could not confirm" in raised.value.message


def test_event_mark_recognises_its_own_late_answered_put(
    proxied: Dynamo, proxy: DelayingProxy
) -> None:
    proxy.delay_next("PutItem", count=1, delay=LATE)

    assert dynamo.event_mark(proxied, "evt-late") is True  # the retry found its own item
    assert proxy.forwarded["PutItem"] == 2
    assert dynamo.event_mark(proxied, "evt-late") is False  # a real repeat is still one


def test_reconcile_lease_recognises_its_own_late_answered_put(
    proxied: Dynamo, proxy: DelayingProxy
) -> None:
    now = utc_now()
    proxy.delay_next("PutItem", count=1, delay=LATE)

    assert dynamo.reconcile_lease(proxied, "01JLEASE", now=now) is True
    assert dynamo.reconcile_lease(proxied, "01JLEASE", now=now) is False  # another server


def test_parking_an_event_whose_answer_is_late_parks_it_once(
    proxied: Dynamo, proxy: DelayingProxy
) -> None:
    event = ParkedEvent(
        kind=dynamo.LINK,
        target_id="link-parked",
        event_id="evt-parked",
        event_type="payment_executed",
        body="{}",
        sent_at="2026-11-26T10:00:00Z",
        received_at=utc_now(),
    )
    proxy.delay_next(TRANSACT, count=1, delay=LATE)

    assert dynamo.parked_put(proxied, event) is True  # not mistaken for a redelivery
    assert [e.event_id for e in dynamo.parked_for(proxied, dynamo.LINK, "link-parked")] == [
        "evt-parked"
    ]
    redelivery = replace(event, received_at=event.received_at + timedelta(seconds=5))
    assert dynamo.parked_put(proxied, redelivery) is False


def test_control_plane_client_has_its_own_longer_timeout(
    settings: SettingsWrapper, dynamodb_local_endpoint: str
) -> None:
    settings.DYNAMODB_TIMEOUT_SECONDS = 1
    db = _use_tables(settings, dynamodb_local_endpoint)
    try:
        # botocore's Config sets its options as attributes its stubs do not declare.
        assert getattr(db.client.meta.config, "read_timeout") == 1  # noqa: B009
        assert getattr(db.admin.meta.config, "read_timeout") == 30  # noqa: B009
    finally:
        dynamo.tables_drop(db)
        dynamo.forget_dynamo()


def test_a_webhook_whose_write_is_answered_late_is_applied_once_and_not_called_duplicate(
    proxied: Dynamo, proxy: DelayingProxy
) -> None:
    created = dynamo.payment_create(
        proxied, user_id=ALICE, amount="12.50", currency="GBP", reference="R"
    )
    dynamo.payment_link_set(
        proxied,
        user_id=ALICE,
        payment_id=created.payment_id,
        link_id="link-1",
        link_url="https://x",
        response={},
    )
    receipt = EventReceipt("evt-1", "payment_executed", "2026-11-26T10:00:00Z", utc_now())
    proxy.delay_next(TRANSACT, count=1, delay=LATE)

    observed = dynamo.payment_observe(
        proxied,
        user_id=ALICE,
        payment_id=created.payment_id,
        observation=AttemptSeen("tl-1", AttemptStatus.EXECUTED, utc_now()),
        source="webhook",
        receipt=receipt,
    )

    assert proxy.held[TRANSACT] == 1
    assert observed.applied  # the retry was answered "done", not "duplicate event"
    stored = dynamo.payment_get(proxied, user_id=ALICE, payment_id=created.payment_id)
    assert stored is not None and stored.status is PaymentStatus.EXECUTED
    assert stored.version == 1  # written once
    assert [entry.outcome for entry in stored.webhook_log] == ["applied"]
    now = utc_now()
    stats = dynamo.stats_for_range(
        proxied, user_id=ALICE, start=now - timedelta(days=1), end=now + timedelta(days=1)
    )
    assert {key: t.count for key, t in stats.totals.items()} == {(PaymentStatus.EXECUTED, "GBP"): 1}


def test_any_other_unanswered_write_is_shown_as_unconfirmed_not_as_nothing_changed(
    alice: Client, proxied: Dynamo, proxy: DelayingProxy, truelayer: responses.RequestsMock
) -> None:
    # "Try again" on a payment whose link was never stored: TrueLayer answers, our write does not.
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    created = dynamo.payment_create(
        proxied, user_id=ALICE, amount="12.50", currency="GBP", reference="INV-1"
    )
    proxy.delay_all(TRANSACT, delay=LATE)

    response = alice.post(reverse("payments:retry_link", args=[created.payment_id]))

    assert response.status_code == 503
    page = response.content.decode()
    assert "could not confirm whether the change was saved" in page
    assert "Payments database did not answer" in page
    assert "Nothing was changed" not in page
    proxy.clear()  # the same button again, once DynamoDB is fast: one link, stored once
    alice.post(reverse("payments:retry_link", args=[created.payment_id]))
    _exactly_one_payment_with_its_link(proxied)
