"""Money, times, badges and failure reasons as the dashboard shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from payments import formatting
from payments.domain import PaymentStatus


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [("12.5", "GBP", "£12.50"), ("1234.56", "EUR", "€1,234.56"), ("0.01", "GBP", "£0.01")],
)
def test_money_has_the_currency_symbol_and_its_decimals(
    amount: str, currency: str, shown: str
) -> None:
    assert formatting.format_money(Decimal(amount), currency) == shown


def test_remembered_amounts_keep_their_currency_and_sign() -> None:
    # format_money remembers what it wrote: equal amounts of other currencies or signs must not
    # come back from that memory.
    assert formatting.format_money(Decimal("5"), "GBP") == "£5.00"
    assert formatting.format_money(Decimal("5"), "EUR") == "€5.00"
    assert formatting.format_money(Decimal("5.000"), "GBP") == "£5.00"
    assert formatting.format_money(Decimal("0"), "GBP") == "£0.00"
    assert formatting.format_money(Decimal("-0"), "GBP") == "-£0.00"
    assert formatting.format_money(Decimal("-5"), "GBP") == "-£5.00"


def test_times_are_shown_in_the_merchant_zone_across_summer_time() -> None:
    assert (
        formatting.format_datetime(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == "1 Jul 2026, 13:00"
    )
    assert (
        formatting.format_datetime(datetime(2026, 1, 1, 12, 0, tzinfo=UTC)) == "1 Jan 2026, 12:00"
    )
    assert formatting.iso_local(datetime(2026, 7, 1, 12, tzinfo=UTC)) == "2026-07-01T13:00:00+01:00"


def test_every_status_has_a_badge_with_a_glyph() -> None:
    for status in PaymentStatus:
        assert formatting.status_badge_class(status).startswith("badge badge-")
        assert formatting.status_glyph(status)
    assert formatting.status_tone(PaymentStatus.FAILED) == "danger"
    assert formatting.status_tone(PaymentStatus.SETTLED) == "success"


@pytest.mark.parametrize(
    "code",
    [
        "authorization_failed",
        "provider_error",
        "provider_rejected",
        "insufficient_funds",
        "user_canceled_at_provider",
        "expired",
        "internal_server_error",
        "payment_limit_exceeded",
        "blocked",
        "canceled",
        "not_authorized",
        "rejected",
    ],
)
def test_known_failure_reasons_become_sentences(code: str) -> None:
    text = formatting.failure_reason_text(code)
    assert text.endswith(".") and "gave the reason" not in text


def test_unknown_failure_reason_is_kept_as_it_came() -> None:
    assert "mystery_code" in formatting.failure_reason_text("mystery_code")
    assert formatting.failure_reason_text("") == ""


def test_short_id_keeps_the_distinguishing_tail() -> None:
    assert formatting.short_id("01KDWT9H40PVR7M4FP9ZABRDQK") == "01KD…ABRDQK"
    assert formatting.short_id("short") == "short"


def test_timeline_sources_are_in_words_for_every_source_the_services_write() -> None:
    from payments.dynamo.refunds import REFUND_SOURCE
    from payments.formatting import timeline_source
    from payments.services.refresh import RECONCILIATION_SOURCE, REFRESH_SOURCE
    from payments.services.webhooks import WEBHOOK_SOURCE

    assert timeline_source(f"{WEBHOOK_SOURCE} (payment_settled)") == "TrueLayer: payment settled"
    assert timeline_source(f"{WEBHOOK_SOURCE} (payment_link_disabled)") == "TrueLayer: link closed"
    assert timeline_source(f"{WEBHOOK_SOURCE} (some_new_event)") == "TrueLayer: some new event"
    assert timeline_source(REFRESH_SOURCE) == "Refresh from TrueLayer"
    assert timeline_source(RECONCILIATION_SOURCE) == "Reconciliation (corrected from TrueLayer)"
    assert timeline_source("created") == "Created in the dashboard"
    assert timeline_source(f"{REFUND_SOURCE} by alice") == "Merchant action by alice"


def test_time_left_reads_like_a_person_says_it() -> None:
    from datetime import timedelta

    from payments.formatting import format_time_left

    assert format_time_left(timedelta(hours=3, minutes=1)) == "3h"
    assert format_time_left(timedelta(minutes=25)) == "25m"
