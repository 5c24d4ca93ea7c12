"""What a payment goes through: TrueLayer's real lifecycle, as pure rules with no storage.

A merchant's payment has one TrueLayer payment link. Each time the payer presses "Pay now" on it,
TrueLayer creates a payment **attempt** with its own id; an attempt can fail and the payer can try
again on the same link until it is fulfilled or expires. So the payment's status is never simply
"the latest event": it is **derived** from its attempts and its link by one rule,
`derive_status`, written out in its docstring.

Each attempt moves along `ATTEMPT_MOVES`, a transition table taken from TrueLayer's documentation
(including `executed → failed` for a failed name/age verification and `settled → reversed` for a
bank return). The table has no cycle, so a late or repeated event can never take an attempt back
to a state it has left; the DynamoDB condition of every write is generated from it
(`attempt_statuses_before`), so a move it does not list is refused by DynamoDB itself.

`apply_observation` is the one place where something learned about a payment — from a webhook,
from "Refresh status" or from reconciliation — becomes a new state, an outcome and timeline
entries. Services call it; the data layer stores what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class PaymentStatus(StrEnum):
    """What the merchant sees: derived from the attempts and the link (`derive_status`)."""

    PENDING = "pending"  # link created (or being created), nobody has paid yet
    AUTHORIZATION_REQUIRED = "authorization_required"
    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    ATTEMPT_FAILED = "attempt_failed"  # an attempt failed; the link is open: the payer can retry
    EXECUTED = "executed"
    SETTLED = "settled"
    FAILED = "failed"
    EXPIRED = "expired"  # the link closed with no attempt at all
    REVERSED = "reversed"  # the money arrived, then went back (payment_reversed)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


STATUS_LABELS: Mapping[PaymentStatus, str] = {
    PaymentStatus.PENDING: "Pending",
    PaymentStatus.AUTHORIZATION_REQUIRED: "Authorisation required",
    PaymentStatus.AUTHORIZING: "Authorising",
    PaymentStatus.AUTHORIZED: "Authorised",
    PaymentStatus.ATTEMPT_FAILED: "Attempt failed",
    PaymentStatus.EXECUTED: "Executed",
    PaymentStatus.SETTLED: "Settled",
    PaymentStatus.FAILED: "Failed",
    PaymentStatus.EXPIRED: "Expired",
    PaymentStatus.REVERSED: "Reversed",
}

# Nothing more will happen on its own: no polling, no link to send, not reconciled. (A settled
# payment can still be reversed by a bank return; that arrives by webhook.)
FINAL_STATUSES = frozenset(
    {PaymentStatus.SETTLED, PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.REVERSED}
)
# Counted as money received in statistics (success rate, volume).
SUCCESSFUL_STATUSES = frozenset({PaymentStatus.EXECUTED, PaymentStatus.SETTLED})


class AttemptStatus(StrEnum):
    """TrueLayer's v3 payment statuses, one attempt at a time, plus `reversed`."""

    AUTHORIZATION_REQUIRED = "authorization_required"
    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    ATTEMPT_FAILED = "attempt_failed"  # only with TrueLayer's payment retries
    EXECUTED = "executed"
    SETTLED = "settled"
    FAILED = "failed"
    REVERSED = "reversed"


_A = AttemptStatus
ATTEMPT_LABELS: Mapping[AttemptStatus, str] = {
    _A.AUTHORIZATION_REQUIRED: "Started (authorisation required)",
    _A.AUTHORIZING: "Authorising at the bank",
    _A.AUTHORIZED: "Authorised",
    _A.ATTEMPT_FAILED: "Failed, TrueLayer retrying",
    _A.EXECUTED: "Executed",
    _A.SETTLED: "Settled",
    _A.FAILED: "Failed",
    _A.REVERSED: "Reversed",
}
# Allowed moves of one attempt. `None` is "not known yet": an attempt can first be heard of in
# any status (events arrive out of order; `payment_authorized` is opt-in and often never comes).
# Listed in the order the table is acyclic in: every move goes to a later status.
ATTEMPT_ORDER: tuple[AttemptStatus, ...] = (
    _A.AUTHORIZATION_REQUIRED,
    _A.AUTHORIZING,
    _A.AUTHORIZED,
    _A.ATTEMPT_FAILED,
    _A.EXECUTED,
    _A.SETTLED,
    _A.FAILED,
    _A.REVERSED,
)
ATTEMPT_MOVES: Mapping[AttemptStatus | None, frozenset[AttemptStatus]] = {
    None: frozenset(_A),
    _A.AUTHORIZATION_REQUIRED: frozenset(
        {_A.AUTHORIZING, _A.AUTHORIZED, _A.ATTEMPT_FAILED, _A.EXECUTED, _A.SETTLED, _A.FAILED}
        | {_A.REVERSED}
    ),
    _A.AUTHORIZING: frozenset(
        {_A.AUTHORIZED, _A.ATTEMPT_FAILED, _A.EXECUTED, _A.SETTLED, _A.FAILED, _A.REVERSED}
    ),
    _A.AUTHORIZED: frozenset({_A.ATTEMPT_FAILED, _A.EXECUTED, _A.SETTLED, _A.FAILED, _A.REVERSED}),
    _A.ATTEMPT_FAILED: frozenset({_A.EXECUTED, _A.SETTLED, _A.FAILED, _A.REVERSED}),
    # Merchant-account payments with name or age verification can fail after execution.
    _A.EXECUTED: frozenset({_A.SETTLED, _A.FAILED, _A.REVERSED}),
    # A bank return after settlement (payment_reversed).
    _A.SETTLED: frozenset({_A.REVERSED}),
    _A.FAILED: frozenset(),
    _A.REVERSED: frozenset(),
}
_LIVE = frozenset({_A.AUTHORIZATION_REQUIRED, _A.AUTHORIZING, _A.AUTHORIZED, _A.ATTEMPT_FAILED})
_SUCCEEDED = frozenset({_A.EXECUTED, _A.SETTLED})


def attempt_can_move(current: AttemptStatus | None, new: AttemptStatus) -> bool:
    return new in ATTEMPT_MOVES[current]


def attempt_statuses_before(new: AttemptStatus) -> frozenset[AttemptStatus]:
    """The statuses an attempt may be in for a move to `new` (for the DynamoDB condition);
    whether an unknown attempt may start there is `attempt_can_move(None, new)`."""
    return frozenset(s for s, nexts in ATTEMPT_MOVES.items() if s is not None and new in nexts)


class LinkStatus(StrEnum):
    ENABLED = "enabled"
    DISABLING = "disabling"  # a payment through it is being authorised
    DISABLED = "disabled"


LINK_MOVES: Mapping[LinkStatus, frozenset[LinkStatus]] = {
    LinkStatus.ENABLED: frozenset({LinkStatus.DISABLING, LinkStatus.DISABLED}),
    LinkStatus.DISABLING: frozenset({LinkStatus.ENABLED, LinkStatus.DISABLED}),
    LinkStatus.DISABLED: frozenset(),
}


class RefundStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    EXECUTED = "executed"
    FAILED = "failed"  # also after `executed`: a bank can return a refund


REFUND_MOVES: Mapping[RefundStatus | None, frozenset[RefundStatus]] = {
    None: frozenset(RefundStatus),
    RefundStatus.PENDING: frozenset(
        {RefundStatus.AUTHORIZED, RefundStatus.EXECUTED, RefundStatus.FAILED}
    ),
    RefundStatus.AUTHORIZED: frozenset({RefundStatus.EXECUTED, RefundStatus.FAILED}),
    RefundStatus.EXECUTED: frozenset({RefundStatus.FAILED}),
    RefundStatus.FAILED: frozenset(),
}


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    """One entry of a payment's timeline: the payment's status after it, when, what said so
    (`source`, e.g. "webhook payment_executed", "refresh from TrueLayer", "reconciliation"),
    and what happened in words (`detail`)."""

    status: PaymentStatus
    at: datetime
    source: str
    detail: str = ""


@dataclass(frozen=True)
class AttemptChange:
    status: AttemptStatus
    at: datetime
    source: str


@dataclass(frozen=True)
class Attempt:
    """One TrueLayer payment made through the link (its own `payment.id`)."""

    attempt_id: str
    status: AttemptStatus
    created_at: datetime | None = None
    failure_stage: str = ""
    failure_reason: str = ""
    provider_id: str = ""
    creditable_at: datetime | None = None
    settlement_stalled_at: datetime | None = None
    reversed_at: datetime | None = None
    history: tuple[AttemptChange, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.status in _SUCCEEDED

    @property
    def settlement_badge(self) -> str:
        """A fact about the settlement, shown beside the status ("" when there is none)."""
        if self.status is _A.SETTLED and self.creditable_at:
            return "settled — safe to credit"
        if self.creditable_at and self.status is _A.EXECUTED:
            return "safe to credit"
        if self.settlement_stalled_at and self.status is _A.EXECUTED:
            return "settlement stalled"
        return ""


@dataclass(frozen=True)
class LinkState:
    status: LinkStatus = LinkStatus.ENABLED
    disabled_reason: str = ""  # "expired", "fulfilled", or whatever TrueLayer sends
    disabled_at: datetime | None = None

    @property
    def closed(self) -> bool:
        return self.status is LinkStatus.DISABLED


# Refund statuses whose amount is spoken for: they count against what remains to refund.
REFUND_RESERVING = frozenset({RefundStatus.PENDING, RefundStatus.AUTHORIZED, RefundStatus.EXECUTED})
# A payment can be refunded once its winning attempt reached one of these (link payments pay
# into the merchant account; the refund starts when the payment settles).
REFUNDABLE_STATUSES = frozenset(
    {PaymentStatus.AUTHORIZED, PaymentStatus.EXECUTED, PaymentStatus.SETTLED}
)


@dataclass(frozen=True)
class Refund:
    """One refund of a payment. `refund_id` is ours (or TrueLayer's, for a refund made outside
    the product); `truelayer_refund_id` is TrueLayer's once it answered. A refund with no
    TrueLayer id and a `send_error` was stored but not (yet) accepted: "Retry" sends it again
    with the same `idempotency_key`."""

    refund_id: str
    status: RefundStatus
    attempt_id: str = ""
    amount_minor: int | None = None
    at: datetime | None = None
    failure_reason: str = ""
    truelayer_refund_id: str = ""
    reference: str = ""
    created_at: datetime | None = None
    idempotency_key: str = ""
    requested_by: str = ""
    send_error: str = ""

    @property
    def reserves(self) -> int:
        """Minor units this refund takes from what remains (0 once it failed)."""
        return (self.amount_minor or 0) if self.status in REFUND_RESERVING else 0

    @property
    def awaiting_truelayer(self) -> bool:
        """Stored by us, not yet accepted by TrueLayer: can be retried with the same key."""
        return (
            self.status is RefundStatus.PENDING
            and not self.truelayer_refund_id
            and bool(self.idempotency_key)
        )

    def matches(self, refund_id: str) -> bool:
        return refund_id in (self.refund_id, self.truelayer_refund_id)


@dataclass(frozen=True)
class Lifecycle:
    """Everything the status is derived from."""

    attempts: tuple[Attempt, ...] = ()
    link: LinkState = LinkState()
    refunds: tuple[Refund, ...] = ()

    def attempt(self, attempt_id: str) -> Attempt | None:
        return next((a for a in self.attempts if a.attempt_id == attempt_id), None)

    def refund(self, refund_id: str) -> Refund | None:
        """A refund by our id or TrueLayer's."""
        return next((r for r in self.refunds if r.matches(refund_id)), None)

    @property
    def refund_reserved_minor(self) -> int:
        """Pending, authorised and executed refunds: what no new refund may take again."""
        return sum(r.reserves for r in self.refunds)

    @property
    def refunded_minor(self) -> int:
        return sum(r.amount_minor or 0 for r in self.refunds if r.status is RefundStatus.EXECUTED)

    @property
    def status(self) -> PaymentStatus:
        return derive_status(self.attempts, self.link)

    @property
    def winning_attempt(self) -> Attempt | None:
        """The attempt the status comes from (None before the first one)."""
        if not self.attempts:
            return None
        return max(self.attempts, key=_attempt_weight)


def _attempt_weight(attempt: Attempt) -> tuple[int, int]:
    # Succeeded beats live beats reversed beats failed; then the later status; then newest.
    group = (
        3
        if attempt.status in _SUCCEEDED
        else 2
        if attempt.status in _LIVE
        else 1
        if attempt.status is _A.REVERSED
        else 0
    )
    return group, ATTEMPT_ORDER.index(attempt.status)


def derive_status(attempts: Iterable[Attempt], link: LinkState) -> PaymentStatus:
    """The payment's status, from its attempts and its link. The rule, in order:

    1. An attempt that succeeded wins: `settled` over `executed`.
    2. Else an attempt still in progress wins, the most advanced one (`authorized` over
       `authorizing` over `authorization_required`).
    3. Else an attempt that was reversed (money arrived, then went back): `reversed`.
    4. Else, when attempts failed: `failed` if the link is closed (nobody can pay any more),
       `attempt_failed` if it is open (the payer can try again, and a later attempt can still
       succeed).
    5. Else (no attempt at all): `expired` if the link is closed for any reason but
       "fulfilled", `pending` otherwise (a link fulfilled by an attempt we have not heard of
       yet stays pending until that attempt is known).
    """
    attempts = tuple(attempts)
    succeeded = [a.status for a in attempts if a.status in _SUCCEEDED]
    if succeeded:
        return PaymentStatus(max(succeeded, key=ATTEMPT_ORDER.index).value)
    live = [a.status for a in attempts if a.status in _LIVE]
    if live:
        return PaymentStatus(max(live, key=ATTEMPT_ORDER.index).value)
    if any(a.status is _A.REVERSED for a in attempts):
        return PaymentStatus.REVERSED
    if attempts:
        return PaymentStatus.FAILED if link.closed else PaymentStatus.ATTEMPT_FAILED
    if link.closed and link.disabled_reason != "fulfilled":
        return PaymentStatus.EXPIRED
    return PaymentStatus.PENDING


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
