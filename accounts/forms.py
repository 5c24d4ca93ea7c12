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


_ROLE_CHOICES = [
    ("viewer", "Viewer: read, search, statistics, export"),
    ("operator", "Operator: also create links, refund, cancel, refresh"),
    ("owner", "Owner: everything, including members"),
]
_UNKNOWN_ROLE = "Choose a role: owner, operator or viewer."


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={
            "required": "Enter the email address to invite.",
            "invalid": "Enter a valid email address, like name@example.com.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label="Role",
        choices=_ROLE_CHOICES,
        initial="viewer",
        error_messages={"required": _UNKNOWN_ROLE, "invalid_choice": _UNKNOWN_ROLE},
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        label="Role",
        choices=[(value, value.capitalize()) for value, _ in _ROLE_CHOICES],
        error_messages={"required": _UNKNOWN_ROLE, "invalid_choice": _UNKNOWN_ROLE},
    )


class BusinessAccountForm(forms.Form):
    name = forms.CharField(
        label="Business name",
        max_length=100,
        strip=True,
        error_messages={
            "required": "Enter the business's name.",
            "max_length": "Use at most 100 characters.",
        },
    )
