"""What a payment is, independent of where it is stored: statuses and the order they move in,
money rules, and the immutable records the repository hands out.

Money is `Decimal` in major units with its currency; integer minor units only at the TrueLayer
boundary (`to_minor_units`). No float anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any


class PaymentStatus(StrEnum):
    PENDING = "pending"  # link created (or being created), nobody has paid yet
    AUTHORIZATION_REQUIRED = "authorization_required"
    AUTHORIZING = "authorizing"
    AUTHORIZED = "authorized"
    ATTEMPT_FAILED = "attempt_failed"  # not terminal: only with payment retries
    EXECUTED = "executed"
    SETTLED = "settled"
    FAILED = "failed"
    EXPIRED = "expired"  # the link expired (or was disabled) with no payment

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
}

FINAL_STATUSES = frozenset({PaymentStatus.SETTLED, PaymentStatus.FAILED, PaymentStatus.EXPIRED})
# Counted as money received in statistics (success rate).
SUCCESSFUL_STATUSES = frozenset({PaymentStatus.EXECUTED, PaymentStatus.SETTLED})

_S = PaymentStatus
# Where each status may move next. Status only moves forward: a late or repeated event that is
# not listed here changes nothing. `attempt_failed` may start a new attempt (payment retries).
_NEXT: Mapping[PaymentStatus, frozenset[PaymentStatus]] = {
    _S.PENDING: frozenset(set(_S) - {_S.PENDING}),
    _S.AUTHORIZATION_REQUIRED: frozenset(
        {_S.AUTHORIZING, _S.AUTHORIZED, _S.ATTEMPT_FAILED, _S.EXECUTED, _S.SETTLED, _S.FAILED}
    ),
    _S.AUTHORIZING: frozenset(
        {_S.AUTHORIZED, _S.ATTEMPT_FAILED, _S.EXECUTED, _S.SETTLED, _S.FAILED}
    ),
    _S.AUTHORIZED: frozenset({_S.ATTEMPT_FAILED, _S.EXECUTED, _S.SETTLED, _S.FAILED}),
    _S.ATTEMPT_FAILED: frozenset(
        {_S.AUTHORIZING, _S.AUTHORIZED, _S.EXECUTED, _S.SETTLED, _S.FAILED}
    ),
    _S.EXECUTED: frozenset({_S.SETTLED}),
    _S.SETTLED: frozenset(),
    _S.FAILED: frozenset(),
    _S.EXPIRED: frozenset(),
}


def can_transition(current: PaymentStatus, new: PaymentStatus) -> bool:
    return new in _NEXT[current]


def statuses_before(new: PaymentStatus) -> frozenset[PaymentStatus]:
    """Every status from which `new` is a forward move (used in DynamoDB conditions)."""
    return frozenset(s for s, nexts in _NEXT.items() if new in nexts)


def parse_status(value: str) -> PaymentStatus:
    try:
        return PaymentStatus(value)
    except ValueError:
        raise PaymentValidationError(
            "status", f"Unknown status {value!r}. Known: {', '.join(s.value for s in _S)}."
        ) from None


# ISO 4217 currencies TrueLayer pays out in, with their number of decimals.
CURRENCY_DECIMALS: Mapping[str, int] = {"GBP": 2, "EUR": 2}
SUPPORTED_CURRENCIES = tuple(CURRENCY_DECIMALS)

# Integer digits an amount may have at all (a trillion): far above any real payment and far
# below what exact Decimal arithmetic and DynamoDB numbers can hold.
MAX_AMOUNT_DIGITS = 13

# Bank-facing references: letters, digits, space, - . / & ; at most 18 characters.
REFERENCE_MAX_LENGTH = 18
_REFERENCE_RE = re.compile(r"^[A-Za-z0-9 \-./&]+$")


class PaymentValidationError(ValueError):
    """Bad input, refused before anything is written. `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_currency(value: str) -> str:
    code = (value or "").strip().upper()
    if code not in CURRENCY_DECIMALS:
        raise PaymentValidationError(
            "currency",
            f"Unsupported currency {value!r}. Choose one of {', '.join(SUPPORTED_CURRENCIES)}.",
        )
    return code


def parse_amount(value: Decimal | str | int, currency: str) -> Decimal:
    """An exact, positive amount in major units with no more decimals than the currency has."""
    if isinstance(value, float):
        raise PaymentValidationError("amount", "Amounts must be exact decimals, not floats.")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise PaymentValidationError("amount", f"{value!r} is not an amount, e.g. 12.50.") from None
    if not amount.is_finite():
        raise PaymentValidationError("amount", "The amount must be a number, e.g. 12.50.")
    if amount <= 0:
        raise PaymentValidationError("amount", "The amount must be greater than zero.")
    # Refused before any arithmetic: `1e27` in minor units has more digits than Decimal's
    # default context (and DynamoDB's 38) hold. Callers apply their own, lower maximum.
    if amount.adjusted() >= MAX_AMOUNT_DIGITS:
        raise PaymentValidationError("amount", "That amount is too large for a payment.")
    decimals = CURRENCY_DECIMALS[parse_currency(currency)]
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > decimals and amount != amount.quantize(Decimal(1).scaleb(-decimals)):
        raise PaymentValidationError(
            "amount", f"{currency} amounts have at most {decimals} decimal places."
        )
    return amount.quantize(Decimal(1).scaleb(-decimals))


def parse_reference(value: str) -> str:
    reference = (value or "").strip()
    if not reference:
        raise PaymentValidationError("reference", "Enter a reference the payer will recognise.")
    if len(reference) > REFERENCE_MAX_LENGTH:
        raise PaymentValidationError(
            "reference", f"Banks accept at most {REFERENCE_MAX_LENGTH} characters in a reference."
        )
    if not _REFERENCE_RE.match(reference):
        raise PaymentValidationError(
            "reference", "Use only letters, digits, spaces and - . / & in a reference."
        )
    return reference


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Exact conversion for TrueLayer's `amount_in_minor`."""
    minor = amount.scaleb(CURRENCY_DECIMALS[currency])
    if minor != minor.to_integral_value():
        raise PaymentValidationError(
            "amount", f"{amount} {currency} is not a whole number of minor units."
        )
    return int(minor)


def from_minor_units(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-CURRENCY_DECIMALS[currency])


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """Fixed-width ISO-8601 UTC with milliseconds and `Z`, so string order is time order."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    utc = moment.astimezone(UTC)
    # The year by hand: strftime's %Y writes year 1 as "1", which breaks fixed width and order.
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class StatusChange:
    """One entry of a payment's history: what it became, when, and what said so."""

    status: PaymentStatus
    at: datetime
    source: str  # e.g. "created", "webhook payment_executed", "refresh from TrueLayer"
    detail: str = ""


@dataclass(frozen=True)
class LinkError:
    """Why the TrueLayer payment link could not be created (shown with a Try again button)."""

    title: str
    detail: str = ""
    trace_id: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class Payment:
    user_id: str
    payment_id: str
    amount: Decimal
    currency: str
    reference: str
    status: PaymentStatus
    created_at: datetime
    updated_at: datetime
    payer_name: str = ""
    payer_email: str = ""
    expires_at: datetime | None = None
    payment_link_id: str = ""
    payment_link_url: str = ""
    truelayer_payment_id: str = ""
    failure_stage: str = ""
    failure_reason: str = ""
    link_error: LinkError | None = None
    # The provider's raw responses, by what they answered (e.g. "create_link", "get_payment").
    provider_responses: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[StatusChange, ...] = ()

    @property
    def is_final(self) -> bool:
        return self.status.is_final

    @property
    def minor_amount(self) -> int:
        return to_minor_units(self.amount, self.currency)
