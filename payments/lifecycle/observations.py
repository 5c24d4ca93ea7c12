"""What we learn about a payment (observations) and `apply_observation`, the one place where
an observation — from a webhook, "Refresh status" or reconciliation — becomes a new state, an
outcome and timeline entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from payments.lifecycle.state import (
    Attempt,
    AttemptChange,
    Lifecycle,
    LinkState,
    Refund,
    StatusChange,
)
from payments.lifecycle.statuses import (
    _A,
    REFUND_MOVES,
    AttemptStatus,
    LinkStatus,
    PaymentStatus,
    RefundStatus,
    attempt_can_move,
)

# --- observations: what we learn about a payment ---------------------------------------------


@dataclass(frozen=True)
class AttemptSeen:
    """An attempt exists and is in `status` (from a webhook or from TrueLayer's API)."""

    attempt_id: str
    status: AttemptStatus
    at: datetime
    created_at: datetime | None = None
    failure_stage: str = ""
    failure_reason: str = ""
    provider_id: str = ""


@dataclass(frozen=True)
class LinkDisabled:
    reason: str
    at: datetime


@dataclass(frozen=True)
class SettlementFact:
    """`payment_creditable` ("creditable") or `payment_settlement_stalled` ("stalled")."""

    attempt_id: str
    fact: str
    at: datetime


@dataclass(frozen=True)
class CancellationFailed:
    attempt_id: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True)
class RefundSeen:
    refund_id: str
    attempt_id: str
    status: RefundStatus
    at: datetime
    amount_minor: int | None = None
    failure_reason: str = ""
    # Our refund id, when TrueLayer's answer carries it back (metadata.refund_id).
    our_refund_id: str = ""


Observation = AttemptSeen | LinkDisabled | SettlementFact | CancellationFailed | RefundSeen


class Outcome(StrEnum):
    APPLIED = "applied"
    NO_CHANGE = "no change"  # already known: nothing to write
    NOT_A_VALID_MOVE = "not a valid move"  # late or contradicting: refused by the table


@dataclass(frozen=True)
class Decision:
    """What an observation does to a payment. `moves` are the attempt status moves made, as
    (attempt id, status before or None, status after), for the write's DynamoDB condition."""

    outcome: Outcome
    lifecycle: Lifecycle
    status: PaymentStatus
    timeline: tuple[StatusChange, ...] = ()
    moves: tuple[tuple[str, AttemptStatus | None, AttemptStatus], ...] = ()

    @property
    def changed(self) -> bool:
        return self.outcome is Outcome.APPLIED


_ATTEMPT_WORDS: Mapping[AttemptStatus, str] = {
    _A.AUTHORIZATION_REQUIRED: "payer started paying",
    _A.AUTHORIZING: "payer is authorising at their bank",
    _A.AUTHORIZED: "payment authorised",
    _A.ATTEMPT_FAILED: "attempt failed, TrueLayer retrying",
    _A.EXECUTED: "payment executed",
    _A.SETTLED: "payment settled",
    _A.FAILED: "payment failed",
    _A.REVERSED: "payment reversed",
}


def apply_observation(lifecycle: Lifecycle, seen: Observation, *, source: str) -> Decision:
    """The new lifecycle after `seen`, the derived status, and the timeline entries to add.

    Applying the same observation twice changes nothing the second time (`NO_CHANGE`); a move
    the transition table does not list is `NOT_A_VALID_MOVE` and changes nothing."""
    before = lifecycle.status
    if isinstance(seen, AttemptSeen):
        return _attempt_seen(lifecycle, seen, source, before)
    if isinstance(seen, LinkDisabled):
        if lifecycle.link.closed:
            return Decision(Outcome.NO_CHANGE, lifecycle, before)
        link = LinkState(LinkStatus.DISABLED, seen.reason or "unknown", seen.at)
        after = replace(lifecycle, link=link)
        words = {"expired": "link expired", "fulfilled": "link closed after a payment"}.get(
            seen.reason, f"link disabled ({seen.reason or 'no reason given'})"
        )
        return _decided(after, seen.at, source, words)
    if isinstance(seen, SettlementFact):
        attempt = lifecycle.attempt(seen.attempt_id)
        field = "creditable_at" if seen.fact == "creditable" else "settlement_stalled_at"
        if attempt is None or getattr(attempt, field) is not None:
            return Decision(
                Outcome.NO_CHANGE if attempt else Outcome.NOT_A_VALID_MOVE, lifecycle, before
            )
        marked = (
            replace(attempt, creditable_at=seen.at)
            if seen.fact == "creditable"
            else replace(attempt, settlement_stalled_at=seen.at)
        )
        after = _with_attempt(lifecycle, marked)
        words = "safe to credit" if seen.fact == "creditable" else "settlement stalled"
        return _decided(after, seen.at, source, words)
    if isinstance(seen, CancellationFailed):
        detail = "cancellation failed" + (f" ({seen.reason})" if seen.reason else "")
        entry = StatusChange(before, seen.at, source, detail)
        return Decision(Outcome.APPLIED, lifecycle, before, (entry,))
    return _refund_seen(lifecycle, seen, source, before)


def _attempt_seen(
    lifecycle: Lifecycle, seen: AttemptSeen, source: str, before: PaymentStatus
) -> Decision:
    current = lifecycle.attempt(seen.attempt_id)
    was = current.status if current else None
    if was is seen.status:
        # Known already; fill in what an earlier, thinner observation lacked.
        assert current is not None
        richer = replace(
            current,
            created_at=current.created_at or seen.created_at,
            provider_id=current.provider_id or seen.provider_id,
            failure_stage=current.failure_stage or seen.failure_stage,
            failure_reason=current.failure_reason or seen.failure_reason,
        )
        if richer == current:
            return Decision(Outcome.NO_CHANGE, lifecycle, before)
        return Decision(Outcome.APPLIED, _with_attempt(lifecycle, richer), before)
    if not attempt_can_move(was, seen.status):
        return Decision(Outcome.NOT_A_VALID_MOVE, lifecycle, before)
    base = current or Attempt(attempt_id=seen.attempt_id, status=seen.status)
    attempt = replace(
        base,
        status=seen.status,
        created_at=base.created_at or seen.created_at,
        provider_id=seen.provider_id or base.provider_id,
        failure_stage=seen.failure_stage or base.failure_stage,
        failure_reason=seen.failure_reason or base.failure_reason,
        reversed_at=seen.at if seen.status is _A.REVERSED else base.reversed_at,
        history=(*base.history, AttemptChange(seen.status, seen.at, source)),
    )
    after = _with_attempt(lifecycle, attempt)
    words = _ATTEMPT_WORDS[seen.status]
    if seen.status is _A.FAILED and seen.failure_reason:
        words += f" ({seen.failure_reason})"
    if len(after.attempts) > 1:
        words = f"attempt {after.attempts.index(attempt) + 1}: {words}"
    decision = _decided(after, seen.at, source, words)
    return replace(decision, moves=((seen.attempt_id, was, seen.status),))


def _refund_seen(
    lifecycle: Lifecycle, seen: RefundSeen, source: str, before: PaymentStatus
) -> Decision:
    # Events name TrueLayer's refund id; ours are stored under our own id with TrueLayer's
    # beside it (API answers also carry ours in metadata). A refund we never made (TrueLayer
    # Console) is kept under TrueLayer's id and counts against the remainder all the same.
    ours = lifecycle.refund(seen.our_refund_id) if seen.our_refund_id else None
    current = ours or lifecycle.refund(seen.refund_id)
    # An entry an early webhook made under TrueLayer's id, now that ours is known: fold it in.
    stray = lifecycle.refund(seen.refund_id) if ours is not None else None
    stray = stray if stray is not None and stray is not ours else None
    refunds = tuple(r for r in lifecycle.refunds if r is not current and r is not stray)
    if stray is not None and current is not None:
        current = _fold(current, stray)
    was = current.status if current else None
    if current is not None and was is seen.status:
        richer = replace(
            current,
            amount_minor=current.amount_minor
            if current.amount_minor is not None
            else seen.amount_minor,
            truelayer_refund_id=current.truelayer_refund_id or seen.refund_id,
        )
        accepted = richer.truelayer_refund_id != current.truelayer_refund_id
        if accepted:
            richer = replace(richer, send_error="")
        if richer == current and stray is None:
            return Decision(Outcome.NO_CHANGE, lifecycle, before)
        after = replace(lifecycle, refunds=(*refunds, richer))
        if accepted:
            return _decided(after, seen.at, source, "refund accepted by TrueLayer")
        return Decision(Outcome.APPLIED, after, before)
    if seen.status not in REFUND_MOVES[was]:
        return Decision(Outcome.NOT_A_VALID_MOVE, lifecycle, before)
    base = current or Refund(
        refund_id=seen.refund_id, status=seen.status, truelayer_refund_id=seen.refund_id
    )
    refund = replace(
        base,
        status=seen.status,
        attempt_id=seen.attempt_id or base.attempt_id,
        amount_minor=seen.amount_minor if seen.amount_minor is not None else base.amount_minor,
        at=seen.at,
        failure_reason=seen.failure_reason or base.failure_reason,
        truelayer_refund_id=base.truelayer_refund_id or seen.refund_id,
        send_error="",
    )
    after = replace(lifecycle, refunds=(*refunds, refund))
    words = f"refund {seen.status.value}" + (
        f" ({seen.failure_reason})" if seen.failure_reason else ""
    )
    if current is None:
        words += " (made outside the dashboard)"
    return _decided(after, seen.at, source, words)


def _fold(ours: Refund, stray: Refund) -> Refund:
    """Our refund, with what an entry stored under TrueLayer's id learned first."""
    if stray.status is ours.status or stray.status not in REFUND_MOVES[ours.status]:
        return replace(ours, truelayer_refund_id=ours.truelayer_refund_id or stray.refund_id)
    return replace(
        ours,
        status=stray.status,
        at=stray.at,
        failure_reason=stray.failure_reason,
        truelayer_refund_id=ours.truelayer_refund_id or stray.refund_id,
    )


def _with_attempt(lifecycle: Lifecycle, attempt: Attempt) -> Lifecycle:
    attempts = list(lifecycle.attempts)
    for i, existing in enumerate(attempts):
        if existing.attempt_id == attempt.attempt_id:
            attempts[i] = attempt
            break
    else:
        attempts.append(attempt)
    # Oldest first, so "attempt 1" stays attempt 1 (unknown creation times sort last).
    attempts.sort(key=lambda a: (a.created_at is None, a.created_at or datetime.max, a.attempt_id))
    return replace(lifecycle, attempts=tuple(attempts))


def _decided(after: Lifecycle, at: datetime, source: str, words: str) -> Decision:
    status = after.status
    return Decision(Outcome.APPLIED, after, status, (StatusChange(status, at, source, words),))
