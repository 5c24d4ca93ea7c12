"""One amount reader for the create form, the refund form and search: what the dashboard
writes ("£1,250.00") reads back as the same amount, and nothing ambiguous is guessed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.formatting import AmountText, format_money, read_amount, search_amount

minor_units = st.integers(min_value=1, max_value=10**12)
currencies = st.sampled_from(["GBP", "EUR"])


@given(minor=minor_units, currency=currencies)
def test_what_the_dashboard_shows_reads_back_as_the_same_amount_and_currency(
    minor: int, currency: str
) -> None:
    amount = Decimal(minor).scaleb(-2)
    shown = format_money(amount, currency)  # e.g. "£1,250.00"
    assert read_amount(shown) == AmountText(amount, currency)
    assert read_amount(str(amount)) == AmountText(amount, None)
    assert read_amount(f"{amount} {currency.lower()}") == AmountText(amount, currency)
    assert search_amount(shown) == amount


@given(text=st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=30))
def test_text_without_digits_is_never_an_amount(text: str) -> None:
    assert read_amount(text) is None


@given(
    whole=st.integers(min_value=1, max_value=999),
    part=st.integers(min_value=0, max_value=99),
)
def test_a_comma_before_fewer_than_three_digits_is_not_read_as_thousands(
    whole: int, part: int
) -> None:
    # "12,50" may mean 12.50 (continental) or be a typo: it is refused, never read as 1250.
    assert read_amount(f"{whole},{part:02d}") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.50", AmountText(Decimal("12.50"), None)),
        ("£12.50", AmountText(Decimal("12.50"), "GBP")),
        ("£1,250.00", AmountText(Decimal("1250.00"), "GBP")),
        (" € 3 ", AmountText(Decimal("3"), "EUR")),
        ("EUR 10", AmountText(Decimal("10"), "EUR")),
        ("-5", AmountText(Decimal("-5"), None)),
        ("£3 EUR", None),
        ("1,2345", None),
        ("1e5", None),
        ("١٢", None),
        ("", None),
    ],
)
def test_read_amount(text: str, expected: AmountText | None) -> None:
    assert read_amount(text) == expected


@pytest.mark.parametrize("text", ["12.505", "0", "-3", "INV-12", "£"])
def test_search_amount_refuses_what_no_payment_can_be(text: str) -> None:
    assert search_amount(text) is None
