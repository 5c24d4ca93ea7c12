"""The refund form: amount (default: what remains) and a bank-safe reference. The amount's
limits depend on the payment, so `services.refund_create` checks them; this form checks
shape only, and carries the one-time token that makes a double click one refund."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms

from payments.domain import REFERENCE_MAX_LENGTH, Payment
from payments.formatting import UNREADABLE_AMOUNT, amount_currency_problem, read_amount
from payments.forms_create import ReferenceField
from payments.refunds import refund_amounts

_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def default_refund_reference(payment: Payment) -> str:
    """ "Refund " + the payment's reference, cut to what banks accept."""
    return f"Refund {payment.reference}"[:REFERENCE_MAX_LENGTH].strip()


class RefundForm(forms.Form):
    amount = forms.CharField(
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reference = ReferenceField(
        help_text=(
            f"Shown on the payer's bank statement: up to {REFERENCE_MAX_LENGTH} letters, digits, "
            "spaces and - . / &"
        ),
    )
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, payment: Payment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = payment.currency
        amounts = refund_amounts(payment)
        self.fields[
            "amount"
        ].help_text = f"In {payment.currency}. At most {amounts.remaining} remains to refund."
        if not self.is_bound:
            self.initial.setdefault("amount", str(amounts.remaining))
            self.initial.setdefault("reference", default_refund_reference(payment))
            self.initial.setdefault("form_token", uuid.uuid4().hex)

    def clean_amount(self) -> str:
        raw = str(self.cleaned_data["amount"]).strip()
        read = read_amount(raw)
        if read is None:
            raise forms.ValidationError(f"{raw[:20]!r} is not an amount. {UNREADABLE_AMOUNT}")
        if problem := amount_currency_problem(read, self.currency):
            raise forms.ValidationError(problem)
        return str(read.amount)

    def clean_form_token(self) -> str:
        token = str(self.cleaned_data.get("form_token") or "")
        if not _TOKEN_RE.match(token):
            raise forms.ValidationError("The refund form is incomplete; open it again.")
        return token
