"""CSV lines for the export: BOM and header, exact amounts, spreadsheet-readable times in the
chosen zone, payer and link columns, refunds, formula-safe text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from types import GeneratorType
from zoneinfo import ZoneInfo

from payments import export
from payments.domain import Payment, PaymentStatus
from payments.lifecycle import Lifecycle, RefundStatus
from payments.lifecycle.state import Refund

LONDON = ZoneInfo("Europe/London")


def payment(reference: str = "INV 1", **extra: object) -> Payment:
    moment = datetime(2026, 7, 1, 12, tzinfo=UTC)
    return Payment(
        user_id="auth0|a",
        payment_id="01KDWT9H40PVR7M4FP9ZABRDQK",
        amount=Decimal("12.50"),
        currency="GBP",
        reference=reference,
        status=PaymentStatus.SETTLED,
        created_at=moment,
        updated_at=moment,
        **extra,  # type: ignore[arg-type]
    )


def records(payments: list[Payment], zone: str = "Europe/London") -> list[dict[str, str]]:
    text = "".join(export.csv_lines(payments, zone_name=zone))
    assert text.startswith(export.BOM)
    header, *body = list(csv.reader(io.StringIO(text.removeprefix(export.BOM))))
    return [dict(zip(header, row, strict=True)) for row in body]


def test_lines_are_produced_one_at_a_time_after_a_byte_order_mark() -> None:
    lines = export.csv_lines(iter([payment(), payment()]), zone_name="Europe/London")
    assert isinstance(lines, GeneratorType)
    assert next(lines).startswith("\ufeffPayment ID,Created (Europe/London)")


def test_times_are_spreadsheet_dates_in_the_chosen_zone_named_in_the_header() -> None:
    (london,) = records([payment()])
    assert london["Created (Europe/London)"] == "2026-07-01 13:00:00"
    (tokyo,) = records([payment()], "Asia/Tokyo")
    assert tokyo["Created (Asia/Tokyo)"] == "2026-07-01 21:00:00"
    assert tokyo["Amount"] == "12.50" and tokyo["Currency"] == "GBP"
    assert tokyo["Status"] == "settled"


def test_payer_link_and_expiry_are_exported() -> None:
    (record,) = records(
        [
            payment(
                payer_name="Zoë Ørsted",
                payer_email="zoe@example.com",
                payment_link_url="https://payment.truelayer-sandbox.com/l/abc",
                expires_at=datetime(2026, 7, 2, 12, tzinfo=UTC),
            )
        ]
    )
    assert record["Payer name"] == "Zoë Ørsted"
    assert record["Payer email"] == "zoe@example.com"
    assert record["Link URL"] == "https://payment.truelayer-sandbox.com/l/abc"
    assert record["Link expires (Europe/London)"] == "2026-07-02 13:00:00"


def test_refunded_amount_only_when_there_are_refunds() -> None:
    refunded = payment(
        lifecycle=Lifecycle(refunds=(Refund("r1", RefundStatus.EXECUTED, amount_minor=450),))
    )
    with_refund, without = records([refunded, payment()])
    assert with_refund["Refunded amount"] == "4.50"
    assert with_refund["Refund status"] == "partially refunded"
    assert without["Refunded amount"] == "" and without["Refund status"] == ""


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_defused() -> None:
    assert export.row(payment("-1+2"), LONDON)[6] == "'-1+2"
    assert export.row(payment("INV 1"), LONDON)[6] == "INV 1"
    assert export.row(payment(payer_name="=HYPERLINK(1)"), LONDON)[7] == "'=HYPERLINK(1)"


def test_zone_choices_start_with_the_merchants_zone_and_are_all_known() -> None:
    choices = export.zone_choices("Europe/Paris")
    assert choices[0] == "Europe/Paris" and choices.count("Europe/Paris") == 1
    assert set(choices) <= export.known_zones()
