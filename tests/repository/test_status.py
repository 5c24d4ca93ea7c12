from __future__ import annotations

import threading
from datetime import UTC, datetime

from payments.domain import PaymentStatus as S
from payments.repository import PaymentRepository
from tests.factories import ALICE


def _new(repo: PaymentRepository) -> str:
    return repo.create_payment(
        user_id=ALICE, amount="20.00", currency="GBP", reference="R"
    ).payment_id


def test_status_moves_forward_and_records_each_step(repository: PaymentRepository) -> None:
    payment_id = _new(repository)
    for status in (S.AUTHORIZING, S.AUTHORIZED, S.EXECUTED, S.SETTLED):
        update = repository.update_status(
            user_id=ALICE, payment_id=payment_id, status=status, source=f"webhook {status}"
        )
        assert update.applied
    payment = repository.get_payment(user_id=ALICE, payment_id=payment_id)
    assert payment is not None
    assert [h.status for h in payment.history] == [
        S.PENDING,
        S.AUTHORIZING,
        S.AUTHORIZED,
        S.EXECUTED,
        S.SETTLED,
    ]
    assert payment.updated_at >= payment.created_at


def test_status_never_moves_backwards(repository: PaymentRepository) -> None:
    payment_id = _new(repository)
    repository.update_status(user_id=ALICE, payment_id=payment_id, status=S.EXECUTED, source="t")
    late = repository.update_status(
        user_id=ALICE, payment_id=payment_id, status=S.AUTHORIZING, source="late event"
    )
    assert not late.applied
    assert late.payment is not None and late.payment.status is S.EXECUTED
    assert len(late.payment.history) == 2


def test_failed_is_terminal_and_keeps_its_reason(repository: PaymentRepository) -> None:
    payment_id = _new(repository)
    repository.update_status(
        user_id=ALICE,
        payment_id=payment_id,
        status=S.FAILED,
        source="t",
        failure_stage="authorizing",
        failure_reason="some_new_reason_code",
    )
    again = repository.update_status(
        user_id=ALICE, payment_id=payment_id, status=S.EXECUTED, source="t"
    )
    assert not again.applied
    assert again.payment is not None
    assert again.payment.failure_reason == "some_new_reason_code"
    assert again.payment.failure_stage == "authorizing"


def test_an_event_is_applied_once(repository: PaymentRepository) -> None:
    payment_id = _new(repository)
    first = repository.update_status(
        user_id=ALICE, payment_id=payment_id, status=S.EXECUTED, source="t", event_id="ev-1"
    )
    second = repository.update_status(
        user_id=ALICE, payment_id=payment_id, status=S.EXECUTED, source="t", event_id="ev-1"
    )
    assert first.applied and not first.duplicate
    assert second.duplicate and not second.applied
    assert repository.event_seen("ev-1")


def test_the_condition_lives_in_dynamodb_not_only_in_python(repository: PaymentRepository) -> None:
    """A writer holding a stale read cannot move the status: DynamoDB refuses it."""
    payment_id = _new(repository)
    stale = repository.get_payment(user_id=ALICE, payment_id=payment_id)
    repository.update_status(user_id=ALICE, payment_id=payment_id, status=S.SETTLED, source="t")
    original_get = repository.get_payment
    calls = {"n": 0}

    def stale_first(**kwargs: str) -> object:
        calls["n"] += 1
        return stale if calls["n"] == 1 else original_get(**kwargs)

    repository.get_payment = stale_first  # type: ignore[method-assign,assignment]
    try:
        update = repository.update_status(
            user_id=ALICE, payment_id=payment_id, status=S.AUTHORIZING, source="stale"
        )
    finally:
        del repository.get_payment
    assert not update.applied
    current = repository.get_payment(user_id=ALICE, payment_id=payment_id)
    assert current is not None and current.status is S.SETTLED


def test_concurrent_updates_lose_no_history_entry(dynamodb_local_repo: PaymentRepository) -> None:
    """On DynamoDB Local only: moto does not make a transaction's condition check and write
    atomic across threads, so it cannot judge a race."""
    repository = dynamodb_local_repo
    payment_ids = [_new(repository) for _ in range(3)]
    steps = (S.AUTHORIZATION_REQUIRED, S.AUTHORIZING, S.AUTHORIZED, S.EXECUTED, S.SETTLED)
    barrier = threading.Barrier(len(steps) * len(payment_ids))
    errors: list[BaseException] = []

    def deliver(payment_id: str, status: S) -> None:
        try:
            barrier.wait()
            repository.update_status(
                user_id=ALICE, payment_id=payment_id, status=status, source="race"
            )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=deliver, args=(pid, status))
        for pid in payment_ids
        for status in steps
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    stats = repository.payment_stats(
        user_id=ALICE, start=datetime(2000, 1, 1, tzinfo=UTC), end=datetime(2100, 1, 1, tzinfo=UTC)
    )
    for payment_id in payment_ids:
        payment = repository.get_payment(user_id=ALICE, payment_id=payment_id)
        assert payment is not None
        assert payment.status is S.SETTLED  # settled is reachable from every state, so it wins
        moves = [h.status for h in payment.history]
        # Every applied move is in the history, in a forward order, exactly once.
        assert moves[0] is S.PENDING and moves[-1] is S.SETTLED
        assert len(moves) == len(set(moves))
        assert [steps.index(m) for m in moves[1:]] == sorted(steps.index(m) for m in moves[1:])
    assert {k: v.count for k, v in stats.totals.items()} == {(S.SETTLED, "GBP"): 3}
