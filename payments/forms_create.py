"""The "New payment" form: everything is checked here, before anything is stored or sent."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from payments.domain import (
    CURRENCY_DECIMALS,
    REFERENCE_MAX_LENGTH,
    SUPPORTED_CURRENCIES,
    PaymentValidationError,
    parse_amount,
    parse_currency,
    parse_reference,
    utc_now,
)
from payments.formatting import (
    UNREADABLE_AMOUNT,
    amount_currency_problem,
    format_money,
    merchant_zone,
    read_amount,
)

# A link must stay open long enough for someone to pay it.
MIN_LINK_LIFETIME = timedelta(minutes=15)
_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


class ReferenceField(forms.CharField):
    """A bank reference: the browser stops at 18 characters (`maxlength`) and the page shows a
    live count of what is left (templates/forms/_field.html, app.js)."""

    show_counter = True

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", REFERENCE_MAX_LENGTH)
        too_long = f"Banks accept at most {REFERENCE_MAX_LENGTH} characters in a reference."
        kwargs.setdefault("error_messages", {"max_length": too_long})
        super().__init__(**kwargs)


def new_submission_token() -> str:
    return uuid.uuid4().hex


class NewPaymentForm(forms.Form):
    amount = forms.CharField(
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text="In pounds or euros, e.g. 12.50 or £1,250.00.",
    )
    currency = forms.ChoiceField(choices=[(c, c) for c in SUPPORTED_CURRENCIES], initial="GBP")
    reference = ReferenceField(
        help_text=(
            f"Shown on the payer's bank statement: up to {REFERENCE_MAX_LENGTH} letters, digits, "
            "spaces and - . / &"
        ),
    )
    payer_name = forms.CharField(max_length=140, required=False, label="Payer name")
    payer_email = forms.EmailField(max_length=254, required=False, label="Payer email")
    expires_at = forms.DateTimeField(
        required=False,
        label="Link expires",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Optional. In your time zone; 24 hours after creation if empty.",
    )
    submission_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_token", new_submission_token())

    def clean_currency(self) -> str:
        try:
            return parse_currency(self.cleaned_data["currency"])
        except PaymentValidationError as error:
            raise forms.ValidationError(error.message) from None

    def clean_reference(self) -> str:
        try:
            return parse_reference(self.cleaned_data["reference"])
        except PaymentValidationError as error:
            raise forms.ValidationError(error.message) from None

    def clean_payer_name(self) -> str:
        return " ".join(str(self.cleaned_data.get("payer_name", "")).split())

    def clean_expires_at(self) -> datetime | None:
        value: datetime | None = self.cleaned_data.get("expires_at")
        if value is None:
            return None
        # The browser sends a wall-clock time: it is the merchant's zone, whatever Django's is.
        moment = value.replace(tzinfo=None).replace(tzinfo=merchant_zone())
        if moment < utc_now() + MIN_LINK_LIFETIME:
            raise forms.ValidationError(
                "Choose a time at least 15 minutes from now, or leave it empty for 24 hours."
            )
        return moment

    def clean_submission_token(self) -> str | None:
        token = str(self.cleaned_data.get("submission_token") or "")
        return token if _TOKEN_RE.match(token) else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw = self.data.get("amount", "") if self.is_bound else ""
        currency = cleaned.get("currency")
        if "amount" in self.errors or not currency:
            return cleaned
        read = read_amount(str(raw))
        if read is None:
            shown = str(raw).strip()[:20]
            self.add_error("amount", f"{shown!r} is not an amount. {UNREADABLE_AMOUNT}")
            return cleaned
        if problem := amount_currency_problem(read, currency):
            self.add_error("amount", problem)
            return cleaned
        try:
            amount = parse_amount(read.amount, currency)
        except PaymentValidationError as error:
            self.add_error("amount", error.message)
            return cleaned
        maximum: Decimal = settings.PAYMENTS_MAX_AMOUNT
        if amount > maximum:
            limit = maximum.quantize(Decimal(1).scaleb(-CURRENCY_DECIMALS[currency]))
            self.add_error(
                "amount",
                f"The most one payment link can ask for is {format_money(limit, currency)}.",
            )
            return cleaned
        cleaned["amount"] = amount
        return cleaned
