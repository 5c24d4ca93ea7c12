"""What services raise besides `payments.errors` (the data layer's) and TrueLayer's errors."""

from __future__ import annotations


class PaymentNotFound(Exception):
    """No payment with this id for this merchant (views answer 404)."""
