"""The "New payment" page, "Try again" and "Refresh status": validation next to each field
before anything is stored or sent, one payment per submission, merchants see only their own."""

from __future__ import annotations

import re

import pytest
import responses
from django.test import Client
from django.urls import reverse

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from tests.factories import ALICE, BOB, sign_in
from tests.truelayer.fakes import LINKS_URL, link_created, link_posts, problem

API = "https://api.truelayer-sandbox.com"
VALID = {"amount": "12.50", "currency": "GBP", "reference": "INV-1", "submission_token": "a" * 32}


def test_new_page_needs_a_signed_in_merchant(client: Client, db: None) -> None:
    response = client.get(reverse("payments:new"))
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_new_page_shows_the_form_with_a_submission_token(alice: Client) -> None:
    page = alice.get(reverse("payments:new")).content.decode()
    assert 'name="submission_token"' in page
    assert 'name="amount"' in page


def test_valid_submit_creates_the_payment_and_lands_on_its_page(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())

    response = alice.post(reverse("payments:new"), VALID)

    (payment,) = dynamo.payment_list(repo, user_id=ALICE).items
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:detail", args=[payment.payment_id])
    assert payment.payment_link_id == "link-1"


@pytest.mark.parametrize(
    ("typed", "stored"), [("£12.50", "12.50"), ("£1,250.00", "1250.00"), ("1,250 GBP", "1250.00")]
)
def test_an_amount_written_as_the_dashboard_shows_it_is_accepted(
    alice: Client,
    repo: Dynamo,
    truelayer: responses.RequestsMock,
    typed: str,
    stored: str,
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    response = alice.post(reverse("payments:new"), {**VALID, "amount": typed})
    assert response.status_code == 302
    (payment,) = dynamo.payment_list(repo, user_id=ALICE).items
    assert str(payment.amount) == stored


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "0", "greater than zero"),
        ("amount", "-5", "greater than zero"),
        ("amount", "12.345", "at most 2 decimal places"),
        ("amount", "abc", "is not an amount"),
        ("amount", "10000.01", "The most one payment link can ask for"),
        ("amount", "12,50", "is not an amount"),
        ("amount", "£12,50", "is not an amount"),
        ("amount", "€12.50", "That amount is in EUR, but the currency is GBP."),
        ("reference", "INV(1)", "Use only letters"),
        ("reference", "A" * 19, "at most 18 characters"),
        ("reference", "", "required"),
        ("payer_email", "not-an-email", "valid email"),
        ("currency", "USD", "Select a valid choice"),
        ("expires_at", "2020-01-01T10:00", "at least 15 minutes from now"),
    ],
)
def test_invalid_input_is_refused_next_to_its_field_and_nothing_is_stored_or_sent(
    alice: Client,
    repo: Dynamo,
    truelayer: responses.RequestsMock,
    field: str,
    value: str,
    message: str,
) -> None:
    response = alice.post(reverse("payments:new"), {**VALID, field: value})

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    # Shown under its own field, which names it (aria-describedby) and is marked invalid.
    page = response.content.decode()
    assert f'<div class="field-error" id="id_{field}_error">' in page
    assert_described_by_its_error(page, field)
    assert dynamo.payment_list(repo, user_id=ALICE).items == []
    assert not link_posts(truelayer)


def test_maximum_amount_follows_the_setting(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock, settings: object
) -> None:
    from decimal import Decimal

    settings.PAYMENTS_MAX_AMOUNT = Decimal("50")  # type: ignore[attr-defined]
    response = alice.post(reverse("payments:new"), {**VALID, "amount": "50.01"})
    assert response.status_code == 400
    assert "£50.00" in " ".join(response.context["form"].errors["amount"])


def test_double_submit_creates_one_payment_and_lands_both_on_it(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())

    first = alice.post(reverse("payments:new"), VALID)
    second = alice.post(reverse("payments:new"), VALID)

    assert first["Location"] == second["Location"]
    assert len(dynamo.payment_list(repo, user_id=ALICE).items) == 1
    assert len(link_posts(truelayer)) == 1


def test_link_failure_shows_why_and_try_again_creates_it(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(
        responses.POST, LINKS_URL, json=problem(503, "Service Unavailable", "trace-xyz"), status=503
    )
    response = alice.post(reverse("payments:new"), VALID, follow=True)
    page = response.content.decode()
    assert "could not be created" in page
    assert "Service Unavailable" in page
    assert "trace-xyz" in page
    assert "Try again" in page

    (payment,) = dynamo.payment_list(repo, user_id=ALICE).items
    truelayer.replace(responses.POST, LINKS_URL, json=link_created("link-ok"))
    alice.post(reverse("payments:retry_link", args=[payment.payment_id]))

    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.payment_link_id == "link-ok"


def test_another_merchants_payment_is_not_found(
    client: Client, repo: Dynamo, truelayer: responses.RequestsMock, db: None
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=problem(400, "Invalid Parameters"), status=400)
    sign_in(client, ALICE)
    client.post(reverse("payments:new"), VALID)
    (payment,) = dynamo.payment_list(repo, user_id=ALICE).items
    client.logout()
    sign_in(client, BOB, "Bob Merchant")

    assert client.post(reverse("payments:retry_link", args=[payment.payment_id])).status_code == 404
    assert client.post(reverse("payments:refresh", args=[payment.payment_id])).status_code == 404


def test_retry_and_refresh_refuse_get(alice: Client) -> None:
    assert alice.get(reverse("payments:retry_link", args=["x"])).status_code == 405
    assert alice.get(reverse("payments:refresh", args=["x"])).status_code == 405


def test_refresh_applies_what_truelayer_says_and_tells_the_merchant(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created("link-r"))
    alice.post(reverse("payments:new"), VALID)
    (payment,) = dynamo.payment_list(repo, user_id=ALICE).items
    truelayer.add(
        responses.GET, f"{API}/v3/payment-links/link-r", json={"id": "link-r", "status": "enabled"}
    )
    truelayer.add(
        responses.GET,
        f"{API}/v3/payment-links/link-r/payments",
        json={
            "items": [{"id": "tl-r", "status": "executed", "created_at": "2026-01-01T10:00:00Z"}]
        },
    )
    truelayer.add(responses.GET, f"{API}/v3/payments/tl-r/refunds", json={"items": []})

    response = alice.post(reverse("payments:refresh", args=[payment.payment_id]), follow=True)

    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.EXECUTED
    assert stored.truelayer_payment_id == "tl-r"
    answer = stored.provider_responses["get_payment_link"]
    assert answer["payments"][0]["status"] == "executed"
    assert "Updated from TrueLayer: payment executed. Status: Executed." in (
        response.content.decode()
    )

    # Asked again, TrueLayer says nothing new: the merchant is told so and nothing is written.
    again = alice.post(reverse("payments:refresh", args=[payment.payment_id]), follow=True)
    assert "Nothing changed" in again.content.decode()
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == stored


def test_refresh_failure_is_shown_not_raised(
    alice: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created("link-f"))
    alice.post(reverse("payments:new"), VALID)
    (payment,) = dynamo.payment_list(repo, user_id=ALICE).items
    truelayer.add(
        responses.GET,
        f"{API}/v3/payment-links/link-f",
        json=problem(500, "Internal Server Error", "trace-500"),
        status=500,
    )
    response = alice.post(reverse("payments:refresh", args=[payment.payment_id]), follow=True)
    assert response.status_code == 200
    assert "trace-500" in response.content.decode()
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.PENDING


def assert_described_by_its_error(page: str, field: str) -> None:
    """The field's tag has aria-invalid and an aria-describedby that names the error's id."""
    tag = re.search(rf'<(input|select)[^>]*\bid="id_{field}"[^>]*>', page)
    assert tag, f"no input for {field}"
    described = re.search(r'aria-describedby="([^"]+)"', tag.group(0))
    assert described and f"id_{field}_error" in described.group(1).split()
    assert 'aria-invalid="true"' in tag.group(0)
    for ref in described.group(1).split():
        assert f'id="{ref}"' in page, f"aria-describedby names {ref}, which is not on the page"


def test_a_failed_submit_lists_every_error_in_a_summary_that_takes_focus(
    alice: Client, repo: Dynamo
) -> None:
    response = alice.post(
        reverse("payments:new"), {**VALID, "amount": "abc", "reference": "INV(1)"}
    )
    page = response.content.decode()
    summary = page[page.index('<div class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert "autofocus" in summary and 'tabindex="-1"' in summary
    assert "There are 2 problems" in summary
    assert '<a href="#id_amount" data-focus-field="id_amount">Amount:' in summary
    assert '<a href="#id_reference" data-focus-field="id_reference">Reference:' in summary


def test_the_reference_stops_at_18_characters_with_a_counter(alice: Client) -> None:
    page = alice.get(reverse("payments:new")).content.decode()
    tag = re.search(r'<input[^>]*id="id_reference"[^>]*>', page)
    assert tag and 'maxlength="18"' in tag.group(0)
    assert 'data-count-for="id_reference" data-max="18"' in page
    assert (
        '<p class="visually-hidden" aria-live="polite" data-count-status-for="id_reference">'
        in page
    )
