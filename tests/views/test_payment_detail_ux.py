"""The detail page as a merchant reads it (issue 12): a final payment's link is closed (and
goes live, with the status), the link's expiry, timeline sources in words, one poller."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from payments import dynamo
from payments.domain import Payment, PaymentStatus
from payments.dynamo import Dynamo
from payments.lifecycle import AttemptSeen, AttemptStatus, LinkDisabled, Observation
from tests.factories import ALICE, reach
from tests.views.conftest import HTMX
from tests.webhooks.helpers import payment_with_link

S = PaymentStatus
A = AttemptStatus
NOW = datetime.now(UTC)


def observe(repo: Dynamo, payment: Payment, *seen: Observation, source: str = "test") -> None:
    for observation in seen:
        dynamo.payment_observe(
            repo,
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            observation=observation,
            source=source,
        )


def detail(alice: Client, payment: Payment) -> str:
    return alice.get(f"/payments/{payment.payment_id}/").content.decode()


OFFERS = ("Send this link to the payer", 'id="payment-link"', "Open the link", 'class="qr"')


@pytest.mark.parametrize(
    ("status", "word"),
    [(S.SETTLED, "paid"), (S.FAILED, "failed"), (S.EXPIRED, "expired")],
)
def test_a_final_payment_says_link_closed_and_offers_nothing_to_the_payer(
    alice: Client, repo: Dynamo, status: PaymentStatus, word: str
) -> None:
    payment = reach(repo, payment_with_link(repo), status)
    page = detail(alice, payment)
    text = " ".join(re.sub(r"<[^>]+>", "", page).split())
    assert f"Link closed — {word}" in text
    for offer in OFFERS:
        assert offer not in page
    assert "Refresh status" not in page


def test_an_open_link_is_offered_with_its_default_expiry(alice: Client, repo: Dynamo) -> None:
    payment = payment_with_link(repo)
    page = detail(alice, payment)
    for offer in OFFERS:
        assert offer in page
    assert "Refresh status" in page
    expiry = re.search(r'data-testid="link-expiry">(.*?)</span>', page, re.S)
    assert expiry
    text = " ".join(re.sub(r"<[^>]+>", "", expiry.group(1)).split())
    # Created just now with the default lifetime: 24 hours left (Babel rounds it to a day).
    assert text.startswith("· expires in 1d (") and "the default 24 hours" in text


def test_a_chosen_expiry_is_shown_with_the_time_left(alice: Client, repo: Dynamo) -> None:
    created = dynamo.payment_create(
        repo,
        user_id=ALICE,
        amount=Decimal("5.00"),
        currency="GBP",
        reference="INV X",
        expires_at=NOW + timedelta(hours=3, minutes=1),
    )
    payment = dynamo.payment_link_set(
        repo,
        user_id=ALICE,
        payment_id=created.payment_id,
        link_id="link-x",
        link_url="https://payment.truelayer-sandbox.com/link/x",
        response={"id": "link-x"},
    )
    page = detail(alice, payment)
    assert "expires in 3h (" in page and "the default 24 hours" not in page


def test_the_live_update_replaces_the_link_section_once_the_payment_is_final(
    alice: Client, repo: Dynamo
) -> None:
    payment = payment_with_link(repo)
    shown = payment.version
    observe(repo, payment, AttemptSeen("tl-1", A.FAILED, NOW), LinkDisabled("expired", NOW))
    body = alice.get(
        f"/payments/{payment.payment_id}/status/?part=detail&shown=v{shown}", headers=HTMX
    ).content.decode()
    assert 'id="link-section" class="card" aria-labelledby="link-heading" hx-swap-oob="true"' in (
        body
    )
    assert "Link closed" in body and "Send this link to the payer" not in body
    # The flash about the state before ("Send the link to the payer") goes with it.
    assert '<div id="messages" aria-live="polite" hx-swap-oob="true"></div>' in body


def test_the_detail_page_has_one_poller_held_back_while_hidden(alice: Client, repo: Dynamo) -> None:
    payment = payment_with_link(repo)
    page = detail(alice, payment)
    assert page.count("hx-trigger=") == 1 and page.count("data-live-poll") == 1


def test_timeline_sources_are_in_words(alice: Client, repo: Dynamo) -> None:
    payment = payment_with_link(repo)
    observe(
        repo,
        payment,
        AttemptSeen("tl-1", A.EXECUTED, NOW),
        source="TrueLayer webhook (payment_executed)",
    )
    observe(
        repo,
        payment,
        AttemptSeen("tl-1", A.SETTLED, NOW),
        source="Refresh status (asked TrueLayer)",
    )
    page = detail(alice, payment)
    assert "TrueLayer: payment executed" in page
    assert "Refresh from TrueLayer" in page
    assert "Created in the dashboard" in page
    assert "payment_executed" not in re.sub(r"<details.*?</details>", "", page, flags=re.S)
