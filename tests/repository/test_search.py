from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payments import dynamo
from payments.domain import PaymentValidationError, utc_now
from payments.dynamo import Dynamo
from payments.lifecycle import AttemptSeen, AttemptStatus
from tests.factories import ALICE, BOB, make_payments

START = datetime(2026, 4, 1, tzinfo=UTC)


def test_search_finds_by_payment_id(repository: Dynamo) -> None:
    made = make_payments(repository, n=5, start=START)
    result = dynamo.payment_search(repository, user_id=ALICE, query=made[2].payment_id.lower())
    assert [p.payment_id for p in result.items] == [made[2].payment_id]


def test_search_finds_by_link_and_truelayer_ids_with_one_indexed_query_each(
    repository: Dynamo,
) -> None:
    made = make_payments(repository, n=3, start=START, reference="ORDER {i}")
    dynamo.payment_link_set(
        repository,
        user_id=ALICE,
        payment_id=made[0].payment_id,
        link_id="pl_abc123",
        link_url="https://x",
        response={},
    )
    dynamo.payment_observe(
        repository,
        user_id=ALICE,
        payment_id=made[1].payment_id,
        observation=AttemptSeen("c0ffee-0001", AttemptStatus.AUTHORIZATION_REQUIRED, utc_now()),
        source="test",
    )
    assert [
        p.payment_id
        for p in dynamo.payment_search(repository, user_id=ALICE, query="pl_abc123").items
    ] == [made[0].payment_id]
    assert [
        p.payment_id
        for p in dynamo.payment_search(repository, user_id=ALICE, query="c0ffee-0001").items
    ] == [made[1].payment_id]
    assert dynamo.payment_find_by_link_id(repository, "pl_abc123") is not None


def test_search_by_reference_is_case_insensitive_and_newest_first(
    repository: Dynamo,
) -> None:
    make_payments(repository, n=6, start=START, reference="Invoice {i}")
    make_payments(repository, n=2, start=START, reference="Refund {i}")
    result = dynamo.payment_search(repository, user_id=ALICE, query="INVOICE")
    assert [p.reference for p in result.items] == [f"Invoice {i}" for i in range(5, -1, -1)]
    assert not result.budget_exhausted and result.next_cursor is None


def test_search_by_exact_amount(repository: Dynamo) -> None:
    make_payments(repository, n=5, start=START)  # 10.00, 11.00, ... 14.00
    result = dynamo.payment_search(repository, user_id=ALICE, query="12.00")
    assert [str(p.amount) for p in result.items] == ["12.00"]
    assert [
        str(p.amount) for p in dynamo.payment_search(repository, user_id=ALICE, query="£13").items
    ] == ["13.00"]


def test_search_never_finds_another_merchants_payments(repository: Dynamo) -> None:
    bob = make_payments(repository, BOB, n=2, start=START, reference="SECRET {i}")
    dynamo.payment_link_set(
        repository,
        user_id=BOB,
        payment_id=bob[0].payment_id,
        link_id="pl_bob",
        link_url="https://x",
        response={},
    )
    for query in ("secret", bob[0].payment_id, "pl_bob", "10.00"):
        assert dynamo.payment_search(repository, user_id=ALICE, query=query).items == []


def test_search_stops_at_its_budget_and_continues_with_the_cursor(
    repository: Dynamo,
) -> None:
    made = make_payments(
        repository, n=30, start=START, step=timedelta(minutes=1), reference="X {i}"
    )
    # The only match is the oldest payment: a budget of 10 can't reach it in one request.
    dynamo.payment_create(
        repository,
        user_id=ALICE,
        amount="1",
        currency="GBP",
        reference="NEEDLE",
        now=START - timedelta(days=1),
    )
    first = dynamo.payment_search(repository, user_id=ALICE, query="needle", budget=10)
    assert first.items == [] and first.budget_exhausted and first.items_read <= 10
    found, cursor, rounds = [], first.next_cursor, 1
    while cursor:
        more = dynamo.payment_search(
            repository, user_id=ALICE, query="needle", budget=10, cursor=cursor
        )
        assert more.items_read <= 10
        found += more.items
        cursor = more.next_cursor
        rounds += 1
    assert [p.reference for p in found] == ["NEEDLE"]
    assert rounds >= len(made) // 10


def test_search_with_a_full_page_continues_right_after_the_last_result(
    repository: Dynamo,
) -> None:
    made = make_payments(repository, n=12, start=START, reference="Same {i}")
    first = dynamo.payment_search(repository, user_id=ALICE, query="same", page_size=5)
    assert len(first.items) == 5 and first.next_cursor and not first.budget_exhausted
    second = dynamo.payment_search(
        repository, user_id=ALICE, query="same", page_size=5, cursor=first.next_cursor
    )
    third = dynamo.payment_search(
        repository, user_id=ALICE, query="same", page_size=5, cursor=second.next_cursor
    )
    ids = [p.payment_id for p in first.items + second.items + third.items]
    assert ids == [p.payment_id for p in reversed(made)]


def test_empty_search_is_refused_with_a_message(repository: Dynamo) -> None:
    with pytest.raises(PaymentValidationError):
        dynamo.payment_search(repository, user_id=ALICE, query="   ")


def test_an_id_that_names_a_payment_reads_no_history(repository: Dynamo) -> None:
    made = make_payments(repository, n=20, start=START)
    result = dynamo.payment_search(repository, user_id=ALICE, query=made[3].payment_id)
    assert [p.payment_id for p in result.items] == [made[3].payment_id]
    assert result.requests == 1 and result.items_read == 1 and result.next_cursor is None
