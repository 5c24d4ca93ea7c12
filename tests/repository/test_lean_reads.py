"""Lean reads: list, filter, search and export ask DynamoDB only for what a row shows (the
list indexes project no more), the detail read still has everything, and the per-status Queries
of one page run at the same time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payments import dynamo
from payments.domain import Payment
from payments.domain import PaymentStatus as S
from payments.dynamo import Dynamo, EventReceipt, client, listing
from payments.dynamo.schema import LIST_ATTRIBUTES
from payments.errors import Throttled
from payments.lifecycle import AttemptSeen, AttemptStatus
from tests.factories import ALICE, BOB, make_payments

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
HEAVY = {
    "history",
    "webhookLog",
    "providerResponses",
    "linkError",
    "referenceLower",
    "attempts",
    "refunds",
    "link",
}


@contextmanager
def recorded_queries(repo: Dynamo) -> Iterator[list[dict[str, Any]]]:
    """The parameters of every read of payment items (a Query of the payments table, or its
    part of a BatchGetItem) the data layer sends while the block runs. Reads of the meta table
    (search entries, totals) are not payment items and are left out."""
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == repo.table:
            seen.append(dict(params))

    def record_batch(params: dict[str, Any], **_: Any) -> None:
        asked = params.get("RequestItems", {}).get(repo.table)
        if asked is not None:
            seen.append(dict(asked))

    events = repo.client.meta.events
    events.register("provide-client-params.dynamodb.Query", record, unique_id="lean-test")
    events.register(
        "provide-client-params.dynamodb.BatchGetItem", record_batch, unique_id="lean-batch"
    )
    try:
        yield seen
    finally:
        events.unregister("provide-client-params.dynamodb.Query", unique_id="lean-test")
        events.unregister("provide-client-params.dynamodb.BatchGetItem", unique_id="lean-batch")


def projected(params: dict[str, Any]) -> set[str]:
    names = params.get("ExpressionAttributeNames", {})
    return {names.get(p.strip(), p.strip()) for p in params["ProjectionExpression"].split(",")}


def heavy_payment(repo: Dynamo) -> Payment:
    """A settled payment with a timeline, a webhook log and a raw provider response."""
    [payment] = make_payments(repo, n=1, start=START + timedelta(days=3), reference="HEAVY 1")
    dynamo.payment_link_set(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        link_id="pl_heavy",
        link_url="https://pay.example/heavy",
        response={"id": "pl_heavy", "uri": "https://pay.example/heavy", "pad": "x" * 2000},
    )
    for n, status in enumerate((AttemptStatus.EXECUTED, AttemptStatus.SETTLED)):
        dynamo.payment_observe(
            repo,
            user_id=ALICE,
            payment_id=payment.payment_id,
            observation=AttemptSeen("tl-heavy", status, START + timedelta(days=3, minutes=n)),
            source="webhook",
            receipt=EventReceipt(f"ev-{n}", f"payment_{status.value}", "t", START),
        )
    full = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert full is not None and full.history and full.webhook_log and full.provider_responses
    return full


def test_list_filter_search_and_export_ask_only_for_row_attributes(repository: Dynamo) -> None:
    make_payments(repository, n=6, start=START, currencies=("GBP", "EUR"))
    full = heavy_payment(repository)
    listings: list[list[Payment]] = []

    with recorded_queries(repository) as queries:
        listings.append(dynamo.payment_list(repository, user_id=ALICE).items)
        listings.append(
            dynamo.payment_list(repository, user_id=ALICE, statuses=[S.SETTLED, S.PENDING]).items
        )
        listings.append(dynamo.payment_list(repository, user_id=ALICE, currency="GBP").items)
        listings.append(
            dynamo.payment_list(
                repository, user_id=ALICE, statuses=[S.SETTLED], currency="GBP"
            ).items
        )
        listings.append(
            dynamo.payment_list(
                repository,
                user_id=ALICE,
                created_from=START + timedelta(days=2),
                created_to=START + timedelta(days=4),
            ).items
        )
        listings.append(dynamo.payment_search(repository, user_id=ALICE, query="heavy").items)
        listings.append(list(dynamo.payment_iter(repository, user_id=ALICE)))
        listings.append(
            dynamo.payment_rows_get(repository, user_id=ALICE, payment_ids=[full.payment_id])
        )

    assert len(queries) >= 9
    allowed = {"userId", "paymentId", *LIST_ATTRIBUTES}
    for params in queries:
        asked = projected(params)
        # Keys, row attributes and at most the sort key the cursor resumes from.
        assert asked - allowed <= {
            "statusCreatedAt",
            "currencyCreatedAt",
            "currencyStatusCreatedAt",
        }
        assert not asked & HEAVY
    for rows in listings:
        [row] = [p for p in rows if p.payment_id == full.payment_id]
        # What a row shows is all there ...
        assert (row.status, row.amount, row.reference, row.version) == (
            S.SETTLED,
            full.amount,
            full.reference,
            full.version,
        )
        assert row.facts == full.lifecycle.row_facts and row.lifecycle.attempts == ()
        assert row.payment_link_id == "pl_heavy" and row.truelayer_payment_id == "tl-heavy"
        # ... and what only the detail page shows was never read.
        assert row.history == () and row.webhook_log == () and row.provider_responses == {}


def test_a_date_range_without_status_reads_the_base_table_not_an_index(
    repository: Dynamo,
) -> None:
    made = make_payments(repository, n=10, start=START, step=timedelta(hours=6))
    frm, to = START + timedelta(hours=12), START + timedelta(hours=36)

    with recorded_queries(repository) as queries:
        page = dynamo.payment_list(repository, user_id=ALICE, created_from=frm, created_to=to)

    expected = [p.payment_id for p in reversed(made) if frm <= p.created_at < to]
    assert [p.payment_id for p in page.items] == expected and len(expected) == 4
    [params] = queries
    assert "IndexName" not in params and "FilterExpression" not in params
    assert page.items_read == 4  # a key condition: nothing outside the range is read


def test_the_queries_of_several_statuses_run_at_the_same_time(repository: Dynamo) -> None:
    made = make_payments(
        repository, n=12, start=START, statuses=(S.PENDING, S.EXECUTED, S.FAILED, S.SETTLED)
    )
    wanted = [S.EXECUTED, S.FAILED, S.SETTLED]
    # Each Query waits here until all three are in flight: run one after another, the first
    # would wait alone and the barrier would break.
    barrier = threading.Barrier(len(wanted), timeout=10)

    def wait_for_the_others(**_: Any) -> None:
        barrier.wait()

    events = repository.client.meta.events
    events.register("before-call.dynamodb.Query", wait_for_the_others, unique_id="barrier")
    try:
        page = dynamo.payment_list(repository, user_id=ALICE, statuses=wanted, page_size=5)
    finally:
        events.unregister("before-call.dynamodb.Query", unique_id="barrier")

    assert not barrier.broken
    expected = [p.payment_id for p in reversed(made) if p.status in wanted][:5]
    assert [p.payment_id for p in page.items] == expected
    # Counted under threads: one request per status, every item each one read.
    assert page.requests == 3 and page.items_read == 9
    more = dynamo.payment_list(
        repository, user_id=ALICE, statuses=wanted, page_size=5, cursor=page.next_cursor
    )
    rest = [p.payment_id for p in reversed(made) if p.status in wanted][5:]
    assert [p.payment_id for p in more.items] == rest


def test_a_failing_status_query_fails_the_page_with_the_data_layer_error(
    repository: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_payments(repository, n=4, start=START, statuses=(S.EXECUTED, S.FAILED))
    real_query = client.query

    def throttled_for_failed(db: Dynamo, metrics: Any, **kwargs: Any) -> dict[str, Any]:
        if "failed#" in str(kwargs["ExpressionAttributeValues"]):
            raise Throttled()
        return real_query(db, metrics, **kwargs)

    monkeypatch.setattr(listing, "query", throttled_for_failed)

    with pytest.raises(Throttled):
        dynamo.payment_list(repository, user_id=ALICE, statuses=[S.EXECUTED, S.FAILED])


def test_search_by_link_id_reads_the_keys_only_index_then_the_payment(
    repository: Dynamo,
) -> None:
    full = heavy_payment(repository)

    result = dynamo.payment_search(repository, user_id=ALICE, query="pl_heavy")

    [found] = result.items
    # One Query on the keys-only index, then one GetItem: the whole payment, as the detail
    # page shows it.
    assert found.payment_id == full.payment_id and found.history == full.history
    assert result.requests == 2


def _live_page(repository: Dynamo) -> tuple[list[Payment], list[str]]:
    """Three of Alice's payments, and the ids a live request names: hers, one of Bob's and
    garbage."""
    mine = make_payments(repository, n=3, start=START)
    [theirs] = make_payments(repository, BOB, n=1, start=START)
    return mine, [p.payment_id for p in mine] + [theirs.payment_id, "not-an-id", "x" * 300, ""]


def test_the_live_rows_are_read_in_one_batch_and_only_the_merchants(repository: Dynamo) -> None:
    mine, asked = _live_page(repository)
    with recorded_queries(repository) as reads:
        rows = dynamo.payment_rows_get(repository, user_id=ALICE, payment_ids=asked)
    assert len(reads) == 1  # one BatchGetItem for the whole page
    assert sorted(r.payment_id for r in rows) == sorted(p.payment_id for p in mine)
    assert {r.version for r in rows} == {p.version for p in mine}


def test_the_live_versions_are_read_in_one_batch_of_keys_and_versions(
    repository: Dynamo,
) -> None:
    mine, asked = _live_page(repository)
    with recorded_queries(repository) as reads:
        versions = dynamo.payment_versions_get(repository, user_id=ALICE, payment_ids=asked)
    assert len(reads) == 1  # one BatchGetItem for the whole page
    assert versions == {p.payment_id: p.version for p in mine}
    [asked_for] = reads
    assert set(asked_for["ExpressionAttributeNames"].values()) == {"userId", "paymentId", "version"}
