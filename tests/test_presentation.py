"""The list's rows and the status cell, made in Python (payments/presentation.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse

from payments import presentation
from payments.domain import Payment, PaymentStatus
from payments.lifecycle import Lifecycle, Refund, RefundStatus

MOMENT = datetime(2026, 7, 1, 12, tzinfo=UTC)


def payment(status: PaymentStatus = PaymentStatus.PENDING, **extra: object) -> Payment:
    return Payment(
        user_id="auth0|a",
        payment_id="01KDWT9H40PVR7M4FP9ZABRDQK",
        amount=Decimal("1234.50"),
        currency="GBP",
        reference="INV 1",
        status=status,
        created_at=MOMENT,
        updated_at=MOMENT,
        version=7,
        **extra,  # type: ignore[arg-type]
    )


def test_an_unfinished_row_names_its_version_for_the_poller() -> None:
    cell = presentation.live_status(payment())
    assert cell.startswith('<span class="live-status" id="live-01KDWT9H40PVR7M4FP9ZABRDQK">')
    assert (
        '<input type="hidden" name="v" value="01KDWT9H40PVR7M4FP9ZABRDQK:v7" form="live-poller">'
        in cell
    )
    assert "Pending" in cell and 'aria-hidden="true"' in cell


def test_a_final_row_is_never_asked_about_again() -> None:
    cell = presentation.live_status(payment(PaymentStatus.FAILED))
    assert "<input" not in cell and "Failed" in cell


def test_the_live_update_swaps_the_cell_out_of_band() -> None:
    assert 'hx-swap-oob="true"' in presentation.live_status(payment(), oob=True)
    assert "hx-swap-oob" not in presentation.live_status(payment())


def test_the_badge_says_what_was_refunded() -> None:
    refunded = payment(
        PaymentStatus.SETTLED,
        lifecycle=Lifecycle(refunds=(Refund("r1", RefundStatus.EXECUTED, amount_minor=450),)),
    )
    assert 'data-testid="refund-badge">partially refunded</span>' in presentation.status_badge(
        refunded
    )
    assert "refund-badge" not in presentation.status_badge(payment(PaymentStatus.SETTLED))


@pytest.mark.parametrize("status", list(PaymentStatus))
def test_every_status_has_a_labelled_badge(status: PaymentStatus) -> None:
    badge = presentation.status_badge(payment(status))
    assert status.label in badge and 'class="badge' in badge


def test_a_row_has_every_cell_ready_and_the_template_escapes_the_merchants_text() -> None:
    hostile = dataclasses.replace(
        payment(), reference="<script>x</script>", payer_name='"><b>', payer_email="a@b.c"
    )
    (row,) = presentation.list_rows([hostile])
    assert row.detail_url == "/payments/01KDWT9H40PVR7M4FP9ZABRDQK/"
    assert row.amount == "£1,234.50"
    assert row.short_id == "01KD…ABRDQK"
    assert row.created_iso == "2026-07-01T13:00:00+01:00"  # the merchant's zone (London)
    html = Template("{{ row.reference }}{{ row.payer_name }}{{ row.status }}").render(
        Context({"row": row})
    )
    assert "<script>" not in html and "&lt;script&gt;" in html and "&quot;&gt;&lt;b&gt;" in html
    assert '<span class="live-status"' in html  # the status cell is markup, not text
    # The row as the list prints it: the merchant's text escaped, the status cell markup.
    assert "<script>" not in row.html and "&lt;script&gt;x&lt;/script&gt;" in row.html
    assert '<span class="payer-name">&quot;&gt;&lt;b&gt;</span>' in row.html
    assert '<span class="payer-email">a@b.c</span>' in row.html
    assert row.html.count('<span class="live-status"') == 1
    assert 'href="/payments/01KDWT9H40PVR7M4FP9ZABRDQK/"' in row.html


def test_a_row_without_payer_says_so_and_has_one_cell_per_column() -> None:
    (row,) = presentation.list_rows([payment()])
    assert '<span class="hint">No payer given</span>' in row.html
    assert row.html.count("<td ") == 6 and row.html.startswith('<tr class="payment-row">')


@pytest.mark.parametrize(
    "payment_id", ["01KDWT9H40PVR7M4FP9ZABRDQK", "a b?#%ü&=+;:@~", "0PAYMENTID0x"]
)
def test_the_rows_link_is_the_one_reverse_makes(payment_id: str) -> None:
    (row,) = presentation.list_rows([dataclasses.replace(payment(), payment_id=payment_id)])
    assert row.detail_url == reverse("payments:detail", args=[payment_id])
