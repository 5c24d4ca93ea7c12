"""The refund page: amount defaults to what remains, a confirmation step states amount,
currency and payer, every refusal is shown next to its field, and another merchant's payment
is not found."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import cast
from unittest import mock

import pytest
import responses
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from payments import dynamo
from payments.domain import Payment
from payments.dynamo import Dynamo
from payments.errors import DatabaseUnavailable
from payments.lifecycle import AttemptSeen, AttemptStatus, RefundSeen, RefundStatus
from tests.factories import ALICE, BOB, sign_in
from tests.truelayer.fakes import API, problem
from tests.webhooks.helpers import payment_with_link

REFUNDS_URL = f"{API}/v3/payments/tl-pay-1/refunds"
TOKEN = "b" * 32
T1 = datetime(2026, 11, 21, tzinfo=UTC)


def paid(repo: Dynamo) -> Payment:
    payment = dynamo.payment_create(
        repo, user_id=ALICE, amount="20.00", currency="GBP", reference="INV 7", payer_name="Pat"
    )
    dynamo.payment_link_set(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        link_id=f"link-{payment.payment_id}",
        link_url="https://x",
        response={},
    )
    observed = dynamo.payment_observe(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        observation=AttemptSeen(
            "tl-pay-1", AttemptStatus.EXECUTED, datetime(2026, 11, 20, tzinfo=UTC)
        ),
        source="test",
    )
    assert observed.payment is not None
    return observed.payment


def url(payment: Payment) -> str:
    return reverse("payments:refund", args=[payment.payment_id])


def submit(alice: Client, payment: Payment, amount: str, **extra: str) -> str:
    data = {"amount": amount, "reference": "Refund INV 7", "form_token": TOKEN, **extra}
    response = alice.post(url(payment), data)
    return response.content.decode() if response.status_code != 302 else response["Location"]


def test_the_form_offers_what_remains_and_the_detail_page_links_to_it(
    alice: Client, repo: Dynamo
) -> None:
    payment = paid(repo)
    detail = alice.get(reverse("payments:detail", args=[payment.payment_id])).content.decode()
    assert url(payment) in detail
    assert "remaining £20.00" in detail
    page = alice.get(url(payment)).content.decode()
    assert 'value="20.00"' in page
    assert 'value="Refund INV 7"' in page
    assert 'name="form_token"' in page


def test_continue_shows_a_confirmation_with_amount_currency_and_payer(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = paid(repo)
    response = alice.post(
        url(payment), {"amount": "5", "reference": "Refund INV 7", "form_token": TOKEN}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Confirm the refund" in page
    assert "£5.00" in page and "(GBP)" in page and "Pat" in page
    assert [c for c in truelayer.calls if c.request.url == REFUNDS_URL] == []


def test_confirming_sends_the_refund_and_the_page_shows_it_pending(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, REFUNDS_URL, json={"id": "tl-refund-1"}, status=202)
    payment = paid(repo)
    location = submit(alice, payment, "5.00", confirm="yes")
    assert location == reverse("payments:detail", args=[payment.payment_id])
    detail = alice.get(location).content.decode()
    assert "Refund requested" in detail
    assert "pending £5.00" in detail and "remaining £15.00" in detail
    assert "tl-refund-1" in detail
    # A double click posts the same form token: one refund.
    submit(alice, payment, "5.00", confirm="yes")
    assert len([c for c in truelayer.calls if c.request.url == REFUNDS_URL]) == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "The amount must be greater than zero."),
        ("-3", "The amount must be greater than zero."),
        ("1.234", "GBP amounts have at most 2 decimal places."),
        ("20.01", "At most 20.00 GBP remains to refund on this payment."),
        ("", "This field is required."),
    ],
)
def test_bad_amounts_are_shown_next_to_the_amount(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock, amount: str, message: str
) -> None:
    payment = paid(repo)
    for extra in ({}, {"confirm": "yes"}):
        response = alice.post(
            url(payment),
            {"amount": amount, "reference": "Refund INV 7", "form_token": TOKEN, **extra},
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert 'id="id_amount-error"' in page and message in page
    assert [c for c in truelayer.calls if c.request.url == REFUNDS_URL] == []


def test_a_bad_reference_is_shown_next_to_the_reference(alice: Client, repo: Dynamo) -> None:
    payment = paid(repo)
    page = submit(alice, payment, "1.00", reference="refund (x)")
    assert 'id="id_reference-error"' in page and "Use only letters" in page


def test_a_payment_not_yet_paid_says_why_and_offers_no_form(alice: Client, repo: Dynamo) -> None:
    payment = payment_with_link(repo)
    page = alice.get(url(payment)).content.decode()
    assert "only authorised, executed or settled payments can be refunded" in page
    assert 'name="amount"' not in page
    assert alice.post(url(payment), {"amount": "1", "form_token": TOKEN}).status_code == 400


def test_another_merchants_payment_is_not_found(client: Client, repo: Dynamo, db: None) -> None:
    payment = paid(repo)
    sign_in(client, BOB)
    assert client.get(url(payment)).status_code == 404
    data = {"amount": "1", "reference": "R", "form_token": TOKEN, "confirm": "yes"}
    assert client.post(url(payment), data).status_code == 404
    retry = reverse("payments:refund_retry", args=[payment.payment_id, "x"])
    assert client.post(retry).status_code == 404


def test_dynamodb_down_is_said_on_the_form_and_nothing_is_sent(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = paid(repo)
    with mock.patch.object(dynamo, "refund_create", side_effect=DatabaseUnavailable()):
        page = submit(alice, payment, "1.00", confirm="yes")
    assert "cannot be reached" in page and "Nothing was sent to TrueLayer" in page
    assert [c for c in truelayer.calls if c.request.url == REFUNDS_URL] == []


def test_truelayer_down_shows_the_saved_refund_with_retry(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, REFUNDS_URL, json=problem(503, "Service Unavailable"), status=503)
    payment = paid(repo)
    location = submit(alice, payment, "2.00", confirm="yes")
    detail = alice.get(location).content.decode()
    assert "TrueLayer has not accepted it yet" in detail
    assert "Not accepted by TrueLayer yet: Service Unavailable" in detail
    assert ">Retry</button>" in detail
    truelayer.replace(responses.POST, REFUNDS_URL, json={"id": "tl-refund-5"}, status=202)
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    (saved,) = stored.lifecycle.refunds
    retry = reverse("payments:refund_retry", args=[payment.payment_id, saved.refund_id])
    detail = alice.get(alice.post(retry)["Location"]).content.decode()
    assert "accepted by TrueLayer" in detail and "tl-refund-5" in detail


def execute(repo: Dynamo, payment: Payment, truelayer_refund_id: str) -> None:
    dynamo.payment_observe(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        observation=RefundSeen(
            truelayer_refund_id,
            "tl-pay-1",
            RefundStatus.EXECUTED,
            datetime(2026, 11, 21, tzinfo=UTC),
        ),
        source="test",
    )


def test_list_csv_and_statistics_show_refunds_and_net_volume(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, REFUNDS_URL, json={"id": "tl-refund-1"}, status=202)
    payment = paid(repo)
    submit(alice, payment, "5.00", confirm="yes")
    assert "refund pending" in alice.get(reverse("payments:list")).content.decode()
    execute(repo, payment, "tl-refund-1")

    listing = alice.get(reverse("payments:list")).content.decode()
    assert 'data-testid="refund-badge">partially refunded<' in listing
    export = alice.get(reverse("payments:export"))
    assert isinstance(export, StreamingHttpResponse)
    csv_text = b"".join(cast("Iterator[bytes]", export.streaming_content)).decode()
    head, line = csv_text.splitlines()[:2]
    assert head.endswith("refunded_amount,refund_status")
    assert line.endswith("5.00,partially refunded")
    stats = alice.get(reverse("payments:stats"), {"range": "7d"}).content.decode()
    assert (
        "Net volume in GBP" in stats and "£15.00" in stats and "refunded £5.00 (1 refund)" in stats
    )

    truelayer.replace(responses.POST, REFUNDS_URL, json={"id": "tl-refund-2"}, status=202)
    alice.post(
        url(payment),
        {"amount": "15.00", "reference": "Refund INV 7", "form_token": "c" * 32, "confirm": "yes"},
    )
    execute(repo, payment, "tl-refund-2")
    listing = alice.get(reverse("payments:list")).content.decode()
    assert 'data-testid="refund-badge">refunded<' in listing
    detail = alice.get(reverse("payments:detail", args=[payment.payment_id])).content.decode()
    assert "remaining £0.00" in detail and f'href="{url(payment)}"' not in detail
