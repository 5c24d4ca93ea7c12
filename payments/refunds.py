"""Refund rules with no storage: what may be refunded, how much remains, and the ids a refund
carries. The DynamoDB condition that enforces the remainder lives in `payments.dynamo.refunds`;
these functions give the merchant a clear message before it is ever reached.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from payments.domain import (
    Payment,
    PaymentValidationError,
    from_minor_units,
    parse_amount,
    parse_reference,
    to_minor_units,
)
from payments.lifecycle import REFUNDABLE_STATUSES

# Refund ids and Idempotency-Keys are derived from the refund form's one-time token: a
# double-clicked (or re-sent) form names the same refund, and every retry the same key.
_REFUND_NAMESPACE = uuid.UUID("0b9c4f5e-2a8d-4c61-9f3e-7d2b1a6c5e40")


class RefundRefused(PaymentValidationError):
    """A refund that may not be made (field "amount", "reference" or "payment")."""


@dataclass(frozen=True)
class RefundAmounts:
    """What the detail page shows: executed, pending (pending or authorised) and what
    remains, in major units of the payment's currency."""

    currency: str
    refunded: Decimal
    pending: Decimal
    remaining: Decimal

    @property
    def label(self) -> str:
        """ "refunded", "partially refunded", "refund pending" or "" (no refund)."""
        if not self.refunded:
            return "refund pending" if self.pending else ""
        return "refunded" if not self.remaining and not self.pending else "partially refunded"


def refund_amounts(payment: Payment) -> RefundAmounts:
    """From the payment's row facts: a row read has no refunds, only their sums."""
    facts = payment.facts
    remaining = max(0, payment.minor_amount - facts.refund_reserved_minor)
    return RefundAmounts(
        payment.currency,
        from_minor_units(facts.refunded_minor, payment.currency),
        from_minor_units(facts.refund_pending_minor, payment.currency),
        from_minor_units(remaining, payment.currency),
    )


def refundable_problem(payment: Payment) -> str:
    """Why `payment` cannot be refunded now ("" when it can)."""
    if payment.status not in REFUNDABLE_STATUSES:
        return (
            f"This payment is {payment.status.label.lower()}: only authorised, executed or "
            "settled payments can be refunded."
        )
    if payment.lifecycle.winning_attempt is None:
        return "TrueLayer's payment for this link is not known yet; refresh the status first."
    if payment.minor_amount <= payment.lifecycle.refund_reserved_minor:
        return "This payment has been refunded in full."
    return ""


def parse_refund_amount(value: Decimal | str, payment: Payment) -> int:
    """The refund amount in minor units: positive, no more decimals than the currency has,
    and at most what remains. Raises `RefundRefused` (field "amount")."""
    try:
        amount = parse_amount(value, payment.currency)
    except PaymentValidationError as invalid:
        raise RefundRefused("amount", invalid.message) from None
    minor = to_minor_units(amount, payment.currency)
    remaining = payment.minor_amount - payment.lifecycle.refund_reserved_minor
    if minor > remaining:
        raise RefundRefused("amount", remaining_message(remaining, payment.currency))
    return minor


def remaining_message(remaining_minor: int, currency: str) -> str:
    if remaining_minor <= 0:
        return "Nothing remains to refund on this payment."
    left = from_minor_units(remaining_minor, currency)
    return f"At most {left} {currency} remains to refund on this payment."


def parse_refund_reference(value: str) -> str:
    """A bank-safe refund reference (the rules of payment references: at most 18 letters,
    digits, spaces and - . / &). Raises `RefundRefused` (field "reference")."""
    try:
        return parse_reference(value)
    except PaymentValidationError as invalid:
        raise RefundRefused("reference", invalid.message) from None


def refund_id_for(user_id: str, payment_id: str, form_token: str) -> str:
    """Our refund id for one submission of the refund form (the same for a double click)."""
    return str(uuid.uuid5(_REFUND_NAMESPACE, f"refund:{user_id}:{payment_id}:{form_token}"))


def refund_idempotency_key(refund_id: str) -> str:
    return str(uuid.uuid5(_REFUND_NAMESPACE, f"refund-key:{refund_id}"))
