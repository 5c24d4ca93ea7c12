"""CSV export of the payments that match the list's filters, streamed row by row.

The data layer yields payments page by page (`selectors.payment_export_rows`), and each row is
written as soon as it is read, so a large export never sits in memory. Times are ISO-8601 with
the offset of the merchant's zone (named in the header); amounts are plain decimals with a
currency column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from payments.domain import Payment
from payments.formatting import iso_local, merchant_zone_name
from payments.refunds import refund_amounts

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose `write` hands the line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def header() -> list[str]:
    zone = merchant_zone_name()
    return [
        "payment_id",
        f"created_at ({zone})",
        f"updated_at ({zone})",
        "status",
        "amount",
        "currency",
        "reference",
        "truelayer_payment_id",
        "payment_link_id",
        "failure_stage",
        "failure_reason",
        "refunded_amount",
        "refund_status",
    ]


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def _time(moment: datetime) -> str:
    return iso_local(moment)


def row(payment: Payment) -> list[str]:
    refunded = refund_amounts(payment)
    return [
        payment.payment_id,
        _time(payment.created_at),
        _time(payment.updated_at),
        payment.status.value,
        str(payment.amount),
        payment.currency,
        _text(payment.reference),
        _text(payment.truelayer_payment_id),
        _text(payment.payment_link_id),
        _text(payment.failure_stage),
        _text(payment.failure_reason),
        str(refunded.refunded),
        refunded.label,
    ]


def csv_lines(payments: Iterable[Payment]) -> Iterator[str]:
    """The header, then one CSV line per payment, produced as the payments are read."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header())
    for payment in payments:
        yield writer.writerow(row(payment))


def export_filename(now: datetime) -> str:
    return f"payments-{now:%Y%m%d-%H%M%S}.csv"
