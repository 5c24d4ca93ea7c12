"""Events that arrive before their payment is known are parked (202), kept in DynamoDB, and
applied the moment the payment becomes known: its link stored, or its attempt created."""

from __future__ import annotations

import io
from decimal import Decimal

import responses
from django.core.management import call_command

from payments import dynamo, services
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from tests.factories import ALICE
from tests.services.helpers import apply, created, event, receive, stored
from tests.truelayer.fakes import LINKS_URL, WebhookSigner, link_created

S = PaymentStatus


def test_an_event_before_the_link_is_stored_is_applied_when_payment_create_stores_it(
    repo: Dynamo, signer: WebhookSigner, truelayer: responses.RequestsMock
) -> None:
    # The payer pressed "Pay now" before our write of the link landed.
    early = created("link-early", "tl-1")
    result = receive(repo, signer, early)
    assert (result.status, result.message, result.applied) == (202, "parked", False)
    assert [e.event_id for e in dynamo.parked_for(repo, dynamo.LINK, "link-early")] == [
        early["event_id"]
    ]

    truelayer.add(responses.POST, LINKS_URL, json=link_created("link-early"))
    payment = services.payment_create(
        user_id=ALICE, amount=Decimal("5.00"), currency="GBP", reference="FAST", db=repo
    )

    assert payment.status is S.AUTHORIZATION_REQUIRED
    now = stored(repo, payment)
    assert [a.attempt_id for a in now.attempts] == ["tl-1"]
    assert [(e.event_id, e.outcome) for e in now.webhook_log] == [
        (early["event_id"], "parked, then applied")
    ]
    assert dynamo.parked_for(repo, dynamo.LINK, "link-early") == []
    # TrueLayer retries the event it was answered 202 for: a duplicate now.
    again = receive(repo, signer, early)
    assert (again.status, again.message) == (200, "duplicate")


def test_link_set_then_drain_parked_applies_what_waited_in_arrival_order(repo: Dynamo) -> None:
    payment = dynamo.payment_create(
        repo, user_id=ALICE, amount=Decimal("7.00"), currency="GBP", reference="R"
    )
    first = created("link-x", "tl-x")
    disabled = event("payment_link_disabled", payment_link_id="link-x", disabled_reason="fulfilled")
    assert apply(repo, first).status == 202
    assert apply(repo, disabled).status == 202

    dynamo.payment_link_set(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        link_id="link-x",
        link_url="https://x",
        response={},
    )
    assert services.drain_parked(repo, dynamo.LINK, "link-x") == 2

    now = stored(repo, payment)
    assert now.status is S.AUTHORIZATION_REQUIRED
    assert now.lifecycle.link.disabled_reason == "fulfilled"
    assert [e.event_type for e in now.webhook_log] == [
        "payment_link_payment_created",
        "payment_link_disabled",
    ]
    assert services.drain_parked(repo, dynamo.LINK, "link-x") == 0


def test_executed_before_payment_created_is_parked_by_attempt_and_applied_when_created_arrives(
    repo: Dynamo, signer: WebhookSigner
) -> None:
    payment = dynamo.payment_create(
        repo, user_id=ALICE, amount=Decimal("9.00"), currency="GBP", reference="R"
    )
    payment = dynamo.payment_link_set(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        link_id="link-1",
        link_url="https://x",
        response={},
    )
    executed = event("payment_executed", payment_id="tl-late-created")
    settled = event("payment_settled", payment_id="tl-late-created")
    assert receive(repo, signer, executed).status == 202
    assert receive(repo, signer, settled).status == 202
    assert len(dynamo.parked_for(repo, dynamo.ATTEMPT, "tl-late-created")) == 2

    result = receive(repo, signer, created("link-1", "tl-late-created"))

    assert (result.status, result.message) == (200, "applied")
    now = stored(repo, payment)
    assert now.status is S.SETTLED
    assert [(e.event_type, e.outcome) for e in now.webhook_log] == [
        ("payment_link_payment_created", "applied"),
        ("payment_executed", "parked, then applied"),
        ("payment_settled", "parked, then applied"),
    ]
    assert dynamo.parked_for(repo, dynamo.ATTEMPT, "tl-late-created") == []


def test_a_redelivered_parked_event_is_kept_once(repo: Dynamo, signer: WebhookSigner) -> None:
    one = event("payment_executed", payment_id="tl-nobody")
    assert receive(repo, signer, one).status == 202
    assert receive(repo, signer, one).status == 202
    assert len(dynamo.parked_for(repo, dynamo.ATTEMPT, "tl-nobody")) == 1


def test_parked_events_command_lists_events_nobody_owns_with_counts_by_type(
    repo: Dynamo, signer: WebhookSigner
) -> None:
    out = io.StringIO()
    call_command("parked_events", stdout=out)
    assert out.getvalue().strip() == "No parked webhook events."

    # Payments made outside this product (same TrueLayer app, one webhook URI).
    receive(repo, signer, created("link-foreign", "tl-foreign"))
    receive(repo, signer, event("payment_executed", payment_id="tl-foreign"))
    receive(repo, signer, event("payment_executed", payment_id="tl-foreign-2"))

    out = io.StringIO()
    call_command("parked_events", "--details", stdout=out)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0] == "3 parked webhook event(s):"
    assert lines[1].split() == ["2", "payment_executed"]
    assert lines[2].split() == ["1", "payment_link_payment_created"]
    assert "LINK#link-foreign" in text and "ATTEMPT#tl-foreign-2" in text
