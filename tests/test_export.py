"""CSV lines for the export: header, exact amounts, zone-labelled times, formula-safe text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from types import GeneratorType

from payments import export
from payments.domain import Payment, PaymentStatus


def payment(reference: str = "INV 1") -> Payment:
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
    )


def test_lines_are_produced_one_at_a_time() -> None:
    lines = export.csv_lines(iter([payment(), payment()]))
    assert isinstance(lines, GeneratorType)
    assert next(lines).startswith("payment_id,created_at (Europe/London)")


def test_row_has_iso_time_with_offset_and_plain_decimal_amount() -> None:
    text = "".join(export.csv_lines([payment()]))
    header, row = list(csv.reader(io.StringIO(text)))
    record = dict(zip(header, row, strict=True))
    assert record["created_at (Europe/London)"] == "2026-07-01T13:00:00+01:00"
    assert record["amount"] == "12.50" and record["currency"] == "GBP"
    assert record["status"] == "settled"


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_defused() -> None:
    assert export.row(payment("-1+2"))[6] == "'-1+2"
    assert export.row(payment("INV 1"))[6] == "INV 1"
