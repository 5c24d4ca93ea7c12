"""The status fragment polled by unfinished payments (list rows and the detail page)."""

from __future__ import annotations

from django.test import Client

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from payments.lifecycle import AttemptSeen, AttemptStatus
from tests.factories import ALICE, BOB, T0, make_payments
from tests.views.conftest import HTMX

S = PaymentStatus


def test_unchanged_status_answers_204_so_nothing_is_swapped(alice: Client, repo: Dynamo) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    response = alice.get(f"/payments/{payment.payment_id}/status/?shown=pending", headers=HTMX)
    assert response.status_code == 204


def test_changed_status_answers_the_new_badge_still_polling(alice: Client, repo: Dynamo) -> None:
    (payment,) = make_payments(repo, ALICE, 1, statuses=(S.AUTHORIZING,))
    response = alice.get(f"/payments/{payment.payment_id}/status/?shown=pending", headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "Authorising" in body
    # No poller of its own (the list polls once for all rows); it names the version it shows.
    assert "hx-trigger" not in body and f'value="{payment.payment_id}:v1"' in body


def test_final_status_answers_a_badge_without_a_trigger_so_polling_stops(
    alice: Client, repo: Dynamo
) -> None:
    (payment,) = make_payments(repo, ALICE, 1, statuses=(S.SETTLED,))
    body = alice.get(f"/payments/{payment.payment_id}/status/?shown=executed", headers=HTMX)
    text = body.content.decode()
    assert "Settled" in text and "hx-trigger" not in text


def test_detail_part_answers_the_whole_status_panel(alice: Client, repo: Dynamo) -> None:
    (payment,) = make_payments(repo, ALICE, 1, statuses=(S.FAILED,))
    text = alice.get(
        f"/payments/{payment.payment_id}/status/?part=detail&shown=authorizing", headers=HTMX
    ).content.decode()
    assert 'id="status-panel"' in text and "Failed" in text and "hx-trigger" not in text


def test_another_merchants_payment_status_is_404(alice: Client, repo: Dynamo) -> None:
    (theirs,) = make_payments(repo, BOB, 1)
    assert alice.get(f"/payments/{theirs.payment_id}/status/", headers=HTMX).status_code == 404


def test_anonymous_poll_is_sent_to_sign_in_with_hx_redirect(
    client: Client, db: None, repo: Dynamo
) -> None:
    response = client.get("/payments/01ARZ3NDEKTSV4RRFFQ69G5FAV/status/", headers=HTMX)
    assert "/accounts/login/" in response["HX-Redirect"]


def test_detail_part_also_refreshes_the_details_card_out_of_band(
    alice: Client, repo: Dynamo
) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    dynamo.payment_observe(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        observation=AttemptSeen("tl-pay-42", AttemptStatus.AUTHORIZING, T0),
        source="test",
    )
    text = alice.get(
        f"/payments/{payment.payment_id}/status/?part=detail&shown=pending", headers=HTMX
    ).content.decode()
    assert 'id="facts"' in text and 'hx-swap-oob="true"' in text and "tl-pay-42" in text
