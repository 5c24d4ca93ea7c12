"""Template filters for the dashboard; each is a thin wrapper over payments.formatting."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import segno
from django import template

from payments import formatting, presentation, refunds
from payments.domain import (
    SUCCESSFUL_STATUSES,
    WEBHOOK_LOG_LIMIT,
    Payment,
    PaymentStatus,
    from_minor_units,
    utc_now,
)
from payments.lifecycle import ATTEMPT_LABELS, AttemptStatus, Refund
from payments.refunds import RefundAmounts
from payments.selectors import PaymentCounts
from payments.services import cancel
from payments.truelayer.provider import DEFAULT_LINK_LIFETIME

register = template.Library()


@register.filter
def money(payment: Payment) -> str:
    return formatting.format_money(payment.amount, payment.currency)


@register.simple_tag
def status_badge(payment: Payment) -> str:
    """The payment's status badge with its settlement and refund facts (`presentation`)."""
    return presentation.status_badge(payment)


@register.filter
def timeline_source(source: str) -> str:
    return formatting.timeline_source(source)


@register.filter
def link_expires_at(payment: Payment) -> datetime:
    """When the payment's link expires: the chosen time, else TrueLayer's default lifetime."""
    return payment.expires_at or payment.created_at + DEFAULT_LINK_LIFETIME


@register.filter
def time_left(moment: datetime) -> str:
    """`3h` from now until `moment`; empty once it has passed."""
    left = moment - utc_now()
    return formatting.format_time_left(left) if left.total_seconds() > 0 else ""


@register.filter
def link_closed_reason(payment: Payment) -> str:
    """Why a final payment's link is closed, in one word: paid, failed, expired, reversed."""
    if payment.status in SUCCESSFUL_STATUSES:
        return "paid"
    return payment.status.label.lower()


@register.filter
def thousands(value: int) -> str:
    """`1,204`: a count with thousands separators."""
    return f"{value:,}"


@register.filter
def status_count(counts: PaymentCounts, status: PaymentStatus) -> str:
    """How many payments of `status` the list's other filters match, e.g. `1,204`."""
    return f"{counts.by_status.get(status, 0):,}"


@register.filter
def refund_amounts(payment: Payment) -> RefundAmounts:
    """Refunded, pending and remaining amounts of a payment (`refunds.refund_amounts`)."""
    return refunds.refund_amounts(payment)


@register.filter
def refund_major(refund: Refund, currency: str) -> Decimal:
    return from_minor_units(refund.amount_minor or 0, currency)


@register.filter
def cancellable(payment: Payment) -> bool:
    return bool(cancel.cancellable_attempt(payment))


@register.filter
def cancellation_requested(payment: Payment) -> bool:
    return cancel.cancellation_requested(payment)


@register.filter
def refundable(payment: Payment) -> bool:
    return not refunds.refundable_problem(payment)


@register.simple_tag
def amount(value: Decimal, currency: str) -> str:
    return formatting.format_money(value, currency)


@register.filter
def local_datetime(moment: datetime | None) -> str:
    return formatting.format_datetime(moment)


@register.filter
def local_datetime_seconds(moment: datetime | None) -> str:
    return formatting.format_datetime_seconds(moment)


@register.filter
def iso_local(moment: datetime | None) -> str:
    return formatting.iso_local(moment) if moment else ""


@register.filter
def short_id(value: str) -> str:
    return formatting.short_id(value)


@register.filter
def badge_class(status: PaymentStatus) -> str:
    return formatting.status_badge_class(status)


@register.filter
def status_glyph(status: PaymentStatus) -> str:
    return formatting.status_glyph(status)


@register.filter
def attempt_label(status: AttemptStatus) -> str:
    """An attempt's status in words (the payment's label where they share a name)."""
    return ATTEMPT_LABELS[status]


@register.simple_tag
def webhook_log_limit() -> int:
    return WEBHOOK_LOG_LIMIT


@register.filter
def failure_reason(code: str) -> str:
    return formatting.failure_reason_text(code)


@register.filter
def failure_stage(stage: str) -> str:
    return formatting.failure_stage_text(stage)


@register.filter
def qr_data_uri(url: str) -> str:
    """An SVG QR code of `url`, made on the server (no network, no JavaScript)."""
    if not url:
        return ""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2))


@register.filter
def pretty_json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, default=str)
