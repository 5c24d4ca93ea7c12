"""CSV export of the payments that match the list's filters, streamed row by row.

The data layer yields payments page by page (`selectors.payment_export_rows`), and each row is
written as soon as it is read, so a large export never sits in memory. The file is UTF-8 with a
byte-order mark, so Excel reads payers' names correctly; times are `YYYY-MM-DD HH:MM:SS` (a
spreadsheet reads them as dates) in the zone the merchant chose, named in the column headers;
amounts are plain decimals with a currency column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from payments.domain import Payment
from payments.refunds import refund_amounts

# Excel takes a UTF-8 file for its local code page unless it starts with this mark.
BOM = "\ufeff"
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Offered in the export control's select; any other IANA zone works through the URL.
COMMON_ZONES: tuple[str, ...] = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Warsaw",
    "Europe/Athens",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Dubai",
    "Asia/Singapore",
    "Australia/Sydney",
)


class _Echo:
    """A file-like object whose `write` hands the line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """Every IANA zone name this machine knows (read once: it scans the zone database)."""
    return frozenset(available_timezones())


def zone_choices(current: str) -> list[str]:
    """The select's zones: the merchant's own first, then the common ones."""
    return [current, *(z for z in COMMON_ZONES if z != current)]


def header(zone_name: str) -> list[str]:
    return [
        "Payment ID",
        f"Created ({zone_name})",
        f"Updated ({zone_name})",
        "Status",
        "Amount",
        "Currency",
        "Reference",
        "Payer name",
        "Payer email",
        "Link URL",
        f"Link expires ({zone_name})",
        "TrueLayer payment ID",
        "Payment link ID",
        "Failure stage",
        "Failure reason",
        "Refunded amount",
        "Refund status",
    ]


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def spreadsheet_time(moment: datetime | None, zone: tzinfo) -> str:
    """`2025-03-03 14:05:00` in `zone`: the shape spreadsheets read as a date and time."""
    if moment is None:
        return ""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def row(payment: Payment, zone: tzinfo) -> list[str]:
    refunded = refund_amounts(payment)
    has_refunds = bool(payment.facts.refund_count)
    return [
        payment.payment_id,
        spreadsheet_time(payment.created_at, zone),
        spreadsheet_time(payment.updated_at, zone),
        payment.status.value,
        str(payment.amount),
        payment.currency,
        _text(payment.reference),
        _text(payment.payer_name),
        _text(payment.payer_email),
        _text(payment.payment_link_url),
        spreadsheet_time(payment.expires_at, zone),
        _text(payment.truelayer_payment_id),
        _text(payment.payment_link_id),
        _text(payment.failure_stage),
        _text(payment.failure_reason),
        str(refunded.refunded) if has_refunds else "",
        refunded.label,
    ]


def csv_lines(payments: Iterable[Payment], *, zone_name: str) -> Iterator[str]:
    """The byte-order mark and header, then one CSV line per payment, produced as the payments
    are read. `zone_name` must be a known IANA zone (see `known_zones`)."""
    zone = ZoneInfo(zone_name)
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(header(zone_name))
    for payment in payments:
        yield writer.writerow(row(payment, zone))


def export_filename(now: datetime) -> str:
    return f"payments-{now:%Y%m%d-%H%M%S}.csv"
