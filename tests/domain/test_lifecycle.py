"""The payment lifecycle rules: transition table, the derived status, observations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payments.lifecycle import (
    ATTEMPT_MOVES,
    Attempt,
    AttemptSeen,
    AttemptStatus,
    CancellationFailed,
    Lifecycle,
    LinkDisabled,
    LinkState,
    LinkStatus,
    Outcome,
    PaymentStatus,
    RefundSeen,
    RefundStatus,
    SettlementFact,
    apply_observation,
    attempt_can_move,
    attempt_statuses_before,
    derive_status,
)

A = AttemptStatus
P = PaymentStatus
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
OPEN = LinkState()
CLOSED_EXPIRED = LinkState(LinkStatus.DISABLED, "expired", T0)
CLOSED_FULFILLED = LinkState(LinkStatus.DISABLED, "fulfilled", T0)


def attempt(attempt_id: str, status: AttemptStatus, minutes: int = 0) -> Attempt:
    return Attempt(attempt_id, status, created_at=T0 + timedelta(minutes=minutes))


def test_the_attempt_table_has_no_cycle_so_no_event_returns_to_a_state_left() -> None:
    def reachable(start: AttemptStatus) -> set[AttemptStatus]:
        seen: set[AttemptStatus] = set()
        todo = list(ATTEMPT_MOVES[start])
        while todo:
            status = todo.pop()
            if status not in seen:
                seen.add(status)
                todo.extend(ATTEMPT_MOVES[status])
        return seen

    for status in AttemptStatus:
        assert status not in reachable(status), status


@pytest.mark.parametrize(
    ("before", "after", "allowed"),
    [
        (A.EXECUTED, A.FAILED, True),  # name/age verification on a merchant-account payment
        (A.SETTLED, A.REVERSED, True),  # payment_reversed
        (A.AUTHORIZATION_REQUIRED, A.EXECUTED, True),  # payment_authorized is opt-in
        (None, A.SETTLED, True),  # first heard of late
        (A.SETTLED, A.EXECUTED, False),  # a late event
        (A.SETTLED, A.FAILED, False),
        (A.FAILED, A.EXECUTED, False),
        (A.REVERSED, A.SETTLED, False),
        (A.EXECUTED, A.AUTHORIZED, False),
    ],
)
def test_attempt_moves_follow_truelayers_documented_lifecycle(
    before: AttemptStatus | None, after: AttemptStatus, allowed: bool
) -> None:
    assert attempt_can_move(before, after) is allowed
    if before is not None:
        assert (before in attempt_statuses_before(after)) is allowed


@pytest.mark.parametrize(
    ("attempts", "link", "expected"),
    [
        ((), OPEN, P.PENDING),
        ((), CLOSED_EXPIRED, P.EXPIRED),
        ((), CLOSED_FULFILLED, P.PENDING),  # paid by an attempt not heard of yet
        ((attempt("a", A.FAILED),), OPEN, P.ATTEMPT_FAILED),
        ((attempt("a", A.FAILED),), CLOSED_EXPIRED, P.FAILED),
        ((attempt("a", A.FAILED), attempt("b", A.AUTHORIZING, 1)), OPEN, P.AUTHORIZING),
        ((attempt("a", A.FAILED), attempt("b", A.EXECUTED, 1)), CLOSED_FULFILLED, P.EXECUTED),
        ((attempt("a", A.EXECUTED), attempt("b", A.SETTLED, 1)), OPEN, P.SETTLED),
        ((attempt("a", A.SETTLED), attempt("b", A.FAILED, 1)), OPEN, P.SETTLED),
        ((attempt("a", A.FAILED),), CLOSED_FULFILLED, P.FAILED),  # verification failed
        ((attempt("a", A.REVERSED),), CLOSED_FULFILLED, P.REVERSED),
        ((attempt("a", A.REVERSED), attempt("b", A.FAILED, 1)), CLOSED_FULFILLED, P.REVERSED),
    ],
)
def test_status_is_derived_from_attempts_and_link(
    attempts: tuple[Attempt, ...], link: LinkState, expected: PaymentStatus
) -> None:
    assert derive_status(attempts, link) is expected


def seen(attempt_id: str, status: AttemptStatus, minutes: int = 0, **kw: str) -> AttemptSeen:
    at = T0 + timedelta(minutes=minutes)
    return AttemptSeen(attempt_id, status, at, created_at=at, **kw)


def run(*observations: object) -> tuple[Lifecycle, list[Outcome]]:
    lifecycle = Lifecycle()
    outcomes = []
    for observation in observations:
        decision = apply_observation(lifecycle, observation, source="test")  # type: ignore[arg-type]
        outcomes.append(decision.outcome)
        lifecycle = decision.lifecycle
    return lifecycle, outcomes


def test_a_failed_first_attempt_then_a_paid_second_keeps_both() -> None:
    lifecycle, outcomes = run(
        seen("a", A.AUTHORIZATION_REQUIRED),
        seen("a", A.FAILED, 1, failure_stage="authorizing", failure_reason="provider_rejected"),
        seen("b", A.AUTHORIZATION_REQUIRED, 2),
        seen("b", A.EXECUTED, 3, provider_id="ob-bank"),
        LinkDisabled("fulfilled", T0 + timedelta(minutes=3)),
    )
    assert outcomes == [Outcome.APPLIED] * 5
    assert [a.attempt_id for a in lifecycle.attempts] == ["a", "b"]
    assert lifecycle.attempts[0].failure_reason == "provider_rejected"
    assert lifecycle.attempts[1].provider_id == "ob-bank"
    assert lifecycle.status is P.EXECUTED


def test_a_duplicate_changes_nothing_and_a_late_event_is_not_a_valid_move() -> None:
    lifecycle, outcomes = run(
        seen("a", A.SETTLED),
        seen("a", A.SETTLED),
        seen("a", A.EXECUTED),
    )
    assert outcomes == [Outcome.APPLIED, Outcome.NO_CHANGE, Outcome.NOT_A_VALID_MOVE]
    assert lifecycle.status is P.SETTLED


def test_executed_then_failed_verification_and_settled_then_reversed() -> None:
    failed, _ = run(
        seen("a", A.EXECUTED),
        seen("a", A.FAILED, 1, failure_stage="executed", failure_reason="verification_failed"),
        LinkDisabled("fulfilled", T0),
    )
    assert failed.status is P.FAILED
    reversed_, _ = run(seen("a", A.SETTLED), seen("a", A.REVERSED, 5))
    assert reversed_.status is P.REVERSED
    assert reversed_.attempts[0].reversed_at == T0 + timedelta(minutes=5)


def test_settlement_facts_are_badges_not_statuses() -> None:
    lifecycle, outcomes = run(
        seen("a", A.EXECUTED),
        SettlementFact("a", "stalled", T0),
        SettlementFact("a", "stalled", T0),
    )
    assert outcomes[1:] == [Outcome.APPLIED, Outcome.NO_CHANGE]
    assert lifecycle.status is P.EXECUTED
    assert lifecycle.attempts[0].settlement_badge == "settlement stalled"
    lifecycle, _ = run(seen("a", A.SETTLED), SettlementFact("a", "creditable", T0))
    assert lifecycle.status is P.SETTLED
    assert lifecycle.attempts[0].settlement_badge == "settled — safe to credit"


def test_a_fact_about_an_unknown_attempt_is_refused() -> None:
    _, outcomes = run(SettlementFact("nobody", "creditable", T0))
    assert outcomes == [Outcome.NOT_A_VALID_MOVE]


def test_every_change_adds_a_timeline_entry_in_words() -> None:
    decision = apply_observation(
        Lifecycle(),
        seen("a", A.FAILED, failure_reason="insufficient_funds"),
        source="webhook payment_failed",
    )
    (entry,) = decision.timeline
    assert entry.status is P.ATTEMPT_FAILED
    assert entry.detail == "payment failed (insufficient_funds)"
    assert decision.moves == (("a", None, A.FAILED),)
    cancel = apply_observation(
        decision.lifecycle, CancellationFailed("a", T0, "too_late"), source="webhook"
    )
    assert cancel.timeline[0].detail == "cancellation failed (too_late)"


def test_refunds_move_along_their_own_table() -> None:
    lifecycle, outcomes = run(
        seen("a", A.SETTLED),
        RefundSeen("r1", "a", RefundStatus.EXECUTED, T0, amount_minor=500),
        RefundSeen("r1", "a", RefundStatus.PENDING, T0),
        RefundSeen("r1", "a", RefundStatus.FAILED, T0, failure_reason="returned"),
    )
    assert outcomes == [
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.NOT_A_VALID_MOVE,
        Outcome.APPLIED,
    ]
    (refund,) = lifecycle.refunds
    assert refund.status is RefundStatus.FAILED
    assert refund.amount_minor == 500


def test_a_second_link_disabled_changes_nothing() -> None:
    lifecycle, outcomes = run(LinkDisabled("expired", T0), LinkDisabled("fulfilled", T0))
    assert outcomes == [Outcome.APPLIED, Outcome.NO_CHANGE]
    assert lifecycle.status is P.EXPIRED
