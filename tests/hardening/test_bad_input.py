"""Every input the issue found answering 500 now gets a clear 4xx (or works), with DEBUG on
and off. The test client re-raises any exception a view lets escape, so a traceback fails."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse

from payments import dynamo
from payments.dynamo import Dynamo
from tests.factories import ALICE
from tests.truelayer.fakes import WebhookSigner, event_body
from tests.webhooks.helpers import payment_with_link, post

WEBHOOK = "/webhooks/truelayer/"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "url",
    [
        "/?end=9999-12-31",
        "/?start=9999-12-31",
        "/?range=custom&start=0001-01-01&end=0001-01-01",
        "/export.csv?end=9999-12-31",
        "/export.csv?start=9999-12-31",
        "/stats/?range=custom&end=9999-12-31",
    ],
)
def test_a_date_at_the_calendars_end_is_refused_with_the_allowed_range(
    alice: Client, repo: Dynamo, debug: bool, url: str
) -> None:
    response = alice.get(url)
    assert response.status_code == 400
    assert "Choose dates between 1 Jan 2000 and 31 Dec 2999" in response.content.decode()


def test_statistics_whose_previous_period_falls_before_year_one_are_refused(
    alice: Client, repo: Dynamo, debug: bool
) -> None:
    response = alice.get("/stats/?range=custom&start=0001-01-01&end=0001-12-31")
    assert response.status_code == 400
    assert "Choose dates between" in response.content.decode()


def test_statistics_at_the_first_allowed_day_compare_with_the_year_before(
    alice: Client, repo: Dynamo, debug: bool
) -> None:
    response = alice.get("/stats/?range=custom&start=2000-01-01&end=2000-12-31")
    assert response.status_code == 200


def test_a_39_digit_search_says_no_amount_is_that_long(
    alice: Client, repo: Dynamo, debug: bool
) -> None:
    response = alice.get("/", {"q": "9" * 39})
    assert response.status_code == 400
    assert "longer than any amount" in response.content.decode()
    # 38 digits still fit a DynamoDB number: searched, nothing found.
    assert alice.get("/", {"q": "9" * 38}).status_code == 200


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        # Exponents and Decimal's special values are no way to write money: the one amount
        # reader (formatting.read_amount) refuses them before any arithmetic.
        ("1e27", "is not an amount"),
        ("9" * 20, "too large"),
        ("1e-27", "is not an amount"),
        ("NaN", "is not an amount"),
        ("Infinity", "is not an amount"),
        ("-Infinity", "is not an amount"),
        ("sNaN", "is not an amount"),
        ("1e999999999", "is not an amount"),
        ("1" * 21, "at most 20 characters"),
    ],
)
def test_amounts_no_payment_can_have_are_refused_next_to_the_field(
    alice: Client,
    repo: Dynamo,
    signer: WebhookSigner,
    debug: bool,
    amount: str,
    message: str,
) -> None:
    form = {"amount": amount, "currency": "GBP", "reference": "INV 1"}
    response = alice.post(reverse("payments:new"), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(dynamo.payment_iter(repo, user_id=ALICE)) == []


def test_a_deeply_nested_json_signature_header_is_refused(
    client: Client, repo: Dynamo, debug: bool
) -> None:
    nested = b"[" * 3000 + b"]" * 3000
    for header in (b64(nested) + ".." + b64(b"sig"), b64(b"[" * 100_000) + "..AAAA"):
        response = client.post(
            WEBHOOK, data=b"{}", content_type="application/json", headers={"Tl-Signature": header}
        )
        assert response.status_code == 401, response.content


def test_a_signed_event_nested_5000_levels_deep_is_refused(
    client: Client, repo: Dynamo, signer: WebhookSigner, debug: bool
) -> None:
    body = b'{"event_id":"e1","type":"x","payload":' + b"[" * 5000 + b"]" * 5000 + b"}"
    status, text = post(client, signer, body)
    assert (status, json.loads(text)) == (400, {"result": "The body is not JSON"})


def test_a_3kb_event_id_is_refused_for_good_not_retried(
    client: Client, repo: Dynamo, signer: WebhookSigner, debug: bool
) -> None:
    payment = payment_with_link(repo)
    body = event_body(
        "payment_executed", payment_id="tl-3kb", payment_link_id=payment.payment_link_id
    )
    event = json.loads(body)
    event["event_id"] = "e" * 3000
    status, text = post(client, signer, json.dumps(event).encode())
    assert status == 400
    assert "longer than 128" in text
    # A UUID-length id is still applied.
    event["event_id"] = "e" * 128
    assert post(client, signer, json.dumps(event).encode())[0] == 200


@pytest.mark.parametrize(
    "moment",
    [
        "9999-12-31T23:59:59-05:00",
        "9999-12-31T23:59:59.999Z",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00Z",
        "0999-12-31T00:00:00Z",
    ],
)
def test_a_signed_event_with_a_time_at_the_calendars_edge_is_answered(
    client: Client, repo: Dynamo, signer: WebhookSigner, debug: bool, moment: str
) -> None:
    payment = payment_with_link(repo)
    body = event_body(
        "payment_failed",
        payment_link_id=payment.payment_link_id,
        payment_id="tl-1",
        failed_at=moment,
        failure_reason="expired",
    )
    assert post(client, signer, body)[0] == 200
    # The payment stays readable (a year-1 time once made it unreadable for good).
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    # A failed attempt on a link that is still open: the payer can try again.
    assert stored is not None and stored.status == "attempt_failed"
    assert 2000 <= stored.history[-1].at.year <= 2999


def test_the_webhook_url_without_its_slash_is_served_not_redirected(
    client: Client, repo: Dynamo, signer: WebhookSigner, debug: bool
) -> None:
    payment = payment_with_link(repo)
    body = event_body("payment_link_disabled", payment_link_id=payment.payment_link_id)
    headers = signer.sign(body, path="/webhooks/truelayer")
    response = client.post(
        "/webhooks/truelayer",
        data=body,
        content_type=headers.pop("Content-Type"),
        headers=headers,
    )
    assert response.status_code == 200
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status == "expired"


@pytest.mark.parametrize("next_url", ["9999-12-31", "payments:list", "javascript:alert(1)", ""])
def test_a_next_that_is_not_a_path_leads_to_the_dashboard(
    alice: Client, debug: bool, next_url: str
) -> None:
    response = alice.get("/accounts/login/", {"next": next_url})
    assert (response.status_code, response["Location"]) == (302, "/")


def test_a_next_that_is_a_path_is_kept(alice: Client, debug: bool) -> None:
    response = alice.get("/accounts/login/", {"next": "/stats/"})
    assert (response.status_code, response["Location"]) == (302, "/stats/")


@pytest.mark.parametrize("next_url", ["9999-12-31", "//evil.example/x", "https://evil.example/"])
def test_the_development_sign_in_ignores_a_next_that_is_not_a_path(
    client: Client, db: None, settings: object, next_url: str
) -> None:
    from django.test import override_settings

    with override_settings(DEBUG=True, DEV_SIGN_IN=True):
        response = client.post(
            "/accounts/dev-login/?next=" + next_url, {"merchant_id": "dev|alice", "next": next_url}
        )
    assert (response.status_code, response["Location"]) == (302, "/")
