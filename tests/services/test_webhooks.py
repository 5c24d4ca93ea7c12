"""webhook_receive (verify, parse, apply) and webhook_event_apply (one verified event, once,
forward only), called as services: no HTTP endpoint in between."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from payments.repository import PaymentRepository

from payments import services
from payments.domain import Payment, PaymentStatus
from tests.factories import ALICE
from tests.truelayer.fakes import WebhookSigner, event_body
from tests.webhooks.helpers import payment_with_link

S = PaymentStatus
PATH = "/webhooks/truelayer/"


def event(event_type: str, **fields: Any) -> dict[str, Any]:
    return {"type": event_type, "event_version": 1, "event_id": str(uuid.uuid4()), **fields}


def apply(repo: PaymentRepository, body: dict[str, Any]) -> services.WebhookResult:
    return services.webhook_event_apply(event=body, repo=repo)


def stored(repo: PaymentRepository, payment: Payment) -> Payment:
    found = repo.get_payment(user_id=ALICE, payment_id=payment.payment_id)
    assert found is not None
    return found


def linked(repo: PaymentRepository, tl_id: str = "tl-1") -> Payment:
    """A payment whose link TrueLayer has reported a payment attempt for."""
    payment = payment_with_link(repo)
    created = event(
        "payment_link_payment_created",
        payment_link_id=payment.payment_link_id,
        payment={"id": tl_id},
    )
    assert apply(repo, created).applied
    return stored(repo, payment)


# --- webhook_receive ---------------------------------------------------------------------


def receive(
    repo: PaymentRepository, body: bytes, headers: dict[str, str]
) -> services.WebhookResult:
    return services.webhook_receive(method="POST", path=PATH, headers=headers, body=body, repo=repo)


def test_a_signed_event_is_verified_and_applied(
    repo: PaymentRepository, signer: WebhookSigner
) -> None:
    payment = linked(repo)
    body = event_body("payment_executed", payment_id="tl-1")

    result = receive(repo, body, signer.sign(body, path=PATH))

    assert (result.status, result.applied, result.duplicate) == (200, True, False)
    assert stored(repo, payment).status is S.EXECUTED


def test_unsigned_or_wrongly_signed_requests_change_nothing(
    repo: PaymentRepository, signer: WebhookSigner
) -> None:
    payment = linked(repo)
    body = event_body("payment_executed", payment_id="tl-1")
    headers = signer.sign(body, path=PATH)

    unsigned = receive(repo, body, {k: v for k, v in headers.items() if k != "Tl-Signature"})
    other_path = receive(repo, body, signer.sign(body, path="/elsewhere/"))
    changed = receive(repo, body.replace(b"executed", b"settled"), headers)

    assert [unsigned.status, other_path.status, changed.status] == [401, 401, 401]
    assert unsigned.message == "Tl-Signature header missing"
    assert stored(repo, payment).status is S.AUTHORIZATION_REQUIRED


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "The body is not JSON"),
        (b"[1, 2]", "The event has no event_id"),
        (b'{"type": "payment_executed"}', "The event has no event_id"),
        (b'{"event_id": "e-1"}', "The event has no type"),
    ],
)
def test_signed_but_unreadable_events_are_bad_requests(
    repo: PaymentRepository, signer: WebhookSigner, body: bytes, message: str
) -> None:
    result = receive(repo, body, signer.sign(body, path=PATH))

    assert (result.status, result.message, result.applied) == (400, message, False)


# --- webhook_event_apply -----------------------------------------------------------------


def test_payment_created_links_truelayers_id_and_awaits_authorisation(
    repo: PaymentRepository,
) -> None:
    payment = payment_with_link(repo)
    body = event(
        "payment_link_payment_created",
        payment_link_id=payment.payment_link_id,
        payment={"id": "tl-7", "created_at": "2026-01-01T10:00:00Z"},
    )

    result = apply(repo, body)

    now = stored(repo, payment)
    assert (result.status, result.applied) == (200, True)
    assert now.truelayer_payment_id == "tl-7"
    assert now.status is S.AUTHORIZATION_REQUIRED
    assert now.history[-1].source == "webhook payment_link_payment_created"
    assert now.provider_responses["webhook_payment_link_payment_created"] == body


def test_the_same_event_id_is_applied_once(repo: PaymentRepository) -> None:
    payment = linked(repo)
    executed = event("payment_executed", payment_id="tl-1")
    assert apply(repo, executed).applied
    before = stored(repo, payment)

    again = apply(repo, executed)

    assert (again.status, again.duplicate, again.applied) == (200, True, False)
    assert stored(repo, payment) == before


def test_failure_keeps_stage_reason_and_the_events_time(repo: PaymentRepository) -> None:
    payment = linked(repo)
    failed = event(
        "payment_failed",
        payment_id="tl-1",
        failed_at="2026-01-01T10:30:00Z",
        failure_stage="authorizing",
        failure_reason="provider_rejected",
    )

    assert apply(repo, failed).applied

    now = stored(repo, payment)
    assert now.status is S.FAILED
    assert (now.failure_stage, now.failure_reason) == ("authorizing", "provider_rejected")
    assert now.history[-1].at == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    assert now.history[-1].detail == "provider_rejected"


def test_a_status_event_before_payment_created_finds_the_payment_by_its_link(
    repo: PaymentRepository,
) -> None:
    payment = payment_with_link(repo)
    executed = event(
        "payment_executed", payment_id="tl-early", payment_link_id=payment.payment_link_id
    )

    assert apply(repo, executed).applied

    now = stored(repo, payment)
    assert now.status is S.EXECUTED
    assert now.truelayer_payment_id == "tl-early"


def test_a_late_event_never_moves_the_status_back(repo: PaymentRepository) -> None:
    payment = linked(repo)
    assert apply(repo, event("payment_settled", payment_id="tl-1")).applied

    late = apply(repo, event("payment_executed", payment_id="tl-1"))

    assert (late.status, late.applied) == (200, False)
    assert stored(repo, payment).status is S.SETTLED


def test_link_disabled_without_an_attempt_expires_the_payment(repo: PaymentRepository) -> None:
    payment = payment_with_link(repo)
    disabled = event(
        "payment_link_disabled",
        payment_link_id=payment.payment_link_id,
        disablement_reason="expired",
        disabled_at="2026-01-02T09:00:00Z",
    )

    assert apply(repo, disabled).applied

    now = stored(repo, payment)
    assert now.status is S.EXPIRED
    assert now.history[-1].detail == "expired"
    assert now.history[-1].at == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)


def test_link_disabled_after_an_attempt_leaves_the_status_to_the_payments_events(
    repo: PaymentRepository,
) -> None:
    payment = linked(repo)
    disabled = event("payment_link_disabled", payment_link_id=payment.payment_link_id)

    first = apply(repo, disabled)
    second = apply(repo, disabled)

    assert (first.status, first.message, first.applied) == (
        200,
        "link disabled after a payment",
        False,
    )
    assert second.duplicate  # recorded as seen all the same
    assert stored(repo, payment) == payment


def test_events_for_unknown_payments_are_acknowledged_and_not_recorded(
    repo: PaymentRepository,
) -> None:
    payment = payment_with_link(repo)
    unknown = event(
        "payment_link_payment_created", payment_link_id="link-nobody", payment={"id": "x"}
    )

    first = apply(repo, unknown)
    second = apply(repo, unknown)

    assert (first.status, first.message) == (202, "unknown payment")
    assert not second.duplicate  # not marked as seen: a redelivery may still apply it
    assert apply(repo, event("payment_executed", payment_id="nobody")).status == 202
    assert stored(repo, payment) == payment


def test_other_event_types_are_acknowledged_and_ignored(repo: PaymentRepository) -> None:
    payment = linked(repo)

    result = apply(repo, event("payout_executed", payout_id="po-1"))

    assert (result.status, result.message, result.applied) == (200, "ignored", False)
    assert stored(repo, payment) == payment
