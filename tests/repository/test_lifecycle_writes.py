"""`payment_observe`: the one conditional write behind every status change."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payments import dynamo
from payments.domain import PaymentStatus as S
from payments.dynamo import Dynamo, EventReceipt
from payments.dynamo import lifecycle as dynamo_lifecycle
from payments.dynamo.client import RetryConflict
from payments.dynamo.items import deserialize, payment_key, serialize
from payments.lifecycle import AttemptSeen, AttemptStatus, Lifecycle, LinkDisabled
from payments.lifecycle import apply_observation as real_apply
from tests.factories import ALICE, BOB

A = AttemptStatus
T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)


def _new(repo: Dynamo, user_id: str = ALICE) -> str:
    payment = dynamo.payment_create(
        repo, user_id=user_id, amount="20.00", currency="GBP", reference="R"
    )
    dynamo.payment_link_set(
        repo,
        user_id=user_id,
        payment_id=payment.payment_id,
        link_id=f"link-{payment.payment_id}",
        link_url="https://x",
        response={},
    )
    return payment.payment_id


def observe(repo: Dynamo, payment_id: str, seen: Any, **kw: Any) -> dynamo.Observed:
    return dynamo.payment_observe(
        repo, user_id=ALICE, payment_id=payment_id, observation=seen, source="test", **kw
    )


def all_time_counts(repo: Dynamo, user_id: str = ALICE) -> dict[tuple[S, str], int]:
    stats = dynamo.stats_for_range(
        repo,
        user_id=user_id,
        start=datetime(2000, 1, 1, tzinfo=UTC),
        end=datetime(2100, 1, 1, tzinfo=UTC),
    )
    return {k: v.count for k, v in stats.totals.items() if v.count}


def test_two_attempts_are_kept_and_the_status_follows_the_rule(repository: Dynamo) -> None:
    payment_id = _new(repository)
    observe(repository, payment_id, AttemptSeen("a", A.AUTHORIZATION_REQUIRED, T0, created_at=T0))
    failed = observe(repository, payment_id, AttemptSeen("a", A.FAILED, T0, failure_reason="x"))
    assert failed.payment is not None and failed.payment.status is S.ATTEMPT_FAILED
    later = T0 + timedelta(minutes=1)
    observe(
        repository, payment_id, AttemptSeen("b", A.AUTHORIZATION_REQUIRED, later, created_at=later)
    )
    observe(repository, payment_id, AttemptSeen("b", A.EXECUTED, later, provider_id="ob-bank"))
    observe(repository, payment_id, LinkDisabled("fulfilled", later))
    payment = dynamo.payment_get(repository, user_id=ALICE, payment_id=payment_id)
    assert payment is not None and payment.status is S.EXECUTED
    assert [(a.attempt_id, a.status) for a in payment.attempts] == [
        ("a", A.FAILED),
        ("b", A.EXECUTED),
    ]
    assert payment.attempts[1].provider_id == "ob-bank"
    assert payment.truelayer_payment_id == "b"
    assert all_time_counts(repository) == {(S.EXECUTED, "GBP"): 1}
    # Each attempt's owner is known, for the next event about it.
    assert dynamo.owner_get(repository, dynamo.ATTEMPT, "a") == (ALICE, payment_id)
    assert dynamo.owner_get(repository, dynamo.LINK, f"link-{payment_id}") == (ALICE, payment_id)


def test_reversal_and_failed_verification_leave_the_successful_totals(repository: Dynamo) -> None:
    reversed_id, verified_id = _new(repository), _new(repository)
    observe(repository, reversed_id, AttemptSeen("r", A.SETTLED, T0))
    observe(repository, verified_id, AttemptSeen("v", A.EXECUTED, T0))
    assert all_time_counts(repository) == {(S.SETTLED, "GBP"): 1, (S.EXECUTED, "GBP"): 1}
    observe(repository, reversed_id, AttemptSeen("r", A.REVERSED, T0))
    observe(repository, verified_id, AttemptSeen("v", A.FAILED, T0, failure_stage="executed"))
    observe(repository, verified_id, LinkDisabled("fulfilled", T0))
    assert all_time_counts(repository) == {(S.REVERSED, "GBP"): 1, (S.FAILED, "GBP"): 1}


def test_a_late_event_and_a_repeat_change_nothing(repository: Dynamo) -> None:
    payment_id = _new(repository)
    observe(repository, payment_id, AttemptSeen("a", A.SETTLED, T0))
    before = dynamo.payment_get(repository, user_id=ALICE, payment_id=payment_id)
    late = observe(repository, payment_id, AttemptSeen("a", A.EXECUTED, T0))
    again = observe(repository, payment_id, AttemptSeen("a", A.SETTLED, T0))
    assert (late.outcome, again.outcome) == ("not a valid move", "no change")
    after = dynamo.payment_get(repository, user_id=ALICE, payment_id=payment_id)
    assert after == before  # not even updatedAt moved


def test_an_event_is_applied_once_and_its_repeat_is_logged(repository: Dynamo) -> None:
    payment_id = _new(repository)
    receipt = EventReceipt("ev-1", "payment_executed", "2026-11-20T10:00:00Z", T0)
    first = observe(repository, payment_id, AttemptSeen("a", A.EXECUTED, T0), receipt=receipt)
    second = observe(repository, payment_id, AttemptSeen("a", A.EXECUTED, T0), receipt=receipt)
    assert first.applied and second.outcome == "duplicate"
    assert dynamo.event_seen(repository, "ev-1")
    payment = dynamo.payment_get(repository, user_id=ALICE, payment_id=payment_id)
    assert payment is not None
    assert [(e.event_id, e.outcome) for e in payment.webhook_log] == [
        ("ev-1", "applied"),
        ("ev-1", "duplicate"),
    ]


def test_the_webhook_log_is_bounded(repo: Dynamo) -> None:
    payment_id = _new(repo)
    for i in range(dynamo_lifecycle_items_limit() + 5):
        receipt = EventReceipt(f"ev-{i}", "payment_settlement_stalled", "", T0)
        observe(repo, payment_id, AttemptSeen("a", A.EXECUTED, T0), receipt=receipt)
    payment = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
    assert payment is not None
    assert len(payment.webhook_log) == dynamo_lifecycle_items_limit()
    assert payment.webhook_log[-1].event_id == f"ev-{dynamo_lifecycle_items_limit() + 4}"


def dynamo_lifecycle_items_limit() -> int:
    from payments.domain import WEBHOOK_LOG_LIMIT

    return WEBHOOK_LOG_LIMIT


def test_dynamodb_itself_refuses_a_move_the_table_does_not_list(
    dynamodb_local_repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that decided on a stale read (attempt still authorizing, while it is settled)
    cannot write: the condition generated from the transition table fails in DynamoDB."""
    repo = dynamodb_local_repo
    payment_id = _new(repo)
    observe(repo, payment_id, AttemptSeen("a", A.AUTHORIZING, T0))
    stale_version = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
    assert stale_version is not None
    observe(repo, payment_id, AttemptSeen("a", A.SETTLED, T0))
    # Forge the stale writer: same version as now (so only the status condition can stop it),
    # but a decision made from the lifecycle it had read.
    stale = stale_version.lifecycle

    def decide_from_stale(lifecycle: Lifecycle, seen: Any, *, source: str) -> Any:
        return real_apply(stale, seen, source=source)

    monkeypatch.setattr(dynamo_lifecycle, "apply_observation", decide_from_stale)
    monkeypatch.setattr(dynamo_lifecycle, "retry_on_conflict", lambda cycle: cycle())
    with pytest.raises(RetryConflict):
        observe(repo, payment_id, AttemptSeen("a", A.AUTHORIZED, T0))
    monkeypatch.undo()
    payment = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
    assert payment is not None and payment.status is S.SETTLED


def test_a_payment_stored_in_the_old_shape_opens_and_updates(repository: Dynamo) -> None:
    payment_id = _new(repository)
    observe(repository, payment_id, AttemptSeen("tl-old", A.EXECUTED, T0))
    # Rewrite it as the product stored payments before attempts existed.
    raw = repository.client.get_item(
        TableName=repository.table, Key=payment_key(ALICE, payment_id), ConsistentRead=True
    )["Item"]
    item = deserialize(raw)
    for attribute in ("attempts", "link", "refunds", "version", "webhookLog"):
        item.pop(attribute, None)
    item["truelayerPaymentId"] = "tl-old"
    repository.client.put_item(TableName=repository.table, Item=serialize(item))
    old = dynamo.payment_get(repository, user_id=ALICE, payment_id=payment_id)
    assert old is not None and old.status is S.EXECUTED
    assert [(a.attempt_id, a.status) for a in old.attempts] == [("tl-old", A.EXECUTED)]
    settled = observe(repository, payment_id, AttemptSeen("tl-old", A.SETTLED, T0))
    assert settled.applied and settled.payment is not None
    assert settled.payment.status is S.SETTLED and settled.payment.version == 1
    assert all_time_counts(repository) == {(S.SETTLED, "GBP"): 1}


def test_concurrent_events_lose_nothing(dynamodb_local_repo: Dynamo) -> None:
    """On DynamoDB Local only: moto does not make a transaction's condition check and write
    atomic across threads, so it cannot judge a race."""
    repo = dynamodb_local_repo
    payment_ids = [_new(repo) for _ in range(3)]
    steps = (A.AUTHORIZATION_REQUIRED, A.AUTHORIZING, A.AUTHORIZED, A.EXECUTED, A.SETTLED)
    barrier = threading.Barrier(len(steps) * len(payment_ids))
    errors: list[BaseException] = []

    def deliver(payment_id: str, status: AttemptStatus) -> None:
        try:
            barrier.wait()
            observe(repo, payment_id, AttemptSeen(f"a-{payment_id}", status, T0))
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
    for payment_id in payment_ids:
        payment = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
        assert payment is not None and payment.status is S.SETTLED
        (attempt,) = payment.attempts
        moves = [h.status for h in attempt.history]
        assert moves[-1] is A.SETTLED and len(moves) == len(set(moves))
        assert [steps.index(m) for m in moves] == sorted(steps.index(m) for m in moves)
    assert all_time_counts(repo) == {(S.SETTLED, "GBP"): 3}


def test_another_merchants_payment_is_not_touched(repository: Dynamo) -> None:
    bobs = _new(repository, BOB)
    result = observe(repository, bobs, AttemptSeen("a", A.EXECUTED, T0))
    assert result.outcome == "missing"
    assert all_time_counts(repository, BOB) == {(S.PENDING, "GBP"): 1}
