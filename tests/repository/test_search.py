from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payments import dynamo
from payments.domain import Payment, PaymentStatus, PaymentValidationError, utc_now
from payments.dynamo import Dynamo
from payments.lifecycle import AttemptSeen, AttemptStatus
from tests.factories import ALICE, BOB, make_payments

START = datetime(2026, 4, 1, tzinfo=UTC)
S = PaymentStatus


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


def test_a_match_deep_in_the_history_comes_back_in_the_first_request(
    repository: Dynamo,
) -> None:
    # Issue 15 measured 51 "Search further back" clicks for a match 50,000 payments back; the
    # same at a smaller scale: what a request reads does not depend on the depth.
    make_payments(repository, n=60, start=START, step=timedelta(minutes=1), reference="X {i}")
    dynamo.payment_create(
        repository,
        user_id=ALICE,
        amount="1",
        currency="GBP",
        reference="NEEDLE",
        now=START - timedelta(days=1),
    )
    found = dynamo.payment_search(repository, user_id=ALICE, query="needle", budget=10)
    assert [p.reference for p in found.items] == ["NEEDLE"]
    assert found.next_cursor is None and not found.budget_exhausted
    # One token entry and the payment itself.
    assert found.items_read == 2


def test_items_read_follow_the_page_not_the_history(repository: Dynamo) -> None:
    make_payments(repository, n=40, start=START, reference="Same {i}")
    page = dynamo.payment_search(repository, user_id=ALICE, query="same", page_size=5)
    assert len(page.items) == 5 and page.next_cursor
    # Six entries (a page and one to know there is more) and five payments.
    assert page.items_read == 11


def test_search_with_a_status_filter_returns_full_pages(repository: Dynamo) -> None:
    made = make_payments(
        repository,
        n=24,
        start=START,
        reference="Same {i}",
        statuses=(S.PENDING, S.PENDING, S.FAILED),
    )
    failed = [p.payment_id for p in reversed(made) if p.status == S.FAILED]
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = dynamo.payment_search(
            repository,
            user_id=ALICE,
            query="same",
            page_size=3,
            statuses=[S.FAILED],
            cursor=cursor,
        )
        pages.append([p.payment_id for p in page.items])
        cursor = page.next_cursor
        if not cursor:
            break
    assert [len(p) for p in pages[:-1]] == [3] * (len(pages) - 1)
    assert sum(pages, []) == failed


def test_search_with_currency_and_dates_reads_only_inside_them(repository: Dynamo) -> None:
    made = make_payments(
        repository, n=20, start=START, step=timedelta(days=1), currencies=("GBP", "EUR")
    )
    found = dynamo.payment_search(
        repository,
        user_id=ALICE,
        query="inv",
        currency="EUR",
        created_from=START + timedelta(days=5),
        created_to=START + timedelta(days=11),
    )
    expected = [
        p.payment_id
        for p in reversed(made)
        if p.currency == "EUR"
        and START + timedelta(days=5) <= p.created_at < START + timedelta(days=11)
    ]
    assert [p.payment_id for p in found.items] == expected
    # The date range is the key condition: six entries in it, three of them in EUR.
    assert found.items_read == 6 + 3


def test_a_filter_that_drops_most_entries_stops_at_the_budget_and_continues(
    repository: Dynamo,
) -> None:
    made = make_payments(repository, n=30, start=START, reference="Same {i}")
    oldest = made[0]
    dynamo.payment_observe(
        repository,
        user_id=ALICE,
        payment_id=oldest.payment_id,
        observation=AttemptSeen("c0ffee-9", AttemptStatus.AUTHORIZATION_REQUIRED, utc_now()),
        source="test",
    )
    first = dynamo.payment_search(
        repository, user_id=ALICE, query="same", statuses=[S.AUTHORIZATION_REQUIRED], budget=20
    )
    assert first.items == [] and first.budget_exhausted and first.next_cursor
    assert first.items_read <= 20 + 2 * 100
    found: list[Payment] = []
    cursor: str | None = first.next_cursor
    while cursor:
        more = dynamo.payment_search(
            repository,
            user_id=ALICE,
            query="same",
            statuses=[S.AUTHORIZATION_REQUIRED],
            budget=20,
            cursor=cursor,
        )
        found += more.items
        cursor = more.next_cursor
    assert [p.payment_id for p in found] == [oldest.payment_id]


def test_search_by_payer_name_email_and_prefixes_folds_case_and_accents(
    repository: Dynamo,
) -> None:
    zoe = dynamo.payment_create(
        repository,
        user_id=ALICE,
        amount="5",
        currency="GBP",
        reference="Cafe-Noir/7",
        payer_name="Zoë Ångström",
        payer_email="Zoe.Angstrom@Example.COM",
    )
    make_payments(repository, n=3, start=START)
    for query in (
        "zoe",
        "ZO",
        "angst",
        "Ångström zoë",
        "zoe.angstrom@example.com",
        "zoe.angstrom@",
        "@example.com",
        "cafe noir",
        "noir",
        zoe.payment_id[-6:],
        f"{zoe.payment_id[:4]}…{zoe.payment_id[-6:]}",
    ):
        found = dynamo.payment_search(repository, user_id=ALICE, query=query)
        assert [p.payment_id for p in found.items] == [zoe.payment_id], query
    for query in ("zoey", "noir cafes", "bob@example.com", "@example.org"):
        assert dynamo.payment_search(repository, user_id=ALICE, query=query).items == [], query


def test_a_bare_number_finds_the_amount_and_the_reference_word(repository: Dynamo) -> None:
    by_amount = dynamo.payment_create(
        repository, user_id=ALICE, amount="1042", currency="GBP", reference="Rent", now=START
    )
    by_word = dynamo.payment_create(
        repository,
        user_id=ALICE,
        amount="3",
        currency="GBP",
        reference="INV-1042",
        now=START + timedelta(hours=1),
    )
    found = dynamo.payment_search(repository, user_id=ALICE, query="1042")
    assert [p.payment_id for p in found.items] == [by_word.payment_id, by_amount.payment_id]
    found = dynamo.payment_search(repository, user_id=ALICE, query="£1,042")
    assert [p.payment_id for p in found.items] == [by_amount.payment_id]


def test_a_single_character_is_refused_with_a_message(repository: Dynamo) -> None:
    make_payments(repository, n=2, start=START)
    with pytest.raises(PaymentValidationError, match="at least 2"):
        dynamo.payment_search(repository, user_id=ALICE, query="a")


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
