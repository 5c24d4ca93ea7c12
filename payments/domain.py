"""What a payment is, independent of where it is stored: money rules, the immutable records the
data layer hands out, the statistics value types and the list filters. Charts, forms and views
take their types from here, never from `payments.dynamo`. What a payment goes through
(statuses, attempts, the transition table, the derived status) is `payments.lifecycle`.

Money is `Decimal` in major units with its currency; integer minor units only at the TrueLayer
boundary (`to_minor_units`). No float anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

# The statuses and the timeline live with the lifecycle rules; re-exported for callers.
from payments.lifecycle import FINAL_STATUSES as FINAL_STATUSES
from payments.lifecycle import STATUS_LABELS as STATUS_LABELS
from payments.lifecycle import SUCCESSFUL_STATUSES as SUCCESSFUL_STATUSES
from payments.lifecycle import Attempt, Lifecycle, RowFacts
from payments.lifecycle import PaymentStatus as PaymentStatus
from payments.lifecycle import StatusChange as StatusChange


def parse_status(value: str) -> PaymentStatus:
    try:
        return PaymentStatus(value)
    except ValueError:
        raise PaymentValidationError(
            "status",
            f"Unknown status {value!r}. Known: {', '.join(s.value for s in PaymentStatus)}.",
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


def require_user(user_id: str) -> None:
    """Every read and write is scoped to a merchant: refuse a missing one."""
    if not user_id or not isinstance(user_id, str):
        raise PaymentValidationError("user_id", "A signed-in merchant is required.")


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
    """A stored timestamp (`format_timestamp`'s shape) back to an aware datetime."""
    if len(value) == 24 and value[10] == "T" and value[19] == "." and value[23] == "Z":
        # The shape every stored timestamp has: C's ISO parser, ~10x faster than strptime (a
        # list page parses hundreds of them).
        return datetime.fromisoformat(value)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


WEBHOOK_LOG_LIMIT = 50  # webhooks kept per payment, newest last


@dataclass(frozen=True)
class WebhookLogEntry:
    """One webhook a payment received, and what it did (shown collapsed on the detail page)."""

    event_type: str
    event_id: str
    sent_at: str  # X-TL-Webhook-Timestamp, as TrueLayer sent it
    received_at: datetime
    outcome: str  # applied / duplicate / not a valid move / no change / parked, then applied


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
    # What the status is derived from: every attempt, the link, refunds (payments.lifecycle).
    lifecycle: Lifecycle = Lifecycle()
    # The webhooks this payment received, newest last (bounded).
    webhook_log: tuple[WebhookLogEntry, ...] = ()
    # Bumped by every lifecycle write: the optimistic-concurrency check of the next one.
    version: int = 0
    # A list, search or export row reads these instead of the lifecycle (left empty there).
    row_facts: RowFacts | None = None

    @property
    def is_final(self) -> bool:
        return self.status.is_final

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return self.lifecycle.attempts

    @property
    def facts(self) -> RowFacts:
        """The settlement and refund facts a row shows: as stored beside the lifecycle for a
        payment read as a row, else derived from the lifecycle (the same rule wrote both)."""
        return self.row_facts if self.row_facts is not None else self.lifecycle.row_facts

    @property
    def settlement_badge(self) -> str:
        """ "settled — safe to credit", "settlement stalled", … ("" when there is none)."""
        settlement = self.facts.settlement
        return settlement.label if settlement else ""

    @property
    def minor_amount(self) -> int:
        return to_minor_units(self.amount, self.currency)


# --- statistics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    count: int = 0
    amount: Decimal = Decimal(0)

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.count + other.count, self.amount + other.amount)


@dataclass(frozen=True)
class PaymentStats:
    """Count and amount of the payments created in a range, by (current status, currency),
    with the DynamoDB work this one read did (`requests`, `items_read`)."""

    start: datetime
    end: datetime
    totals: dict[tuple[PaymentStatus, str], Totals] = field(default_factory=dict)
    requests: int = 0
    items_read: int = 0
    # Executed refunds of those payments, by currency (count of refunds, amount refunded).
    refunds: dict[str, Totals] = field(default_factory=dict)

    def by_status(self) -> dict[PaymentStatus, dict[str, Totals]]:
        out: dict[PaymentStatus, dict[str, Totals]] = {}
        for (status, currency), totals in self.totals.items():
            out.setdefault(status, {})[currency] = totals
        return out

    def by_currency(self) -> dict[str, Totals]:
        out: dict[str, Totals] = {}
        for (_status, currency), totals in self.totals.items():
            out[currency] = out.get(currency, Totals()) + totals
        return out

    @property
    def count(self) -> int:
        return sum(t.count for t in self.totals.values())


@dataclass(frozen=True)
class DailyTotals:
    day: date
    totals: dict[tuple[PaymentStatus, str], Totals]


# --- list filters -------------------------------------------------------------------------


@dataclass(frozen=True)
class DateRange:
    """A half-open range [start, end) of aware datetimes, and the local days it covers."""

    preset: str
    start: datetime | None = None
    end: datetime | None = None
    first_day: date | None = None
    last_day: date | None = None

    @classmethod
    def of_days(cls, preset: str, first: date, last: date, tz: tzinfo) -> DateRange:
        """From local midnight of `first` to local midnight after `last`, in `tz`."""
        return cls(
            preset=preset,
            start=datetime.combine(first, time.min, tzinfo=tz),
            end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
            first_day=first,
            last_day=last,
        )

    @property
    def is_set(self) -> bool:
        return self.start is not None

    @property
    def days(self) -> int:
        if self.first_day is None or self.last_day is None:
            return 0
        return (self.last_day - self.first_day).days + 1

    def previous(self) -> DateRange:
        """The period to compare with (same zone): for "This month" (month to date) the same
        days of the month before (1–26 March → 1–26 February; 1–31 → 1–28/29), otherwise the
        same number of days just before this one ("Last 30 days" → the 30 before)."""
        assert self.first_day is not None and self.last_day is not None
        assert self.start is not None and self.start.tzinfo is not None
        if self.preset == "month" and self.first_day.day == 1:
            month_end = self.first_day - timedelta(days=1)
            first = month_end.replace(day=1)
            last = month_end.replace(day=min(self.last_day.day, month_end.day))
            return DateRange.of_days("custom", first, last, self.start.tzinfo)
        last = self.first_day - timedelta(days=1)
        first = last - timedelta(days=self.days - 1)
        return DateRange.of_days("custom", first, last, self.start.tzinfo)

    @property
    def label(self) -> str:
        if self.first_day is None or self.last_day is None:
            return "All time"
        if self.first_day == self.last_day:
            return f"{self.first_day.day} {self.first_day:%b %Y}"
        return (
            f"{self.first_day.day} {self.first_day:%b %Y} – {self.last_day.day} "
            f"{self.last_day:%b %Y}"
        )


@dataclass(frozen=True)
class PaymentFilters:
    statuses: list[PaymentStatus] = field(default_factory=list)
    currency: str | None = None
    date_range: DateRange = field(default_factory=lambda: DateRange(preset=""))
    cursor: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.statuses or self.currency or self.date_range.is_set)

    def matches(self, payment: Payment) -> bool:
        """Whether a payment passes these filters (for results not read through them, e.g.
        what a search found)."""
        if self.statuses and payment.status not in self.statuses:
            return False
        if self.currency and payment.currency != self.currency:
            return False
        start, end = self.date_range.start, self.date_range.end
        return start is None or end is None or start <= payment.created_at < end
