"""Forms that turn the dashboard's query parameters into typed values.

Every filter arrives in the URL (so a page can be bookmarked and the back button works); these
forms parse it with the domain's own rules and say clearly what is wrong with a bad value.
Dates are days in the merchant's time zone; the forms hand the selectors aware datetimes for a
half-open range [start, end).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict

from payments.domain import (
    SUPPORTED_CURRENCIES,
    DateRange,
    PaymentFilters,
    PaymentStatus,
    PaymentValidationError,
    parse_currency,
    parse_status,
)
from payments.export import known_zones
from payments.formatting import merchant_zone, merchant_zone_name, search_amount

RANGE_CHOICES: tuple[tuple[str, str], ...] = (
    ("today", "Today"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("month", "This month"),
    ("custom", "Custom"),
)
ALL_TIME = ("", "All time")
MAX_CURSOR_LENGTH = 4096
MAX_STATS_DAYS = 366
# Days a filter may name. Far wider than any payment's life, and far enough from the calendar's
# ends (year 1, year 9999) that the range's end, the period before it and the conversion to UTC
# can never fall off it.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)
# DynamoDB numbers hold at most 38 digits: a longer number is neither an amount nor a reference
# (at most 18 characters) any payment can have.
MAX_SEARCH_DIGITS = 38
# A query that can only be meant as an amount (a currency sign or code, or digits and a point)
# but that the search could not read as one: say so rather than search references for it.
_AMOUNT_LIKE_RE = re.compile(
    r"^([£€]\s*[\d.,]*\s*(GBP|EUR)?|[\d.,]+\s*(GBP|EUR)|\d+\.\d{3,})$", re.IGNORECASE
)


# Days are typed as the page shows them ("3 Mar 2025"), or as 03/03/2025 (UK order) or in ISO
# form (2025-03-03: older bookmarks and links).
DAY_INPUT_FORMATS = ["%d %b %Y", "%d %B %Y", "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"]


def display_day(raw: str) -> str:
    """A day as the page writes dates ("3 Mar 2025") when `raw` is one, else `raw` as typed."""
    text = " ".join((raw or "").split())
    for pattern in DAY_INPUT_FORMATS:
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return f"{day.day} {day:%b %Y}"
    return raw or ""


def today() -> date:
    return datetime.now(merchant_zone()).date()


def days_range(preset: str, first: date, last: date) -> DateRange:
    return DateRange.of_days(preset, first, last, merchant_zone())


def preset_range(preset: str, *, on: date | None = None) -> DateRange:
    day = on or today()
    if preset == "today":
        return days_range(preset, day, day)
    if preset == "7d":
        return days_range(preset, day - timedelta(days=6), day)
    if preset == "30d":
        return days_range(preset, day - timedelta(days=29), day)
    if preset == "month":
        return days_range(preset, day.replace(day=1), day)
    raise ValueError(preset)


class StatusListField(forms.Field):
    """`?status=failed&status=settled`: several statuses, each checked by `parse_status`."""

    def to_python(self, value: Any) -> list[PaymentStatus]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        statuses: list[PaymentStatus] = []
        for raw in values:
            if not str(raw).strip():
                continue
            try:
                status = parse_status(str(raw).strip())
            except PaymentValidationError as error:
                raise ValidationError(error.message) from None
            if status not in statuses:
                statuses.append(status)
        return statuses


class DateRangeForm(forms.Form):
    """`range` (a preset or `custom`) with `start`/`end` days for a custom range."""

    range = forms.CharField(required=False)
    start = forms.DateField(
        required=False,
        input_formats=DAY_INPUT_FORMATS,
        error_messages={"invalid": "Enter the start date like 1 Mar 2025 (day, month, year)."},
    )
    end = forms.DateField(
        required=False,
        input_formats=DAY_INPUT_FORMATS,
        error_messages={"invalid": "Enter the end date like 31 Mar 2025 (day, month, year)."},
    )

    default_range = ""
    allow_all_time = True

    def clean_range(self) -> str:
        value = str(self.cleaned_data.get("range") or "").strip()
        known = {key for key, _ in RANGE_CHOICES}
        if value and value not in known:
            raise ValidationError(
                f"Unknown date range {value!r}. Choose one of: "
                + ", ".join(label for _, label in RANGE_CHOICES)
                + "."
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        preset = data.get("range") or ""
        start: date | None = data.get("start")
        end: date | None = data.get("end")
        if not preset and (start or end):
            preset = "custom"  # dates typed without choosing "Custom" (e.g. no JavaScript)
        if not preset:
            preset = self.default_range
        if preset == "custom":
            if start is None and end is None:
                raise ValidationError(
                    "Choose a start date, an end date or both for a custom range."
                )
            first = start or end
            last = end or start
            assert first is not None and last is not None
            for name, day in (("start", start), ("end", end)):
                if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                    self.add_error(
                        name,
                        f"Choose dates between {FIRST_DAY:%-d %b %Y} and {LAST_DAY:%-d %b %Y}.",
                    )
            if self.errors:
                return data
            if first > last:
                self.add_error("end", "The end date is before the start date.")
                return data
            if not self.allow_all_time and (last - first).days + 1 > MAX_STATS_DAYS:
                self.add_error("end", f"Choose a range of at most {MAX_STATS_DAYS} days.")
                return data
            data["date_range"] = days_range("custom", first, last)
        elif preset:
            data["date_range"] = preset_range(preset)
        else:
            data["date_range"] = DateRange(preset="")
        return data


class PaymentFilterForm(DateRangeForm):
    """The payments list and export: statuses, date range, currency and a page cursor."""

    status = StatusListField(required=False)
    currency = forms.CharField(required=False)
    cursor = forms.CharField(required=False)
    # The export's time zone (the list itself shows times in the merchant's zone).
    tz = forms.CharField(required=False)

    def __init__(self, data: QueryDict | None = None, **kwargs: Any) -> None:
        if data is not None:
            plain: dict[str, Any] = {key: data.get(key) for key in data}
            plain["status"] = data.getlist("status")
            super().__init__(plain, **kwargs)
        else:
            super().__init__(**kwargs)

    def clean_currency(self) -> str | None:
        value = str(self.cleaned_data.get("currency") or "").strip()
        if not value:
            return None
        try:
            return parse_currency(value)
        except PaymentValidationError as error:
            raise ValidationError(error.message) from None

    def clean_cursor(self) -> str | None:
        value = str(self.cleaned_data.get("cursor") or "").strip()
        if len(value) > MAX_CURSOR_LENGTH:
            raise ValidationError("That page link is not valid. Start again from the first page.")
        return value or None

    def clean_tz(self) -> str:
        value = str(self.cleaned_data.get("tz") or "").strip()
        if not value:
            return merchant_zone_name()
        if value not in known_zones():
            raise ValidationError(
                f"Unknown time zone {value[:64]!r}. Choose one from the list, or an IANA name "
                "such as Europe/London."
            )
        return value

    def filters(self) -> PaymentFilters:
        """The typed filters (call after `is_valid()` returned True)."""
        data = self.cleaned_data
        date_range: DateRange = data["date_range"]
        return PaymentFilters(
            statuses=list(data.get("status") or []),
            currency=data.get("currency"),
            date_range=date_range,
            cursor=data.get("cursor"),
        )


class StatsForm(DateRangeForm):
    default_range = "30d"
    allow_all_time = False


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=128, strip=True)
    cursor = forms.CharField(required=False)

    def clean_q(self) -> str:
        value = str(self.cleaned_data.get("q") or "").strip()
        amount = search_amount(value)
        if sum(c.isdigit() for c in value) > MAX_SEARCH_DIGITS and amount is not None:
            raise ValidationError(
                "That number is longer than any amount or reference. Check it and search again."
            )
        if _AMOUNT_LIKE_RE.match(value) and amount is None:
            raise ValidationError(
                f"{value!r} is not an amount we can search for. Write it like 12.50, £12.50 "
                "or £1,250.00 (at most two decimals)."
            )
        return value

    def clean_cursor(self) -> str | None:
        value = str(self.cleaned_data.get("cursor") or "").strip()
        if len(value) > MAX_CURSOR_LENGTH:
            raise ValidationError("That page link is not valid. Start the search again.")
        return value or None


def currency_choices() -> tuple[str, ...]:
    return SUPPORTED_CURRENCIES


def page_size() -> int:
    return int(getattr(settings, "PAYMENTS_PAGE_SIZE", 25))


def form_errors(form: forms.Form) -> list[str]:
    """Every error message of a form, field errors first, for a notice at the top of the page."""
    messages: list[str] = []
    for name, errors in form.errors.items():
        if name != "__all__":
            messages.extend(str(e) for e in errors)
    messages.extend(str(e) for e in form.non_field_errors())
    return messages
