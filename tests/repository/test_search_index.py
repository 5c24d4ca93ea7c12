"""The search token index: written in the payment's own transaction, backfilled idempotently."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from payments import dynamo
from payments.domain import Payment
from payments.dynamo import Dynamo
from payments.dynamo.items import serialize
from payments.dynamo.search_index import search_pk
from payments.errors import DuplicateSubmission
from payments.search_tokens import MAX_TOKENS
from tests.factories import ALICE, make_payments

START = datetime(2026, 4, 1, tzinfo=UTC)


def _entries(db: Dynamo, token: str) -> list[str]:
    answer = db.client.query(
        TableName=db.meta_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=serialize({":pk": search_pk(ALICE, token)}),
    )
    return [item["sk"]["S"] for item in answer["Items"]]


def _all_entries(db: Dynamo) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    kwargs: dict[str, object] = {"TableName": db.meta_table}
    while True:
        answer = db.client.scan(**kwargs)  # type: ignore[arg-type]
        found |= {
            (i["pk"]["S"], i["sk"]["S"])
            for i in answer["Items"]
            if i["pk"]["S"].startswith("SEARCH#")
        }
        if "LastEvaluatedKey" not in answer:
            return found
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def test_a_payment_is_created_with_its_search_entries(repository: Dynamo) -> None:
    payment = dynamo.payment_create(
        repository,
        user_id=ALICE,
        amount="12.5",
        currency="EUR",
        reference="INV-1042",
        payer_name="Alice Smith",
        payer_email="alice.smith@example.com",
    )
    sk = f"{payment.created_at.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z#{payment.payment_id}"
    for token in ("w:in", "w:inv", "w:1042", "w:smith", "a:12.50", "e:@example.com"):
        assert _entries(repository, token) == [sk], token
    expected = {(e["pk"], e["sk"]) for e in dynamo.search_items(_item(payment))}
    assert _all_entries(repository) == expected


def _item(payment: Payment) -> dict[str, object]:
    return {
        "userId": payment.user_id,
        "paymentId": payment.payment_id,
        "createdAt": f"{payment.created_at.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z",
        "amount": payment.amount,
        "currency": payment.currency,
        "reference": payment.reference,
        "payerName": payment.payer_name,
        "payerEmail": payment.payer_email,
    }


def test_a_refused_creation_writes_no_search_entries(repository: Dynamo) -> None:
    dynamo.payment_create(
        repository,
        user_id=ALICE,
        amount="1",
        currency="GBP",
        reference="FIRST",
        submission_token="t1",
    )
    with pytest.raises(DuplicateSubmission):
        dynamo.payment_create(
            repository,
            user_id=ALICE,
            amount="2",
            currency="GBP",
            reference="SECOND",
            submission_token="t1",
        )
    # The entries are in the payment's own transaction: refused together with it.
    assert _entries(repository, "w:second") == [] and _entries(repository, "a:2.00") == []
    assert dynamo.payment_search(repository, user_id=ALICE, query="second").items == []


def test_a_payer_with_many_words_stays_one_transaction(repository: Dynamo) -> None:
    name = " ".join(f"Name{i}longer" for i in range(14))  # 14 words: 126 prefixes, over the cap
    payment = dynamo.payment_create(
        repository, user_id=ALICE, amount="3", currency="GBP", reference="MANY", payer_name=name
    )
    assert len(dynamo.search_items(_item(payment))) == MAX_TOKENS
    found = dynamo.payment_search(repository, user_id=ALICE, query="name13longer")
    assert [p.payment_id for p in found.items] == [payment.payment_id]


def test_backfill_indexes_older_payments_and_a_second_run_changes_nothing(
    repository: Dynamo,
) -> None:
    made = make_payments(repository, n=5, start=START, reference="OLD {i}")
    entries = _all_entries(repository)
    # Payments stored before the index existed: no entries.
    for pk, sk in entries:
        repository.client.delete_item(
            TableName=repository.meta_table, Key=serialize({"pk": pk, "sk": sk})
        )
    assert dynamo.payment_search(repository, user_id=ALICE, query="old").items == []
    first = dynamo.search_backfill(repository)
    assert (first.payments, first.entries) == (5, len(entries))
    assert _all_entries(repository) == entries
    found = dynamo.payment_search(repository, user_id=ALICE, query="old")
    assert [p.payment_id for p in found.items] == [p.payment_id for p in reversed(made)]
    second = dynamo.search_backfill(repository)
    assert second == first and _all_entries(repository) == entries


def test_index_search_command_says_what_it_indexed(repo: Dynamo) -> None:
    make_payments(repo, n=3, start=START)
    out = io.StringIO()
    call_command("index_search", stdout=out)
    assert "Indexed 3 payments" in out.getvalue()
