"""payment_refresh_status: asks TrueLayer (faked with `responses`) what became of a payment's
link and applies the answer through the same forward-only update as the webhooks."""

from __future__ import annotations

from decimal import Decimal

import pytest
import responses
from payments.repository import PaymentRepository

from payments import services
from payments.domain import Payment, PaymentStatus
from payments.truelayer.client import TrueLayerError
from tests.factories import ALICE, BOB
from tests.truelayer.fakes import API, TOKEN_URL, problem
from tests.webhooks.helpers import payment_with_link

S = PaymentStatus
SOURCE = "refresh from TrueLayer"


def attempts_url(payment: Payment) -> str:
    return f"{API}/v3/payment-links/{payment.payment_link_id}/payments"


def refresh(repo: PaymentRepository, payment: Payment, user_id: str = ALICE) -> Payment:
    return services.payment_refresh_status(
        user_id=user_id, payment_id=payment.payment_id, repo=repo
    )


def with_known_attempt(
    repo: PaymentRepository, truelayer: responses.RequestsMock, **answer: str
) -> Payment:
    """A linked payment that already knows its TrueLayer payment `tl-1`, which TrueLayer
    answers `GET /v3/payments/tl-1` about with `answer`."""
    payment = payment_with_link(repo)
    repo.set_truelayer_payment_id(
        user_id=ALICE, payment_id=payment.payment_id, truelayer_payment_id="tl-1"
    )
    truelayer.add(responses.GET, f"{API}/v3/payments/tl-1", json={"id": "tl-1", **answer})
    return payment


def truelayer_calls(mock: responses.RequestsMock) -> list[str]:
    return [f"{c.request.method} {c.request.url}" for c in mock.calls if c.request.url != TOKEN_URL]


def test_the_latest_attempt_is_read_and_its_status_applied(
    repo: PaymentRepository, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    attempts = [
        {"id": "tl-new", "status": "executed", "created_at": "2026-01-01T10:05:00Z"},
        {"id": "tl-old", "status": "failed", "created_at": "2026-01-01T10:00:00Z"},
    ]
    truelayer.add(responses.GET, attempts_url(payment), json={"items": attempts})
    truelayer.add(
        responses.GET, f"{API}/v3/payments/tl-new", json={"id": "tl-new", "status": "executed"}
    )

    refreshed = refresh(repo, payment)

    assert refreshed.status is S.EXECUTED
    assert refreshed.truelayer_payment_id == "tl-new"
    assert refreshed.history[-1].source == SOURCE
    assert refreshed.provider_responses["list_link_payments"] == {"items": attempts}
    assert refreshed.provider_responses["get_payment"]["id"] == "tl-new"
    assert refreshed == repo.get_payment(user_id=ALICE, payment_id=payment.payment_id)


def test_a_known_truelayer_payment_is_read_directly(
    repo: PaymentRepository, truelayer: responses.RequestsMock
) -> None:
    payment = with_known_attempt(
        repo,
        truelayer,
        status="failed",
        failure_stage="authorizing",
        failure_reason="user_canceled",
    )

    refreshed = refresh(repo, payment)

    assert truelayer_calls(truelayer) == [f"GET {API}/v3/payments/tl-1"]
    assert refreshed.status is S.FAILED
    assert (refreshed.failure_stage, refreshed.failure_reason) == ("authorizing", "user_canceled")
    assert refreshed.history[-1].detail == "user_canceled"


def test_no_attempt_and_a_disabled_link_means_expired(
    repo: PaymentRepository, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    truelayer.add(responses.GET, attempts_url(payment), json={"items": []})
    link = {"id": payment.payment_link_id, "status": "disabled", "disablement_reason": "expired"}
    truelayer.add(responses.GET, f"{API}/v3/payment-links/{payment.payment_link_id}", json=link)

    refreshed = refresh(repo, payment)

    assert refreshed.status is S.EXPIRED
    assert refreshed.history[-1].source == SOURCE
    assert refreshed.provider_responses["get_payment_link"] == link


def test_no_attempt_and_an_enabled_link_stays_pending(
    repo: PaymentRepository, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    truelayer.add(responses.GET, attempts_url(payment), json={"items": []})
    link = {"id": payment.payment_link_id, "status": "enabled"}
    truelayer.add(responses.GET, f"{API}/v3/payment-links/{payment.payment_link_id}", json=link)

    refreshed = refresh(repo, payment)

    assert refreshed.status is S.PENDING
    assert [h.status for h in refreshed.history] == [S.PENDING]
    assert refreshed.provider_responses["get_payment_link"] == link


@pytest.mark.parametrize("answer", ["pending", "no_such_status"])
def test_pending_or_unknown_truelayer_status_changes_no_status(
    repo: PaymentRepository, truelayer: responses.RequestsMock, answer: str
) -> None:
    payment = with_known_attempt(repo, truelayer, status=answer)

    refreshed = refresh(repo, payment)

    assert refreshed.status is S.PENDING
    assert len(refreshed.history) == 1
    assert refreshed.provider_responses["get_payment"]["status"] == answer  # kept for support


def test_an_older_answer_never_moves_the_status_back(
    repo: PaymentRepository, truelayer: responses.RequestsMock
) -> None:
    payment = with_known_attempt(repo, truelayer, status="authorizing")
    repo.update_status(
        user_id=ALICE, payment_id=payment.payment_id, status=S.EXECUTED, source="webhook"
    )

    refreshed = refresh(repo, payment)

    assert refreshed.status is S.EXECUTED
    assert [h.source for h in refreshed.history][-1] == "webhook"


def test_final_payments_and_payments_without_a_link_ask_truelayer_nothing(
    repo: PaymentRepository, truelayer: responses.RequestsMock
) -> None:
    linked = payment_with_link(repo)
    settled = repo.update_status(
        user_id=ALICE, payment_id=linked.payment_id, status=S.SETTLED, source="webhook"
    ).payment
    unlinked = repo.create_payment(
        user_id=ALICE, amount=Decimal("5.00"), currency="GBP", reference="NO-LINK"
    )
    assert settled is not None

    assert refresh(repo, settled) == settled
    assert refresh(repo, unlinked) == unlinked
    assert truelayer_calls(truelayer) == []


def test_unknown_or_foreign_payment_is_not_found(
    repo: PaymentRepository, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)

    with pytest.raises(services.PaymentNotFound):
        refresh(repo, payment, user_id=BOB)
    with pytest.raises(services.PaymentNotFound):
        services.payment_refresh_status(user_id=ALICE, payment_id="01NOSUCHPAYMENT", repo=repo)
    assert truelayer_calls(truelayer) == []


def test_truelayer_failure_is_raised_and_changes_nothing(
    repo: PaymentRepository, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    truelayer.add(
        responses.GET,
        attempts_url(payment),
        json=problem(404, "Not Found", "trace-404"),
        status=404,
    )

    with pytest.raises(TrueLayerError) as raised:
        refresh(repo, payment)

    assert raised.value.trace_id == "trace-404"
    assert repo.get_payment(user_id=ALICE, payment_id=payment.payment_id) == payment
