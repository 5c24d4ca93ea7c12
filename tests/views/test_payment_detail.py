"""The payment detail page: facts, link with QR code, failure in words, timeline, raw answers."""

from __future__ import annotations

import pytest
from django.test import Client

from payments import dynamo
from payments.domain import Payment, PaymentStatus
from payments.dynamo import Dynamo, EventReceipt
from payments.lifecycle import AttemptSeen, AttemptStatus, LinkDisabled, Observation, SettlementFact
from tests.factories import ALICE, BOB, T0, make_payments
from tests.views.conftest import HTMX, database_down

S = PaymentStatus
A = AttemptStatus


def observe(repo: Dynamo, payment: Payment, *seen: Observation) -> None:
    for observation in seen:
        dynamo.payment_observe(
            repo,
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            observation=observation,
            source="TrueLayer webhook (test)",
        )


def test_detail_shows_amount_status_reference_times_and_ids(alice: Client, repo: Dynamo) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    observe(repo, payment, AttemptSeen("tl-pay-123456", A.AUTHORIZATION_REQUIRED, T0))
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    assert "£10.00" in page and "INV 0" in page and "Authorisation required" in page
    assert "1 Jan 2026, 09:00:00 GMT" in page
    assert f'data-copy="{payment.payment_id}"' in page
    assert 'data-copy="tl-pay-123456"' in page


def test_payment_link_has_a_copy_button_and_a_server_made_qr_code(
    alice: Client, repo: Dynamo
) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    dynamo.payment_link_set(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        link_id="link-abc123",
        link_url="https://payment.truelayer-sandbox.com/links/abc",
        response={"id": "link-abc123", "uri": "https://payment.truelayer-sandbox.com/links/abc"},
    )
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    assert 'data-copy="https://payment.truelayer-sandbox.com/links/abc"' in page
    assert 'src="data:image/svg+xml' in page
    assert 'data-copy="link-abc123"' in page
    assert "<details" in page and "create_link" in page  # raw provider answer, collapsed


def test_failure_reason_is_explained_in_words(alice: Client, repo: Dynamo) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    observe(
        repo,
        payment,
        AttemptSeen(
            "tl-1", A.FAILED, T0, failure_stage="authorizing", failure_reason="insufficient_funds"
        ),
        LinkDisabled("expired", T0),
    )
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    assert "did not have enough money" in page
    assert "while the payer was authorising it" in page


def test_unknown_failure_reason_is_shown_as_it_came(alice: Client, repo: Dynamo) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    observe(repo, payment, AttemptSeen("tl-1", A.FAILED, T0, failure_reason="brand_new_reason"))
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    assert "brand_new_reason" in page


def test_history_is_a_timeline_newest_first(alice: Client, repo: Dynamo) -> None:
    (payment,) = make_payments(repo, ALICE, 1, statuses=(S.EXECUTED,))
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    timeline = page.split('class="timeline"', 1)[1]
    assert timeline.index("Executed") < timeline.index("Pending")


def test_unfinished_payment_polls_its_status_and_a_final_one_does_not(
    alice: Client, repo: Dynamo
) -> None:
    pending, settled = make_payments(repo, ALICE, 2, statuses=(S.PENDING, S.SETTLED))
    page = alice.get(f"/payments/{pending.payment_id}/").content.decode()
    assert 'hx-trigger="every 3s"' in page
    page = alice.get(f"/payments/{settled.payment_id}/").content.decode()
    assert "hx-trigger=" not in page.split('id="status-panel"', 1)[1].split(">", 1)[0]


def test_link_actions_partial_is_included(alice: Client, repo: Dynamo) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    assert f'id="link-actions-{payment.payment_id}"' in page


def test_htmx_request_gets_the_status_panel_only(alice: Client, repo: Dynamo) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    body = alice.get(f"/payments/{payment.payment_id}/", headers=HTMX).content.decode()
    assert "<html" not in body and 'id="status-panel"' in body


@pytest.mark.parametrize("payment_id", ["does-not-exist", "01ARZ3NDEKTSV4RRFFQ69G5FAV"])
def test_unknown_payment_is_404(alice: Client, repo: Dynamo, payment_id: str) -> None:
    assert alice.get(f"/payments/{payment_id}/").status_code == 404


def test_another_merchants_payment_is_404(alice: Client, repo: Dynamo) -> None:
    (theirs,) = make_payments(repo, BOB, 1)
    assert alice.get(f"/payments/{theirs.payment_id}/").status_code == 404


def test_failing_database_shows_the_dependency_page_with_503(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamo, "payment_get", database_down)
    assert alice.get("/payments/01ARZ3NDEKTSV4RRFFQ69G5FAV/").status_code == 503


def _with_link(repo: Dynamo) -> Payment:
    (payment,) = make_payments(repo, ALICE, 1)
    return dynamo.payment_link_set(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        link_id=f"link-{payment.payment_id}",
        link_url="https://payment.truelayer-sandbox.com/link",
        response={},
    )


def test_one_attempt_is_one_line_and_several_are_a_table(alice: Client, repo: Dynamo) -> None:
    payment = _with_link(repo)
    observe(repo, payment, AttemptSeen("tl-first", A.FAILED, T0, failure_reason="provider_error"))
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    assert page.count('data-testid="attempt"') == 1
    assert "tl-first" in page and "Attempt failed" in page
    assert "the payer can try again" in page

    observe(repo, payment, AttemptSeen("tl-second", A.EXECUTED, T0, provider_id="ob-monzo"))
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    assert "Attempts (2)" in page
    assert page.count('data-testid="attempt"') == 2
    assert "ob-monzo" in page
    assert "the payer can try again" not in page


def test_settlement_facts_are_badges_on_the_detail_page_and_in_the_list(
    alice: Client, repo: Dynamo
) -> None:
    payment = _with_link(repo)
    observe(repo, payment, AttemptSeen("tl-1", A.EXECUTED, T0))
    observe(repo, payment, SettlementFact("tl-1", "stalled", T0))
    assert "settlement stalled" in alice.get(f"/payments/{payment.payment_id}/").content.decode()
    assert "settlement stalled" in alice.get("/").content.decode()
    observe(repo, payment, AttemptSeen("tl-1", A.SETTLED, T0))
    observe(repo, payment, SettlementFact("tl-1", "creditable", T0))
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    # The badge says the latest fact; the timeline keeps the stall as history.
    assert '<span class="badge badge-fact">settled — safe to credit</span>' in page
    assert '<span class="badge badge-fact">settlement stalled</span>' not in page


def test_the_webhook_log_lists_each_delivery_and_what_it_did(alice: Client, repo: Dynamo) -> None:
    payment = _with_link(repo)
    receipt = EventReceipt("ev-77", "payment_executed", "2026-11-20T10:00:00Z", T0)
    for _ in range(2):
        dynamo.payment_observe(
            repo,
            user_id=ALICE,
            payment_id=payment.payment_id,
            observation=AttemptSeen("tl-1", A.EXECUTED, T0),
            source="TrueLayer webhook (payment_executed)",
            receipt=receipt,
        )
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    assert "Webhooks received (2)" in page
    assert page.count("ev-77") == 2
    assert "· applied" in page and "· duplicate" in page


def test_a_closed_link_is_no_longer_offered_to_the_payer(alice: Client, repo: Dynamo) -> None:
    payment = _with_link(repo)
    observe(repo, payment, AttemptSeen("tl-1", A.EXECUTED, T0), LinkDisabled("fulfilled", T0))
    page = alice.get(f"/payments/{payment.payment_id}/").content.decode()
    assert "Link closed" in page and "paid" in page
    assert 'id="payment-link"' not in page and "Send this link" not in page
