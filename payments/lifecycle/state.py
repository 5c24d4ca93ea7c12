"""The records a payment's status is derived from (attempts, link, refunds, timeline) and the
one rule that derives it, `derive_status`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from payments.lifecycle.statuses import (
    _A,
    _LIVE,
    _SUCCEEDED,
    ATTEMPT_ORDER,
    REFUND_RESERVING,
    AttemptStatus,
    LinkStatus,
    PaymentStatus,
    RefundStatus,
)

# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    """One entry of a payment's timeline: the payment's status after it, when, what said so
    (`source`, e.g. "webhook payment_executed", "refresh from TrueLayer", "reconciliation"),
    what happened in words (`detail`), and for a member's action who did it (`actor`, e.g.
    "Alice <alice@example.com>")."""

    status: PaymentStatus
    at: datetime
    source: str
    detail: str = ""
    actor: str = ""


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
    def settlement(self) -> Settlement | None:
        """A fact about the settlement, shown beside the status (None when there is none)."""
        if self.status is _A.SETTLED and self.creditable_at:
            return Settlement.SETTLED_CREDITABLE
        if self.creditable_at and self.status is _A.EXECUTED:
            return Settlement.CREDITABLE
        if self.settlement_stalled_at and self.status is _A.EXECUTED:
            return Settlement.STALLED
        return None

    @property
    def settlement_badge(self) -> str:
        return self.settlement.label if self.settlement else ""


class Settlement(StrEnum):
    """What the winning attempt's settlement tells the merchant (stored as the value)."""

    SETTLED_CREDITABLE = "settled_creditable"
    CREDITABLE = "creditable"
    STALLED = "stalled"

    @property
    def label(self) -> str:
        return _SETTLEMENT_LABELS[self]


_SETTLEMENT_LABELS = {
    Settlement.SETTLED_CREDITABLE: "settled — safe to credit",
    Settlement.CREDITABLE: "safe to credit",
    Settlement.STALLED: "settlement stalled",
}


@dataclass(frozen=True)
class LinkState:
    status: LinkStatus = LinkStatus.ENABLED
    disabled_reason: str = ""  # "expired", "fulfilled", or whatever TrueLayer sends
    disabled_at: datetime | None = None

    @property
    def closed(self) -> bool:
        return self.status is LinkStatus.DISABLED


# Refund statuses whose amount is spoken for: they count against what remains to refund.


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
class RowFacts:
    """The few facts of a lifecycle a list, search or export row shows beside the status: the
    winning attempt's settlement and the refunds' count and sums (minor units). Every write of
    a lifecycle stores them on the payment item next to it (`Lifecycle.row_facts`), so a row
    reads four small attributes instead of every attempt with its history and every refund."""

    settlement: Settlement | None = None
    refund_count: int = 0
    refunded_minor: int = 0  # executed
    refund_pending_minor: int = 0  # pending or authorised

    @property
    def refund_reserved_minor(self) -> int:
        """What no new refund may take again (as `Lifecycle.refund_reserved_minor`)."""
        return self.refunded_minor + self.refund_pending_minor


_REFUND_PENDING = frozenset({RefundStatus.PENDING, RefundStatus.AUTHORIZED})


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
    def row_facts(self) -> RowFacts:
        """What a list row shows of this lifecycle beyond the status (see `RowFacts`)."""
        winner = self.winning_attempt
        return RowFacts(
            settlement=winner.settlement if winner else None,
            refund_count=len(self.refunds),
            refunded_minor=self.refunded_minor,
            refund_pending_minor=sum(
                r.amount_minor or 0 for r in self.refunds if r.status in _REFUND_PENDING
            ),
        )

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
