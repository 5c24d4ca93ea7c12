from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from payments import dynamo
from payments.domain import PaymentStatus, PaymentValidationError
from payments.dynamo import Dynamo
from payments.errors import DuplicateSubmission
from tests.factories import ALICE


def _count(repo: Dynamo) -> int:
    return len(list(dynamo.payment_iter(repo, user_id=ALICE)))


def test_created_payment_is_pending_with_exact_amount_and_a_history_entry(
    repository: Dynamo,
) -> None:
    payment = dynamo.payment_create(
        repository, user_id=ALICE, amount="12.5", currency="gbp", reference="INV-001"
    )
    stored = dynamo.payment_get(repository, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.amount == Decimal("12.50") and str(stored.amount) == "12.50"
    assert stored.currency == "GBP"
    assert stored.status is PaymentStatus.PENDING
    assert [h.status for h in stored.history] == [PaymentStatus.PENDING]


def test_amounts_never_pass_through_float(repository: Dynamo) -> None:
    payment = dynamo.payment_create(
        repository, user_id=ALICE, amount=Decimal("0.10"), currency="EUR", reference="R1"
    )
    for _ in range(2):
        dynamo.payment_create(
            repository, user_id=ALICE, amount="0.20", currency="EUR", reference="R"
        )
    stored = dynamo.payment_get(repository, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and isinstance(stored.amount, Decimal)
    total = sum(p.amount for p in dynamo.payment_iter(repository, user_id=ALICE))
    assert total == Decimal("0.50")  # 0.1 + 0.2 + 0.2 in binary floats is not 0.5 exactly


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("reference", {"reference": "   "}),
        ("reference", {"reference": "ORDER (42)"}),
        ("reference", {"reference": "x" * 19}),
        ("amount", {"amount": "0"}),
        ("amount", {"amount": "-5.00"}),
        ("amount", {"amount": "1.005"}),
        ("amount", {"amount": "ten"}),
        ("amount", {"amount": "NaN"}),
        ("currency", {"currency": "USD"}),
        ("currency", {"currency": ""}),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    repository: Dynamo, field: str, kwargs: dict[str, str]
) -> None:
    values: dict[str, Any] = {"amount": "10.00", "currency": "GBP", "reference": "OK-REF"} | kwargs
    with pytest.raises(PaymentValidationError) as refused:
        dynamo.payment_create(
            repository,
            user_id=ALICE,
            amount=values["amount"],
            currency=values["currency"],
            reference=values["reference"],
        )
    assert refused.value.field == field
    assert _count(repository) == 0


def test_unknown_status_is_refused_before_anything_is_written(
    repository: Dynamo,
) -> None:
    from payments.domain import parse_status

    payment = dynamo.payment_create(
        repository, user_id=ALICE, amount="5", currency="GBP", reference="R"
    )
    with pytest.raises(PaymentValidationError):
        parse_status("paid-ish")
    stored = dynamo.payment_get(repository, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.PENDING


def test_a_resubmitted_form_creates_one_payment_and_names_the_first(
    repository: Dynamo,
) -> None:
    first = dynamo.payment_create(
        repository,
        user_id=ALICE,
        amount="9.99",
        currency="GBP",
        reference="R",
        submission_token="tok-1",
    )
    with pytest.raises(DuplicateSubmission) as duplicate:
        dynamo.payment_create(
            repository,
            user_id=ALICE,
            amount="9.99",
            currency="GBP",
            reference="R",
            submission_token="tok-1",
        )
    assert duplicate.value.payment_id == first.payment_id
    assert _count(repository) == 1
    stats = dynamo.stats_for_range(
        repository,
        user_id=ALICE,
        # The day of the payment, whole, whatever the time of day the test runs.
        start=first.created_at - timedelta(days=1),
        end=first.created_at + timedelta(days=1),
    )
    assert stats.count == 1


def test_payment_ids_sort_by_creation_time(repository: Dynamo) -> None:
    ids = [
        dynamo.payment_create(
            repository, user_id=ALICE, amount="1", currency="GBP", reference="R"
        ).payment_id
        for _ in range(5)
    ]
    assert ids == sorted(ids)
