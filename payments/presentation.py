"""The payment list's rows and status badges, made in Python rather than in templates.

A list page shows 25 rows (up to 500 after "Load more"), and every row through Django's
template engine cost more than the page's DynamoDB read: ~0.3 ms a row, of which the status
cell's two nested includes were a third (`make profile`). Here a row is computed once into a
`ListRow` of ready strings that `payments/list.html` only prints, and the status cell (the
badge, and the hidden input that keeps an unfinished row live) is one `format_html` call. The
markup stays readable below; the list's layout stays in the template.

The status cell is the same markup wherever a payment's status shows: the list's rows, the
list's live update (`payment_list_live`, swapped in out of band), the single row's status
endpoint and the detail page (`{% status_badge payment %}`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString

from payments import formatting, refunds
from payments.domain import Payment


def status_badge(payment: Payment) -> SafeString:
    """The status as a badge (tone, glyph and label, so never colour alone), then what else a
    merchant must know at a glance: the settlement state of the winning attempt and refunds."""
    status = payment.status
    html = format_html(
        '<span class="{}"><span class="badge-glyph" aria-hidden="true">{}</span>{}</span>',
        formatting.status_badge_class(status),
        formatting.status_glyph(status),
        status.label,
    )
    settlement = payment.settlement_badge
    if settlement:
        html += format_html(' <span class="badge badge-fact">{}</span>', settlement)
    if payment.facts.refund_count:
        refunded = refunds.refund_amounts(payment).label
        if refunded:
            html += format_html(
                ' <span class="badge badge-fact" data-testid="refund-badge">{}</span>', refunded
            )
    return html


def live_status(payment: Payment, *, oob: bool = False) -> SafeString:
    """A list row's status cell. While the payment can still change, a hidden `v` input names
    it and the version shown: the list's one poller (`#live-poller` in list.html) sends them
    all and gets back only the cells that moved, swapped in out of band (`oob`). A final
    status has no input, so nothing asks about it again."""
    live = (
        format_html(
            '<input type="hidden" name="v" value="{}:v{}" form="live-poller">',
            payment.payment_id,
            payment.version,
        )
        if not payment.is_final
        else ""
    )
    return format_html(
        '<span class="live-status" id="live-{}"{}>{}{}</span>',
        payment.payment_id,
        SafeString(' hx-swap-oob="true"') if oob else "",
        status_badge(payment),
        live,
    )


@dataclass(frozen=True, slots=True)
class ListRow:
    """One payment of the list, every cell ready to print (the template escapes the text)."""

    payment_id: str
    short_id: str
    detail_url: str
    reference: str
    payer_name: str
    payer_email: str
    amount: str
    status: SafeString
    created_iso: str
    created: str


# What `reverse` leaves unquoted in a path argument (django.urls.resolvers).
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"
# A stand-in id, reversed once per page and replaced by each row's (quoted as `reverse` does).
_ID = "0PAYMENTID0"


def list_rows(payments: Iterable[Payment]) -> list[ListRow]:
    """The rows of `payments`, in order, times in the merchant's zone."""
    detail_url = reverse("payments:detail", args=[_ID])
    return [
        ListRow(
            payment_id=p.payment_id,
            short_id=formatting.short_id(p.payment_id),
            detail_url=detail_url.replace(_ID, quote(p.payment_id, safe=_URL_SAFE)),
            reference=p.reference,
            payer_name=p.payer_name or "",
            payer_email=p.payer_email or "",
            amount=formatting.format_money(p.amount, p.currency),
            status=live_status(p),
            created_iso=formatting.iso_local(p.created_at),
            created=formatting.format_datetime(p.created_at),
        )
        for p in payments
    ]
