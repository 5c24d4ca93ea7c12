"""The statuses a payment and its attempts, link and refunds can be in, and the transition
tables they move along (each acyclic: a late or repeated event can never take anything back to a
state it has left)."""

from __future__ import annotations

from collections.abc import Mapping
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

REFUND_RESERVING = frozenset({RefundStatus.PENDING, RefundStatus.AUTHORIZED, RefundStatus.EXECUTED})
# A payment can be refunded once its winning attempt reached one of these (link payments pay
# into the merchant account; the refund starts when the payment settles).
REFUNDABLE_STATUSES = frozenset(
    {PaymentStatus.AUTHORIZED, PaymentStatus.EXECUTED, PaymentStatus.SETTLED}
)
