"""Row facts: the winning attempt's settlement and the refunds' count and sums, stored beside the
lifecycle by every write so a list row reads four attributes instead of every attempt and refund.

What must hold: a row read from any list, search or live read shows the same facts as the full
payment, after every kind of write; a payment stored before the facts existed shows them too
(its lifecycle is read for them) until `backfill_row_facts` stores them; the backfill is safe
beside live writes and idempotent."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.management import call_command

from payments import dynamo
from payments.domain import Payment
from payments.dynamo import Dynamo, Metrics, row_facts
from payments.dynamo.items import deserialize, payment_key
from payments.dynamo.schema import ROW_FACTS
from payments.lifecycle import (
    AttemptSeen,
    AttemptStatus,
    Refund,
    RefundSeen,
    RefundStatus,
    RowFacts,
    Settlement,
    SettlementFact,
)
from payments.lifecycle.observations import Observation
from tests.factories import ALICE
from tests.webhooks.helpers import payment_with_link

T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)


def observe(repo: Dynamo, payment: Payment, observation: Observation) -> None:
    observed = dynamo.payment_observe(
        repo,
        user_id=payment.user_id,
        payment_id=payment.payment_id,
        observation=observation,
        source="test",
    )
    assert observed.applied


def pending_refund(payment: Payment, minor: int, refund_id: str) -> Refund:
    return Refund(
        refund_id=refund_id,
        status=RefundStatus.PENDING,
        attempt_id=f"tl-{payment.payment_id}",
        amount_minor=minor,
        reference="REFUND",
        idempotency_key=f"key-{refund_id}",
    )


def full(repo: Dynamo, payment: Payment) -> Payment:
    found = dynamo.payment_get(repo, user_id=payment.user_id, payment_id=payment.payment_id)
    assert found is not None
    return found


def rows(repo: Dynamo, payment: Payment, metrics: Metrics | None = None) -> list[Payment]:
    """The payment as every kind of row read shows it: list page, status filter, live rows."""
    page = dynamo.payment_list(repo, user_id=ALICE, metrics=metrics).items
    filtered = dynamo.payment_list(repo, user_id=ALICE, statuses=[full(repo, payment).status])
    live = dynamo.payment_rows_get(repo, user_id=ALICE, payment_ids=[payment.payment_id])
    return [
        next(p for p in found if p.payment_id == payment.payment_id)
        for found in (page, filtered.items, live)
    ]


def assert_rows_agree(repo: Dynamo, payment: Payment) -> RowFacts:
    facts = full(repo, payment).lifecycle.row_facts
    for row in rows(repo, payment):
        assert row.row_facts == facts
        assert row.lifecycle.attempts == () and row.lifecycle.refunds == ()
    return facts


def stored(repo: Dynamo, payment: Payment) -> dict[str, object]:
    raw = repo.client.get_item(
        TableName=repo.table, Key=payment_key(payment.user_id, payment.payment_id)
    )["Item"]
    return dict(deserialize(raw).get(ROW_FACTS, {}))


def forget_row_facts(repo: Dynamo, payment: Payment) -> None:
    """The payment as an earlier version stored it: no row facts."""
    repo.client.update_item(
        TableName=repo.table,
        Key=payment_key(payment.user_id, payment.payment_id),
        UpdateExpression=f"REMOVE {ROW_FACTS}",
    )


def with_pending_refund(repo: Dynamo, minor: int) -> tuple[Payment, str]:
    """An executed payment of 20.00 with one pending refund `r1` of `minor`; its attempt id."""
    payment = payment_with_link(repo, amount="20.00")
    attempt = f"tl-{payment.payment_id}"
    observe(repo, payment, AttemptSeen(attempt, AttemptStatus.EXECUTED, T0))
    dynamo.refund_create(
        repo, payment=full(repo, payment), refund=pending_refund(payment, minor, "r1")
    )
    return payment, attempt


def test_rows_show_the_facts_of_the_full_payment_after_every_kind_of_write(
    repository: Dynamo,
) -> None:
    payment = payment_with_link(repository, amount="20.00")
    assert assert_rows_agree(repository, payment) == RowFacts()
    attempt = f"tl-{payment.payment_id}"
    observe(repository, payment, AttemptSeen(attempt, AttemptStatus.EXECUTED, T0))
    observe(repository, payment, SettlementFact(attempt, "creditable", T0))
    assert assert_rows_agree(repository, payment).settlement is Settlement.CREDITABLE

    executed = full(repository, payment)
    dynamo.refund_create(repository, payment=executed, refund=pending_refund(payment, 500, "r1"))
    dynamo.refund_create(repository, payment=executed, refund=pending_refund(payment, 300, "r2"))
    assert assert_rows_agree(repository, payment) == RowFacts(Settlement.CREDITABLE, 2, 0, 800)

    observe(repository, payment, RefundSeen("r1", attempt, RefundStatus.EXECUTED, T0))
    observe(repository, payment, RefundSeen("r2", attempt, RefundStatus.FAILED, T0))
    observe(repository, payment, AttemptSeen(attempt, AttemptStatus.SETTLED, T0))
    facts = assert_rows_agree(repository, payment)
    assert facts == RowFacts(Settlement.SETTLED_CREDITABLE, 2, 500, 0)
    [row, *_] = rows(repository, payment)
    assert row.settlement_badge == "settled — safe to credit"


def test_a_payment_stored_before_row_facts_shows_them_until_the_backfill_stores_them(
    repository: Dynamo,
) -> None:
    payment, attempt = with_pending_refund(repository, 700)
    observe(repository, payment, SettlementFact(attempt, "stalled", T0))
    other = payment_with_link(repository, n=2)
    expected = full(repository, payment).lifecycle.row_facts
    assert expected == RowFacts(Settlement.STALLED, 1, 0, 700)
    fresh = Metrics()
    rows(repository, payment, fresh)
    forget_row_facts(repository, payment)
    assert stored(repository, payment) == {}

    # Read from its lifecycle: the page costs one BatchGetItem more, and shows the truth.
    older = Metrics()
    for row in rows(repository, payment, older):
        assert row.row_facts == expected
    assert older.requests == fresh.requests + 1

    report = dynamo.row_facts_backfill(repository)
    assert (report.scanned, report.written) == (2, 1)
    assert stored(repository, payment) == {
        "settlement": "stalled",
        "refundCount": 1,
        "refundedMinor": 0,
        "refundPendingMinor": 700,
    }
    again = Metrics()
    assert all(row.row_facts == expected for row in rows(repository, payment, again))
    assert again.requests == fresh.requests
    assert dynamo.row_facts_backfill(repository) == dynamo.RowFactsReport(2, 0)
    assert stored(repository, other)["refundCount"] == 0


def test_the_backfill_corrects_facts_a_write_of_an_earlier_version_left_stale(
    repository: Dynamo,
) -> None:
    # During a rolling deploy, a server of the earlier version records a refund's outcome
    # without the row facts: they still say "pending".
    payment, attempt = with_pending_refund(repository, 900)
    before = stored(repository, payment)
    observe(repository, payment, RefundSeen("r1", attempt, RefundStatus.EXECUTED, T0))
    repository.client.update_item(
        TableName=repository.table,
        Key=payment_key(payment.user_id, payment.payment_id),
        UpdateExpression="SET rowFacts.refundedMinor = :r, rowFacts.refundPendingMinor = :p",
        ExpressionAttributeValues={
            ":r": {"N": str(before["refundedMinor"])},
            ":p": {"N": str(before["refundPendingMinor"])},
        },
    )
    assert stored(repository, payment)["refundPendingMinor"] == 900

    assert dynamo.row_facts_backfill(repository) == dynamo.RowFactsReport(1, 1)
    assert assert_rows_agree(repository, payment) == RowFacts(None, 1, 900, 0)


def test_a_refund_of_a_payment_stored_before_row_facts_counts_its_earlier_refunds(
    repository: Dynamo,
) -> None:
    payment, attempt = with_pending_refund(repository, 400)
    observe(repository, payment, RefundSeen("r1", attempt, RefundStatus.EXECUTED, T0))
    forget_row_facts(repository, payment)

    dynamo.refund_create(
        repository, payment=full(repository, payment), refund=pending_refund(payment, 100, "r2")
    )
    assert stored(repository, payment) == {
        "settlement": "",
        "refundCount": 2,
        "refundedMinor": 400,
        "refundPendingMinor": 100,
    }
    assert_rows_agree(repository, payment)


def test_the_backfill_reads_again_a_payment_written_since_its_scan(
    repository: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = payment_with_link(repository, amount="20.00")
    attempt = f"tl-{payment.payment_id}"
    observe(repository, payment, AttemptSeen(attempt, AttemptStatus.EXECUTED, T0))
    store = row_facts.store_row_facts
    results: list[bool] = []

    def after(write: Callable[[], None]) -> None:
        """The backfill, with `write` landing between its Scan and its UpdateItem."""

        def late(db: Dynamo, metrics: Metrics | None, item: Mapping[str, Any]) -> bool:
            write()
            results.append(store(db, metrics, item))
            return results[-1]

        monkeypatch.setattr(row_facts, "store_row_facts", late)
        dynamo.row_facts_backfill(repository)

    def bump_version() -> None:  # a write that leaves the lifecycle alone (a timeline note)
        repository.client.update_item(
            TableName=repository.table,
            Key=payment_key(payment.user_id, payment.payment_id),
            UpdateExpression="ADD version :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    forget_row_facts(repository, payment)
    after(bump_version)
    assert results == [True] and stored(repository, payment)["refundCount"] == 0
    assert_rows_agree(repository, payment)

    # A lifecycle write stores the facts itself: the backfill then leaves them alone.
    forget_row_facts(repository, payment)
    after(lambda: observe(repository, payment, SettlementFact(attempt, "creditable", T0)))
    assert results == [True, False] and stored(repository, payment)["settlement"] == "creditable"


def test_the_command_says_what_it_stored(repo: Dynamo) -> None:
    payment = payment_with_link(repo)
    forget_row_facts(repo, payment)
    out = io.StringIO()
    call_command("backfill_row_facts", stdout=out)
    assert "Stored the row facts of 1 of 1 payment (missing or out of step)" in out.getvalue()
    assert stored(repo, payment)["refundCount"] == 0
