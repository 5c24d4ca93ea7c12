"""payment_refresh_status: reads the link and all its attempts from TrueLayer (faked with
`responses`) and applies each through the same conditional write as the webhooks; writes nothing
when TrueLayer says nothing new."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import responses

from payments import dynamo, services
from payments.domain import Payment, PaymentStatus
from payments.dynamo import Dynamo
from payments.lifecycle import AttemptStatus
from payments.truelayer.client import TrueLayerError
from tests.factories import ALICE, BOB, reach
from tests.services.helpers import apply, event, stored
from tests.truelayer.fakes import API, TOKEN_URL, problem
from tests.webhooks.helpers import payment_with_link

S = PaymentStatus
A = AttemptStatus


def answer(
    mock: responses.RequestsMock,
    payment: Payment,
    attempts: list[dict[str, Any]],
    link: dict[str, Any] | None = None,
) -> None:
    """What TrueLayer answers about `payment`'s link (replacing any earlier answer)."""
    link_url = f"{API}/v3/payment-links/{payment.payment_link_id}"
    link = {"id": payment.payment_link_id, "status": "enabled", **(link or {})}
    for url, body in ((link_url, link), (f"{link_url}/payments", {"items": attempts})):
        mock.upsert(responses.GET, url, json=body)
    no_refunds(mock, attempts)


def no_refunds(mock: responses.RequestsMock, attempts: list[dict[str, Any]]) -> None:
    """A paid attempt's refunds are read too (`GET /v3/payments/{id}/refunds`): none here."""
    for attempt in attempts:
        if isinstance(attempt.get("id"), str):
            url = f"{API}/v3/payments/{attempt['id']}/refunds"
            mock.upsert(responses.GET, url, json={"items": []})


def refresh(repo: Dynamo, payment: Payment, user_id: str = ALICE) -> services.Refreshed:
    return services.payment_refresh_status(user_id=user_id, payment_id=payment.payment_id, db=repo)


def truelayer_calls(mock: responses.RequestsMock) -> list[str]:
    return [f"{c.request.method} {c.request.url}" for c in mock.calls if c.request.url != TOKEN_URL]


def test_every_attempt_is_read_and_the_status_derived_from_them(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    attempts = [
        {"id": "tl-new", "status": "executed", "created_at": "2026-01-01T10:05:00Z"},
        {
            "id": "tl-old",
            "status": "failed",
            "created_at": "2026-01-01T10:00:00Z",
            "failure_stage": "authorizing",
            "failure_reason": "user_canceled",
        },
    ]
    answer(truelayer, payment, attempts)

    refreshed = refresh(repo, payment)

    now = refreshed.payment
    assert now.status is S.EXECUTED
    assert [(a.attempt_id, a.status) for a in now.attempts] == [
        ("tl-old", A.FAILED),
        ("tl-new", A.EXECUTED),
    ]
    assert now.attempts[0].failure_reason == "user_canceled"
    assert now.truelayer_payment_id == "tl-new"
    assert now.history[-1].source == services.REFRESH_SOURCE
    assert len(refreshed.changes) == 2
    assert now.provider_responses["get_payment_link"]["payments"] == attempts
    assert now == dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)


def test_changes_are_applied_once_and_nothing_is_written_when_nothing_changed(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    answer(truelayer, payment, [{"id": "tl-1", "status": "authorizing"}])
    first = refresh(repo, payment)
    assert first.payment.status is S.AUTHORIZING and first.changes

    second = refresh(repo, payment)

    assert second.changes == ()
    assert second.payment == first.payment  # not even updatedAt or the version moved
    assert second.payment.updated_at == first.payment.updated_at
    # And news TrueLayer gives later is applied, once.
    answer(truelayer, payment, [{"id": "tl-1", "status": "settled"}])
    third = refresh(repo, payment)
    assert third.payment.status is S.SETTLED
    assert [h.status for h in third.payment.history].count(S.SETTLED) == 1


def test_a_failed_attempt_on_an_open_link_is_attempt_failed_and_failed_once_it_closes(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    failed = {"id": "tl-1", "status": "failed", "failure_reason": "expired"}
    answer(truelayer, payment, [failed])
    assert refresh(repo, payment).payment.status is S.ATTEMPT_FAILED

    closed = {
        "status": "disabled",
        "disabled_reason": "expired",
        "disabled_at": "2026-01-02T00:00:00Z",
    }
    answer(truelayer, payment, [failed], closed)
    assert refresh(repo, payment).payment.status is S.FAILED


def test_no_attempt_and_a_disabled_link_means_expired(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    answer(truelayer, payment, [], {"status": "disabled", "disabled_reason": "expired"})

    refreshed = refresh(repo, payment)

    assert refreshed.payment.status is S.EXPIRED
    assert refreshed.payment.lifecycle.link.disabled_reason == "expired"
    assert refreshed.changes == ("link expired",)
    assert refreshed.payment.history[-1].source == services.REFRESH_SOURCE


def test_no_attempt_and_an_enabled_link_stays_pending_and_unwritten(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    answer(truelayer, payment, [])

    refreshed = refresh(repo, payment)

    assert refreshed.changes == ()
    assert refreshed.payment == payment


@pytest.mark.parametrize("status", ["pending", "no_such_status"])
def test_unknown_truelayer_statuses_change_nothing(
    repo: Dynamo, truelayer: responses.RequestsMock, status: str
) -> None:
    payment = payment_with_link(repo)
    answer(truelayer, payment, [{"id": "tl-1", "status": status}])

    refreshed = refresh(repo, payment)

    assert refreshed.changes == () and refreshed.payment == payment


def test_an_older_answer_never_moves_the_status_back(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    apply(
        repo,
        event(
            "payment_link_payment_created",
            payment_link_id=payment.payment_link_id,
            payment={"id": "tl-1"},
        ),
    )
    apply(repo, event("payment_executed", payment_id="tl-1"))
    before = stored(repo, payment)
    answer(truelayer, payment, [{"id": "tl-1", "status": "authorizing"}])

    refreshed = refresh(repo, payment)

    assert refreshed.changes == ()
    assert refreshed.payment == before


def test_refresh_discovering_an_attempt_applies_the_events_parked_for_it(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    # payment_link_payment_created was lost; TrueLayer's later event names only the attempt.
    assert apply(repo, event("payment_settled", payment_id="tl-lost")).status == 202
    answer(truelayer, payment, [{"id": "tl-lost", "status": "executed"}])

    refreshed = refresh(repo, payment)

    now = stored(repo, payment)
    assert refreshed.changes
    assert now.status is S.SETTLED
    assert now.webhook_log[-1].outcome == "parked, then applied"
    assert dynamo.parked_for(repo, dynamo.ATTEMPT, "tl-lost") == []


def test_a_settled_payment_asks_only_about_its_refunds_and_an_unlinked_one_asks_nothing(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    settled = reach(repo, payment_with_link(repo), S.SETTLED)
    unlinked = dynamo.payment_create(
        repo, user_id=ALICE, amount=Decimal("5.00"), currency="GBP", reference="NO-LINK"
    )
    no_refunds(truelayer, [{"id": settled.truelayer_payment_id}])

    assert refresh(repo, settled).payment == settled  # its status cannot move; refunds can
    assert refresh(repo, unlinked).payment == unlinked
    assert [c.request.url for c in truelayer.calls if "/v3/" in str(c.request.url)] == [
        f"{API}/v3/payments/{settled.truelayer_payment_id}/refunds"
    ]


def test_unknown_or_foreign_payment_is_not_found(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)

    with pytest.raises(services.PaymentNotFound):
        refresh(repo, payment, user_id=BOB)
    with pytest.raises(services.PaymentNotFound):
        services.payment_refresh_status(user_id=ALICE, payment_id="01NOSUCHPAYMENT", db=repo)
    assert truelayer_calls(truelayer) == []


def test_truelayer_failure_is_raised_and_changes_nothing(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    truelayer.add(
        responses.GET,
        f"{API}/v3/payment-links/{payment.payment_link_id}",
        json=problem(404, "Not Found", "trace-404"),
        status=404,
    )

    with pytest.raises(TrueLayerError) as raised:
        refresh(repo, payment)

    assert raised.value.trace_id == "trace-404"
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == payment
