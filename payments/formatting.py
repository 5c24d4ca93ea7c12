"""How payments look on the page: money through Babel, times in the merchant's zone, status
badges and failure reasons in words. Presentation only; nothing here reads or writes payments."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from babel.numbers import format_currency
from django.conf import settings

from payments.domain import PaymentStatus

LOCALE = "en_GB"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def merchant_zone() -> tzinfo:
    """The zone every time on the dashboard is shown in (settings.MERCHANT_TIME_ZONE)."""
    return _zone(settings.MERCHANT_TIME_ZONE)


def merchant_zone_name() -> str:
    return str(settings.MERCHANT_TIME_ZONE)


def format_money(amount: Decimal, currency: str) -> str:
    """`£1,234.50`: the currency's symbol and decimals, from Babel's locale data."""
    # Keyed by the amount's exact text: Decimal("-0") and Decimal("0") are equal as keys.
    return _formatted_money(str(amount), currency)


@lru_cache(maxsize=16_384)
def _formatted_money(amount: str, currency: str) -> str:
    # Babel re-reads its locale data on every call (~60 µs): a statistics page formats some
    # 750 amounts (chart tooltips, its table), mostly the same ones on every visit.
    return str(format_currency(Decimal(amount), currency, locale=LOCALE))


# What `format_money` writes, and what people type: an optional sign (£, €) or code before or
# after, digits with optional thousands commas ("1,250"), and optional decimals. "12,50" is not
# read as 1250: a comma is only a thousands separator, in groups of three.
_AMOUNT_TEXT_RE = re.compile(
    r"^(?P<minus>-)?\s*(?P<sign>[£€])?\s*(?P<code1>GBP|EUR)?\s*"
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"\s*(?P<code2>GBP|EUR)?$",
    re.IGNORECASE | re.ASCII,
)
_SIGNS = {"£": "GBP", "€": "EUR"}


@dataclass(frozen=True)
class AmountText:
    """An amount read from text, and the currency the text named (by sign or code), if any."""

    amount: Decimal
    currency: str | None


def amount_currency_problem(read: AmountText, currency: str) -> str:
    """A message when the text named another currency than the one the amount is in, else ""."""
    if read.currency and read.currency != currency:
        return f"That amount is in {read.currency}, but the currency is {currency}."
    return ""


UNREADABLE_AMOUNT = "Write the amount like 12.50, £12.50 or 1,250.00."


def read_amount(text: str) -> AmountText | None:
    """The amount in "12.50", "£12.50", "£1,250.00", "12.50 GBP" or "€3"; None for text that is
    not an amount (or names two different currencies). One reader for the create form, the
    refund form and search. Decimal places and limits are the caller's rules
    (`domain.parse_amount`), so that it can say what is wrong."""
    match = _AMOUNT_TEXT_RE.match((text or "").strip())
    if not match:
        return None
    named = {
        code
        for code in (
            _SIGNS.get(match["sign"] or ""),
            (match["code1"] or "").upper(),
            (match["code2"] or "").upper(),
        )
        if code
    }
    if len(named) > 1:
        return None
    try:
        amount = Decimal(match["number"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
        return None
    # A minus is read (not refused) so that the caller can say "greater than zero".
    return AmountText(-amount if match["minus"] else amount, named.pop() if named else None)


def search_amount(text: str) -> Decimal | None:
    """The amount a search text names, if it is one a payment can have (positive, at most
    two decimals): "£12.50", "12.50", "£1,250.00"."""
    read = read_amount(text)
    if read is None or read.amount <= 0:
        return None
    exponent = read.amount.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        return None
    return read.amount


def local_time(moment: datetime) -> datetime:
    return moment.astimezone(merchant_zone())


def format_datetime(moment: datetime | None) -> str:
    """`3 Mar 2025, 14:05` in the merchant's zone (the page labels the zone once)."""
    if moment is None:
        return ""
    local = local_time(moment)
    return f"{local.day} {local:%b %Y, %H:%M}"


def format_datetime_seconds(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = local_time(moment)
    return f"{local.day} {local:%b %Y, %H:%M:%S} {local.tzname()}"


def iso_local(moment: datetime) -> str:
    """ISO-8601 with the merchant zone's offset, e.g. `2025-03-03T14:05:00+00:00`."""
    return local_time(moment).isoformat(timespec="seconds")


def short_id(payment_id: str) -> str:
    """A ULID's first 10 characters are its timestamp, so the tail tells payments apart."""
    if len(payment_id) <= 12:
        return payment_id
    return f"{payment_id[:4]}…{payment_id[-6:]}"


# The tone of a status badge (its colour) and a glyph, so status is never colour alone: the
# badge always carries the status's label as text too.
_TONES: Mapping[PaymentStatus, str] = {
    PaymentStatus.PENDING: "neutral",
    PaymentStatus.AUTHORIZATION_REQUIRED: "info",
    PaymentStatus.AUTHORIZING: "info",
    PaymentStatus.AUTHORIZED: "info",
    PaymentStatus.ATTEMPT_FAILED: "warning",
    PaymentStatus.EXECUTED: "success",
    PaymentStatus.SETTLED: "success",
    PaymentStatus.FAILED: "danger",
    PaymentStatus.EXPIRED: "muted",
    PaymentStatus.REVERSED: "danger",
}
_GLYPHS: Mapping[str, str] = {
    "neutral": "○",
    "info": "◔",
    "warning": "!",
    "success": "✓",
    "danger": "✕",
    "muted": "–",
}


def status_tone(status: PaymentStatus) -> str:
    return _TONES[status]


def status_badge_class(status: PaymentStatus) -> str:
    return f"badge badge-{_TONES[status]}"


def status_glyph(status: PaymentStatus) -> str:
    return _GLYPHS[_TONES[status]]


# TrueLayer's failure_reason codes (payments v3), in words a merchant can act on.
FAILURE_REASONS: Mapping[str, str] = {
    "authorization_failed": "The payer did not complete authorisation with their bank.",
    "provider_error": "The payer's bank had a technical problem and could not take the payment.",
    "provider_rejected": "The payer's bank rejected the payment.",
    "insufficient_funds": "The payer's account did not have enough money for this payment.",
    "user_canceled_at_provider": "The payer cancelled the payment in their banking app.",
    "expired": "The payment was not completed in time and expired.",
    "internal_server_error": "TrueLayer had an internal error while processing the payment.",
    "payment_limit_exceeded": "The amount is over a payment limit set by the payer's bank.",
    "blocked": "The payment was blocked (for example by a risk or compliance check).",
    "canceled": "The payment was cancelled before it was made.",
    "not_authorized": "The payer's bank did not authorise the payment.",
    "rejected": "The payment was rejected.",
    "scheme_unavailable": "The bank payment scheme was unavailable.",
    "verification_declined": "The payer could not be verified.",
}

FAILURE_STAGES: Mapping[str, str] = {
    "authorization_required": "before the payer started authorising it",
    "authorizing": "while the payer was authorising it with their bank",
    "authorized": "after the bank authorised it, before the money moved",
    "executed": "after the money was sent",
    "settled": "after it settled",
}


def failure_reason_text(code: str) -> str:
    """A sentence for a known code; an unknown one is shown as it came, so nothing is hidden."""
    if not code:
        return ""
    return FAILURE_REASONS.get(code, f"TrueLayer gave the reason “{code}”.")


def failure_stage_text(stage: str) -> str:
    if not stage:
        return ""
    return FAILURE_STAGES.get(stage, f"at stage “{stage}”")


def format_time_left(delta: timedelta) -> str:
    """`3h`, `25m`, `2d`: how long until something happens, rounded the way a person says it."""
    return str(format_timedelta(delta, format="narrow", locale=LOCALE))


# Timeline sources as stored (payments/services: "TrueLayer webhook (<event type>)", the
# refresh and reconciliation sources, "created", "merchant action ..."), in words.
_SOURCE_WORDS: Mapping[str, str] = {
    "created": "Created in the dashboard",
    "Refresh status (asked TrueLayer)": "Refresh from TrueLayer",
    "Reconciliation (corrected from TrueLayer)": "Reconciliation (corrected from TrueLayer)",
}
_WEBHOOK_PREFIX = "TrueLayer webhook ("
# TrueLayer's webhook event types (payments v3, links, refunds) as a merchant would say them.
EVENT_WORDS: Mapping[str, str] = {
    "payment_link_payment_created": "the payer started paying",
    "payment_link_disabled": "link closed",
    "payment_authorized": "payment authorised",
    "payment_executed": "payment executed",
    "payment_settled": "payment settled",
    "payment_failed": "payment failed",
    "payment_creditable": "money safe to credit",
    "payment_settlement_stalled": "settlement stalled",
    "payment_reversed": "payment reversed",
    "payment_cancellation_failed": "cancellation failed",
    "refund_executed": "refund executed",
    "refund_failed": "refund failed",
}


def timeline_source(source: str) -> str:
    """Where a timeline entry came from, in words: `TrueLayer: payment settled`, `Refresh from
    TrueLayer`. An unknown source is shown as it came (first letter capitalised)."""
    if source in _SOURCE_WORDS:
        return _SOURCE_WORDS[source]
    if source.startswith(_WEBHOOK_PREFIX) and source.endswith(")"):
        event_type = source[len(_WEBHOOK_PREFIX) : -1]
        return f"TrueLayer: {EVENT_WORDS.get(event_type, event_type.replace('_', ' '))}"
    return source[:1].upper() + source[1:]
