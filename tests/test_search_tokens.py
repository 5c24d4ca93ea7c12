"""Search tokenisation: the same rules for what a payment is indexed under and what a search
asks for."""

from __future__ import annotations

from decimal import Decimal

from payments.search_tokens import (
    MAX_TOKENS,
    SearchTerms,
    fold,
    payment_tokens,
    search_terms,
    words,
)

PAYMENT_ID = "01JD5ZQ8XW3T0R6K2M9BK3F9QZ"


def tokens(**fields: str) -> list[str]:
    values = {"reference": "", "payer_name": "", "payer_email": ""} | fields
    return payment_tokens(payment_id=PAYMENT_ID, amount=Decimal("12.5"), **values)


def test_text_is_folded_and_split_into_words() -> None:
    assert fold("Zoë ÅNGSTRÖM Straße") == "zoe angstrom strasse"
    assert words("INV-1042/b_2 café") == ["inv", "1042", "b", "2", "cafe"]


def test_words_are_indexed_by_their_prefixes_up_to_the_cap() -> None:
    found = tokens(reference="INV-1042", payer_name="Bartholomew-Smith")
    assert {"w:in", "w:inv", "w:10", "w:104", "w:1042", "w:sm", "w:smith"} <= set(found)
    assert "w:bartholome" in found and "w:bartholomew" not in found  # 10 characters
    assert "w:i" not in found and "w:b" not in found


def test_email_whole_local_part_and_domain_and_the_amount_are_exact() -> None:
    found = tokens(payer_email="Alice.Smith@Example.com")
    assert {
        "e:alice.smith@example.com",
        "e:alice.smith@",
        "e:@example.com",
        "w:alice",
        "w:smith",
        "a:12.50",
        "w:k3f9qz",
    } <= set(found)
    assert "w:example" not in found and "w:k3f9" not in found


def test_a_typical_payment_has_about_twenty_tokens_and_none_has_more_than_the_cap() -> None:
    typical = tokens(
        reference="INV-1042", payer_name="Alice Smith", payer_email="alice.smith@example.com"
    )
    assert len(typical) == 18
    huge = tokens(reference="A" * 18, payer_name=" ".join(f"Word{i}abcdefgh" for i in range(14)))
    assert len(huge) == MAX_TOKENS and "w:word13abcd" in huge


def test_search_terms_pick_amount_email_or_words() -> None:
    assert search_terms("£12.50", Decimal("12.50")) == SearchTerms(amount=Decimal("12.50"))
    assert search_terms("1042", Decimal("1042")) == SearchTerms(
        amount=Decimal("1042"), terms=("1042",)
    )
    assert search_terms("Alice@Example.com", None) == SearchTerms(email="alice@example.com")
    assert search_terms("@example.com", None) == SearchTerms(email="@example.com")
    assert search_terms("INV 1042 a", None).terms == ("inv", "1042")
    assert search_terms("Smith alice", None).lookups == ["w:smith"]
    assert search_terms("a", None).is_empty


def test_matching_needs_every_word_as_the_start_of_a_word_of_the_payment() -> None:
    terms = search_terms("smi INV", None)
    fields = {
        "payment_id": PAYMENT_ID,
        "amount": Decimal("3"),
        "reference": "INV-9",
        "payer_name": "Alice Smith",
        "payer_email": "",
    }
    assert terms.matches(**fields)  # type: ignore[arg-type]
    assert not search_terms("mith", None).matches(**fields)  # type: ignore[arg-type]
    assert search_terms("01JD…K3F9QZ", None).matches(**fields)  # type: ignore[arg-type]


def test_a_number_longer_than_any_amount_is_still_a_token() -> None:
    assert search_terms("9" * 38, Decimal("9" * 38)).lookups[0] == "a:" + "9" * 38 + ".00"
