from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from payments import dynamo
from payments.domain import PaymentStatus as S
from payments.dynamo import Dynamo
from payments.errors import InvalidCursor
from tests.factories import ALICE, BOB, make_payments

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _all_pages(repo: Dynamo, **filters: object) -> tuple[list[str], list[int]]:
    ids: list[str] = []
    reads: list[int] = []
    cursor = None
    while True:
        page = dynamo.payment_list(repo, user_id=ALICE, cursor=cursor, **filters)  # type: ignore[arg-type]
        ids += [p.payment_id for p in page.items]
        reads.append(page.items_read)
        if not page.next_cursor:
            return ids, reads
        cursor = page.next_cursor


def test_pages_return_every_payment_once_newest_first(repository: Dynamo) -> None:
    made = make_payments(repository, n=23, start=START)
    ids, reads = _all_pages(repository, page_size=5)
    assert ids == [p.payment_id for p in reversed(made)]
    assert max(reads) <= 6  # page size + 1


def test_status_filter_merges_several_statuses_newest_first_across_pages(
    repository: Dynamo,
) -> None:
    made = make_payments(
        repository, n=30, start=START, statuses=(S.PENDING, S.EXECUTED, S.FAILED, S.SETTLED)
    )
    wanted = {S.EXECUTED, S.FAILED}
    expected = [p.payment_id for p in reversed(made) if p.status in wanted]
    ids, reads = _all_pages(repository, statuses=wanted, page_size=4)
    assert ids == expected
    assert max(reads) <= 2 * 5  # one query per status, each at most page size + 1


def test_several_statuses_read_about_one_page_however_skewed_the_statuses_are(
    repository: Dynamo,
) -> None:
    """Each status first reads its share of the page; one that runs dry is read again for what
    the page lacks. Every match comes once, newest first, for any page size, with runs of one
    status longer than a page (the skew a real merchant has: mostly settled)."""
    skewed = (S.SETTLED,) * 9 + (S.FAILED,) * 2 + (S.PENDING,) + (S.SETTLED,) * 3
    made = make_payments(repository, n=45, start=START, statuses=skewed)
    for wanted in ({S.FAILED, S.PENDING, S.SETTLED}, {S.FAILED, S.SETTLED}, {S.PENDING, S.FAILED}):
        expected = [p.payment_id for p in reversed(made) if p.status in wanted]
        for page_size in (1, 4, 7, 25):
            ids, reads = _all_pages(repository, statuses=wanted, page_size=page_size)
            assert ids == expected, (wanted, page_size)
            k = len(wanted)
            # Never more than one stream's page per status (the old way read exactly that on
            # every page); over the whole history, about one item read per item shown.
            assert max(reads) <= k * (page_size + 1), (wanted, page_size, reads)
            if page_size >= 7:
                assert sum(reads) <= 1.5 * len(expected) + len(reads) * 2 * k, (wanted, reads)


def test_date_range_and_currency_filters_use_the_creation_time(
    repository: Dynamo,
) -> None:
    made = make_payments(repository, n=48, start=START, currencies=("GBP", "EUR"))
    day_two = START + timedelta(hours=16)
    day_two_end = day_two + timedelta(hours=24)
    expected = [
        p.payment_id
        for p in reversed(made)
        if day_two <= p.created_at < day_two_end and p.currency == "EUR"
    ]
    ids, _ = _all_pages(
        repository, currency="EUR", created_from=day_two, created_to=day_two_end, page_size=5
    )
    assert ids == expected and len(ids) == 12


def test_status_currency_and_date_filters_combine(repository: Dynamo) -> None:
    made = make_payments(
        repository,
        n=40,
        start=START,
        currencies=("GBP", "EUR"),
        statuses=(S.EXECUTED, S.PENDING, S.FAILED),
    )
    frm, to = START + timedelta(hours=5), START + timedelta(hours=33)
    expected = [
        p.payment_id
        for p in reversed(made)
        if p.currency == "GBP" and p.status in {S.EXECUTED, S.FAILED} and frm <= p.created_at < to
    ]
    ids, _ = _all_pages(
        repository,
        statuses=[S.EXECUTED, S.FAILED],
        currency="GBP",
        created_from=frm,
        created_to=to,
        page_size=3,
    )
    assert ids == expected and expected


def test_a_merchant_never_sees_another_merchants_payments(repository: Dynamo) -> None:
    alice = make_payments(repository, ALICE, n=3, start=START)
    bob = make_payments(repository, BOB, n=2, start=START)
    listed = dynamo.payment_list(repository, user_id=ALICE, page_size=50).items
    assert {p.payment_id for p in listed} == {p.payment_id for p in alice}
    assert dynamo.payment_get(repository, user_id=ALICE, payment_id=bob[0].payment_id) is None
    assert dynamo.payment_get(repository, user_id=BOB, payment_id=alice[0].payment_id) is None


def test_a_cursor_from_another_merchant_is_refused(repository: Dynamo) -> None:
    make_payments(repository, BOB, n=5, start=START)
    page = dynamo.payment_list(repository, user_id=BOB, page_size=2)
    assert page.next_cursor
    with pytest.raises(InvalidCursor):
        dynamo.payment_list(repository, user_id=ALICE, page_size=2, cursor=page.next_cursor)


def test_a_tampered_cursor_is_refused(repository: Dynamo) -> None:
    make_payments(repository, n=5, start=START)
    cursor = dynamo.payment_list(repository, user_id=ALICE, page_size=2).next_cursor
    assert cursor
    flipped = cursor[:-3] + ("A" if cursor[-3] != "A" else "B") + cursor[-2:]
    for bad in (flipped, "garbage", base64.urlsafe_b64encode(b'{"u":"x"}').decode()):
        with pytest.raises(InvalidCursor):
            dynamo.payment_list(repository, user_id=ALICE, page_size=2, cursor=bad)


def test_a_cursor_from_another_filter_is_refused(repository: Dynamo) -> None:
    make_payments(repository, n=5, start=START, statuses=(S.EXECUTED,))
    cursor = dynamo.payment_list(repository, user_id=ALICE, page_size=2).next_cursor
    with pytest.raises(InvalidCursor):
        dynamo.payment_list(
            repository, user_id=ALICE, page_size=2, statuses=[S.EXECUTED], cursor=cursor
        )


def test_reversed_date_range_is_refused(repository: Dynamo) -> None:
    from payments.domain import PaymentValidationError

    with pytest.raises(PaymentValidationError):
        dynamo.payment_list(
            repository, user_id=ALICE, created_from=START, created_to=START - timedelta(days=1)
        )
