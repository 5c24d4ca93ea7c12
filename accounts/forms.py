from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

# Merchant ids look like Auth0 subjects: `provider|id`.
_MERCHANT_ID = RegexValidator(
    r"^[A-Za-z0-9_.@:-]+\|[A-Za-z0-9_.@:|-]+$",
    "Use the form provider|name, for example dev|alice (letters, digits, _ . @ : - only).",
)


class DevSignInForm(forms.Form):
    merchant_id = forms.CharField(
        label="Merchant id",
        max_length=100,
        validators=[_MERCHANT_ID],
        widget=forms.TextInput(attrs={"placeholder": "dev|alice", "autocomplete": "off"}),
    )
