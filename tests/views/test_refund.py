"""The refund page: amount defaults to what remains, a confirmation step states amount,
currency and payer, every refusal is shown next to its field, and another merchant's payment
is not found."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import cast
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.dev import dev_merchant_get_or_create
from accounts.recent import SIGNED_IN_AT
from payments import dynamo
from payments.domain import Payment
from payments.dynamo import Dynamo
from payments.errors import DatabaseUnavailable
from payments.lifecycle import AttemptSeen, AttemptStatus, RefundSeen, RefundStatus
from tests.factories import ALICE, BOB, sign_in
from tests.truelayer.fakes import API, problem
from tests.views.test_create import assert_described_by_its_error
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


@pytest.mark.parametrize("amount", ["£5", "£5.00", "5.00 GBP"])
def test_an_amount_written_as_the_page_shows_it_is_accepted(
    alice: Client, repo: Dynamo, amount: str
) -> None:
    page = submit(alice, paid(repo), amount)
    assert "Confirm the refund" in page and "£5.00" in page


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
        ("€5", "That amount is in EUR, but the currency is GBP."),
        ("5,00", "is not an amount. Write the amount like 12.50, £12.50 or 1,250.00."),
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
        assert 'id="id_amount_error"' in page and message in page
        assert_described_by_its_error(page, "amount")
    assert [c for c in truelayer.calls if c.request.url == REFUNDS_URL] == []


def test_a_bad_reference_is_shown_next_to_the_reference(alice: Client, repo: Dynamo) -> None:
    payment = paid(repo)
    page = submit(alice, payment, "1.00", reference="refund (x)")
    assert 'id="id_reference_error"' in page and "Use only letters" in page
    assert_described_by_its_error(page, "reference")


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
    assert head.endswith("Refunded amount,Refund status")
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


def test_an_old_sign_in_must_be_confirmed_and_returns_to_the_filled_in_form(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock, settings: SettingsWrapper
) -> None:
    settings.DEBUG = True  # the development sign-in re-confirms
    settings.DEV_SIGN_IN = True
    alice.force_login(
        dev_merchant_get_or_create(merchant_id=ALICE),
        backend="django.contrib.auth.backends.ModelBackend",
    )
    payment = paid(repo)
    session = alice.session
    session[SIGNED_IN_AT] = int(time.time()) - 16 * 60  # REFUND_REAUTH_MINUTES is 15
    session.save()

    response = alice.post(
        url(payment), {"amount": "4.00", "reference": "Refund X", "form_token": TOKEN}
    )

    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:reauth")
    )
    assert [c for c in truelayer.calls if c.request.url == REFUNDS_URL] == []
    page = alice.get(response["Location"]).content.decode()
    assert "Confirm and continue" in page
    next_url = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    back = alice.post(reverse("accounts:reauth"), {"next": next_url})
    assert back.status_code == 302 and back["Location"].startswith(url(payment))
    form = alice.get(back["Location"]).content.decode()
    assert 'value="4.00"' in form and 'value="Refund X"' in form and f'value="{TOKEN}"' in form
    # Now recent: the same submission goes on to the confirmation.
    confirm = alice.post(
        url(payment), {"amount": "4.00", "reference": "Refund X", "form_token": TOKEN}
    )
    assert "Confirm the refund" in confirm.content.decode()


def test_auth0_reauth_asks_auth0_for_a_fresh_login(
    alice: Client, settings: SettingsWrapper, db: None
) -> None:
    settings.SOCIAL_AUTH_AUTH0_DOMAIN = "tenant.eu.auth0.com"
    settings.SOCIAL_AUTH_AUTH0_KEY = "client-id"
    settings.SOCIAL_AUTH_AUTH0_SECRET = "secret"
    page = alice.get(reverse("accounts:reauth"), {"next": "/payments/x/refund/"}).content.decode()
    assert 'name="reauth" value="1"' in page
    start = alice.post(
        reverse("social:begin", args=["auth0"]), {"reauth": "1", "next": "/payments/x/refund/"}
    )
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["900"]
    plain = alice.post(reverse("social:begin", args=["auth0"]), {"next": "/"})
    assert "prompt" not in parse_qs(urlsplit(plain["Location"]).query)
