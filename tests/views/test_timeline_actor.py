"""Every money action (create, refund, cancel, refresh) names on the payment's timeline the
member who did it: "by Alice Merchant <alice@example.com>"."""

from __future__ import annotations

import pytest
import responses
from django.test import Client
from django.urls import reverse

from payments import dynamo
from payments.domain import Payment
from payments.dynamo import Dynamo
from tests.accounts.members_helpers import person
from tests.factories import ALICE
from tests.services.test_cancel import CANCEL_URL, started
from tests.truelayer.fakes import API, LINKS_URL, link_created
from tests.views.test_create import VALID
from tests.views.test_refund import REFUNDS_URL, paid, submit

ACTOR = "Alice Merchant <alice@example.com>"
SHOWN = "by Alice Merchant &lt;alice@example.com&gt;"


@pytest.fixture
def member(client: Client, db: None) -> Client:
    client.force_login(person(ALICE, "Alice Merchant", "alice@example.com"))
    return client


def stored(repo: Dynamo, payment_id: str) -> Payment:
    found = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment_id)
    assert found is not None
    return found


def test_creating_a_payment_names_its_creator(
    member: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    member.post(reverse("payments:new"), VALID)
    (row,) = dynamo.payment_list(repo, user_id=ALICE).items
    payment = stored(repo, row.payment_id)  # a list row carries no timeline

    assert payment.history[0].source == "created" and payment.history[0].actor == ACTOR
    assert (
        SHOWN in member.get(reverse("payments:detail", args=[payment.payment_id])).content.decode()
    )


def test_a_refund_names_who_asked_for_it(
    member: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, REFUNDS_URL, json={"id": "tl-refund-1"}, status=202)
    payment = paid(repo)
    submit(member, payment, "5.00", confirm="yes")

    entry = next(h for h in stored(repo, payment.payment_id).history if "refund of" in h.detail)
    assert entry.actor == ACTOR
    assert (
        SHOWN in member.get(reverse("payments:detail", args=[payment.payment_id])).content.decode()
    )


def test_a_cancellation_names_who_asked_for_it(
    member: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, CANCEL_URL, status=202)
    payment = started(repo)
    member.post(reverse("payments:cancel", args=[payment.payment_id]))

    entry = stored(repo, payment.payment_id).history[-1]
    assert entry.detail == dynamo.CANCEL_REQUESTED and entry.actor == ACTOR


def test_a_refresh_names_who_pressed_it_on_what_it_changed(
    member: Client, repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created("link-r"))
    member.post(reverse("payments:new"), VALID)
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

    member.post(reverse("payments:refresh", args=[payment.payment_id]))

    entry = stored(repo, payment.payment_id).history[-1]
    assert entry.detail == "payment executed" and entry.actor == ACTOR


def test_entries_without_a_member_keep_their_stored_shape(repo: Dynamo) -> None:
    payment = paid(repo)  # made by the data layer directly, as webhooks and reconciliation do
    assert all(h.actor == "" for h in stored(repo, payment.payment_id).history)
