"""The payment list's rows and status badges, made in Python rather than in templates.

A list page shows 25 rows (up to 500 after "Load more"), and every row through Django's
template engine cost more than the page's DynamoDB read: ~0.3 ms a row, of which the status
cell's two nested includes were a third (`make profile`). Here a row is computed once into a
`ListRow` whose `<tr>` is one format string filled with escaped text (`_ROW_HTML`), which
`payments/list.html` only prints; the status cell (the badge, and the hidden input that keeps
an unfinished row live) is made the same way. `format_html` and template variables cost ~10 µs
each (Django checks every argument for lazy strings): 26 rows of 12 cells were ~3 ms a page.
The list's layout (the table, its header, "Load more") stays in the template.

The status cell is the same markup wherever a payment's status shows: the list's rows, the
list's live update (`payment_list_live`, swapped in out of band), the single row's status
endpoint and the detail page (`{% status_badge payment %}`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString

from payments import formatting, refunds
from payments.domain import Payment


def status_badge(payment: Payment) -> SafeString:
    """The status as a badge (tone, glyph and label, so never colour alone), then what else a
    merchant must know at a glance: the settlement state of the winning attempt and refunds."""
    status = payment.status
    html = (
        f'<span class="{formatting.status_badge_class(status)}"><span class="badge-glyph" '
        f'aria-hidden="true">{formatting.status_glyph(status)}</span>{escape(status.label)}</span>'
    )
    settlement = payment.settlement_badge
    if settlement:
        html += f' <span class="badge badge-fact">{escape(settlement)}</span>'
    if payment.facts.refund_count:
        refunded = refunds.refund_amounts(payment).label
        if refunded:
            html += (
                ' <span class="badge badge-fact" data-testid="refund-badge">'
                f"{escape(refunded)}</span>"
            )
    return SafeString(html)  # every text in it is escaped or a constant


def live_status(payment: Payment, *, oob: bool = False) -> SafeString:
    """A list row's status cell. While the payment can still change, a hidden `v` input names
    it and the version shown: the list's one poller (`#live-poller` in list.html) sends them
    all and gets back only the cells that moved, swapped in out of band (`oob`). A final
    status has no input, so nothing asks about it again."""
    payment_id = escape(payment.payment_id)
    live = (
        f'<input type="hidden" name="v" value="{payment_id}:v{payment.version:d}" '
        'form="live-poller">'
        if not payment.is_final
        else ""
    )
    swap = ' hx-swap-oob="true"' if oob else ""
    return SafeString(  # every text in it is escaped or a constant
        f'<span class="live-status" id="live-{payment_id}"{swap}>'
        f"{status_badge(payment)}{live}</span>"
    )


@dataclass(frozen=True, slots=True)
class ListRow:
    """One payment of the list: its cells as text, and the whole `<tr>` (`html`, escaped)."""

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
    html: SafeString


# What `reverse` leaves unquoted in a path argument (django.urls.resolvers).
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"
# A stand-in id, reversed once per page and replaced by each row's (quoted as `reverse` does).
_ID = "0PAYMENTID0"

# One row of the list's table (`payments/list.html` prints them). Every `{}` is escaped text
# except `status` (the status cell's markup, `live_status`) and `payer` (made below).
_ROW_HTML = (
    '<tr class="payment-row">'
    # The row's one link, stretched over the whole row by CSS: one tab stop per payment.
    '<td data-label="Reference"><a class="row-link" href="{url}">{reference}</a></td>'
    '<td data-label="Payer" class="payer">{payer}</td>'
    '<td data-label="Amount" class="num amount">{amount}</td>'
    '<td data-label="Status">{status}</td>'
    '<td data-label="Created"><time datetime="{created_iso}">{created}</time></td>'
    '<td data-label="Payment id"><span class="id-cell"><code title="{id}">{short_id}</code>'
    '<button type="button" class="copy" data-copy="{id}" aria-label="Copy payment id {id}">'
    "Copy</button></span></td>"
    "</tr>\n"
)
_NO_PAYER = '<span class="hint">No payer given</span>'


def _payer_cell(name: str, email: str) -> str:
    if not (name or email):
        return _NO_PAYER
    return (f'<span class="payer-name">{escape(name)}</span>' if name else "") + (
        f'<span class="payer-email">{escape(email)}</span>' if email else ""
    )


def list_rows(payments: Iterable[Payment]) -> list[ListRow]:
    """The rows of `payments`, in order, times in the merchant's zone."""
    detail_url = reverse("payments:detail", args=[_ID])
    rows: list[ListRow] = []
    for p in payments:
        url = detail_url.replace(_ID, quote(p.payment_id, safe=_URL_SAFE))
        short_id = formatting.short_id(p.payment_id)
        amount = formatting.format_money(p.amount, p.currency)
        status = live_status(p)
        created_iso = formatting.iso_local(p.created_at)
        created = formatting.format_datetime(p.created_at)
        html = _ROW_HTML.format(
            url=escape(url),
            reference=escape(p.reference),
            payer=_payer_cell(p.payer_name or "", p.payer_email or ""),
            amount=escape(amount),
            status=status,
            created_iso=escape(created_iso),
            created=escape(created),
            id=escape(p.payment_id),
            short_id=escape(short_id),
        )
        rows.append(
            ListRow(
                payment_id=p.payment_id,
                short_id=short_id,
                detail_url=url,
                reference=p.reference,
                payer_name=p.payer_name or "",
                payer_email=p.payer_email or "",
                amount=amount,
                status=status,
                created_iso=created_iso,
                created=created,
                html=SafeString(html),  # every text in it is escaped
            )
        )
    return rows
