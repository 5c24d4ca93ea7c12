"""The over-refund guard: `dynamo.refund_create` records a refund with ONE conditional
UpdateItem, so pending + executed refunds never exceed the payment, even when many race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payments import dynamo
from payments.domain import Payment
from payments.dynamo import DuplicateRefund, Dynamo
from payments.dynamo.items import deserialize, payment_key
from payments.lifecycle import AttemptSeen, AttemptStatus, Refund, RefundSeen, RefundStatus
from payments.refunds import RefundRefused
from tests.factories import ALICE
from tests.webhooks.helpers import payment_with_link

T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)


def paid(repo: Dynamo, amount: str = "20.00") -> Payment:
    """An executed link payment (attempt `tl-<payment id>`)."""
    payment = payment_with_link(repo, amount=amount)
    observed = dynamo.payment_observe(
        repo,
        user_id=payment.user_id,
        payment_id=payment.payment_id,
        observation=AttemptSeen(f"tl-{payment.payment_id}", AttemptStatus.EXECUTED, T0),
        source="test",
    )
    assert observed.payment is not None
    return observed.payment


def refund(payment: Payment, minor: int, refund_id: str) -> Refund:
    return Refund(
        refund_id=refund_id,
        status=RefundStatus.PENDING,
        attempt_id=payment.truelayer_payment_id,
        amount_minor=minor,
        reference="REFUND",
        idempotency_key=f"key-{refund_id}",
    )


def reserved(repo: Dynamo, payment: Payment) -> int:
    raw = repo.client.get_item(
        TableName=repo.table,
        Key=payment_key(payment.user_id, payment.payment_id),
        ConsistentRead=True,
    )
    return int(deserialize(raw["Item"]).get("refundReservedMinor", 0))


def test_refunds_up_to_the_amount_are_recorded_and_one_more_cent_is_refused(
    repository: Dynamo,
) -> None:
    payment = paid(repository)
    dynamo.refund_create(repository, payment=payment, refund=refund(payment, 1500, "r1"))
    with pytest.raises(RefundRefused) as refused:
        dynamo.refund_create(repository, payment=payment, refund=refund(payment, 501, "r2"))
    assert refused.value.field == "amount"
    assert "At most 5.00 GBP remains" in refused.value.message
    stored = dynamo.refund_create(repository, payment=payment, refund=refund(payment, 500, "r3"))
    assert sorted(r.refund_id for r in stored.lifecycle.refunds) == ["r1", "r3"]
    assert reserved(repository, payment) == 2000
    assert stored.lifecycle.refund_reserved_minor == 2000


def test_the_same_refund_id_twice_records_one_refund(repository: Dynamo) -> None:
    payment = paid(repository)
    dynamo.refund_create(repository, payment=payment, refund=refund(payment, 700, "same"))
    with pytest.raises(DuplicateRefund) as duplicate:
        dynamo.refund_create(repository, payment=payment, refund=refund(payment, 700, "same"))
    assert [r.refund_id for r in duplicate.value.payment.lifecycle.refunds] == ["same"]
    assert reserved(repository, payment) == 700


def test_a_payment_not_yet_paid_is_refused_by_the_condition(repository: Dynamo) -> None:
    payment = payment_with_link(repository, amount="20.00")
    with pytest.raises(RefundRefused) as refused:
        dynamo.refund_create(repository, payment=payment, refund=refund(payment, 100, "r"))
    assert refused.value.field == "payment"
    stored = dynamo.payment_get(repository, user_id=payment.user_id, payment_id=payment.payment_id)
    assert stored is not None and stored.lifecycle.refunds == ()


def test_a_failed_refund_returns_its_amount_in_the_same_write(repository: Dynamo) -> None:
    payment = paid(repository)
    dynamo.refund_create(repository, payment=payment, refund=refund(payment, 2000, "all"))
    assert reserved(repository, payment) == 2000
    # Through the webhook path, as TrueLayer would report it.
    observed = dynamo.payment_observe(
        repository,
        user_id=payment.user_id,
        payment_id=payment.payment_id,
        observation=RefundSeen("all", payment.truelayer_payment_id, RefundStatus.FAILED, T0),
        source="test",
    )
    assert observed.applied
    assert reserved(repository, payment) == 0
    again = dynamo.refund_create(repository, payment=payment, refund=refund(payment, 2000, "next"))
    assert again.lifecycle.refund_reserved_minor == 2000


def test_an_executed_refund_is_counted_in_the_refund_aggregates(repository: Dynamo) -> None:
    payment = paid(repository)
    dynamo.refund_create(repository, payment=payment, refund=refund(payment, 250, "r"))
    dynamo.payment_observe(
        repository,
        user_id=payment.user_id,
        payment_id=payment.payment_id,
        observation=RefundSeen("r", payment.truelayer_payment_id, RefundStatus.EXECUTED, T0),
        source="test",
    )
    totals = dynamo.refund_totals_for_range(
        repository,
        user_id=payment.user_id,
        start=datetime.now(UTC) - timedelta(days=2),
        end=datetime.now(UTC) + timedelta(days=1),
    )
    assert totals == {"GBP": (1, Decimal("2.50"))}


def test_twenty_concurrent_refunds_never_exceed_the_payment(dynamodb_local_repo: Dynamo) -> None:
    """20 requests of 3.00 GBP against a 20.00 GBP payment, released together: exactly 6 are
    accepted (18.00), 14 refused, and the stored reservation never passes 20.00."""
    repo = dynamodb_local_repo
    payment = paid(repo)
    start = threading.Barrier(20)
    accepted: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def one(n: int) -> None:
        start.wait()
        try:
            dynamo.refund_create(repo, payment=payment, refund=refund(payment, 300, f"r{n}"))
            accepted.append(f"r{n}")
        except RefundRefused:
            refused.append(f"r{n}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert (len(accepted), len(refused)) == (6, 14)
    stored = dynamo.payment_get(repo, user_id=payment.user_id, payment_id=payment.payment_id)
    assert stored is not None
    assert sorted(r.refund_id for r in stored.lifecycle.refunds) == sorted(accepted)
    assert reserved(repo, payment) == 1800 == stored.lifecycle.refund_reserved_minor


def test_refunds_racing_a_status_change_are_all_kept(dynamodb_local_repo: Dynamo) -> None:
    """`payment_observe` rewrites the refunds map: a refund recorded between its read and its
    write must make it read again (version), not be lost."""
    repo = dynamodb_local_repo
    payment = paid(repo)
    start = threading.Barrier(6)

    def settle() -> None:
        start.wait()
        dynamo.payment_observe(
            repo,
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            observation=AttemptSeen(payment.truelayer_payment_id, AttemptStatus.SETTLED, T0),
            source="test",
        )

    def one(n: int) -> None:
        start.wait()
        dynamo.refund_create(repo, payment=payment, refund=refund(payment, 100, f"r{n}"))

    threads = [threading.Thread(target=settle)] + [
        threading.Thread(target=one, args=(n,)) for n in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = dynamo.payment_get(repo, user_id=payment.user_id, payment_id=payment.payment_id)
    assert stored is not None and stored.status.value == "settled"
    assert len(stored.lifecycle.refunds) == 5
    assert reserved(repo, payment) == 500


def test_refund_aggregates_equal_a_brute_force_count(repository: Dynamo) -> None:
    """Executed, failed, returned (executed → failed) and outside refunds over several payments
    and currencies: the aggregates equal the sum over the payments themselves."""
    moves: list[tuple[str, list[tuple[int, list[RefundStatus]]]]] = [
        ("GBP", [(300, [RefundStatus.EXECUTED]), (200, [RefundStatus.FAILED])]),
        ("GBP", [(2000, [RefundStatus.EXECUTED, RefundStatus.FAILED])]),
        ("EUR", [(150, [RefundStatus.EXECUTED]), (50, [RefundStatus.EXECUTED])]),
        ("EUR", [(999, [])]),
    ]
    for n, (currency, refunds) in enumerate(moves):
        payment = payment_with_link(repository, n, amount="20.00", currency=currency)
        payment = (
            dynamo.payment_observe(
                repository,
                user_id=payment.user_id,
                payment_id=payment.payment_id,
                observation=AttemptSeen(f"tl-{n}", AttemptStatus.SETTLED, T0),
                source="test",
            ).payment
            or payment
        )
        for k, (minor, statuses) in enumerate(refunds):
            refund_id = f"r{n}-{k}"
            dynamo.refund_create(
                repository, payment=payment, refund=refund(payment, minor, refund_id)
            )
            for status in statuses:
                dynamo.payment_observe(
                    repository,
                    user_id=payment.user_id,
                    payment_id=payment.payment_id,
                    observation=RefundSeen(refund_id, f"tl-{n}", status, T0),
                    source="test",
                )
    brute: dict[str, tuple[int, Decimal]] = {}
    for row in dynamo.payment_iter(repository, user_id=ALICE):
        found = dynamo.payment_get(repository, user_id=ALICE, payment_id=row.payment_id)
        assert found is not None
        for r in found.lifecycle.refunds:
            if r.status is RefundStatus.EXECUTED:
                count, amount = brute.get(found.currency, (0, Decimal(0)))
                brute[found.currency] = (count + 1, amount + Decimal(r.amount_minor or 0) / 100)
    totals = dynamo.refund_totals_for_range(
        repository,
        user_id=ALICE,
        start=datetime.now(UTC) - timedelta(days=2),
        end=datetime.now(UTC) + timedelta(days=1),
    )
    assert totals == brute == {"GBP": (1, Decimal("3.00")), "EUR": (2, Decimal("2.00"))}
