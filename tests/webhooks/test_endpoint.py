"""The webhook endpoint: only requests signed with a key from an allow-listed JWKS, sent within
the replay window, change anything; each event is applied once along the transition table;
events for payments not known yet are parked (202)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.test import Client, override_settings
from django.urls import reverse

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from tests.factories import ALICE
from tests.truelayer.fakes import SANDBOX_JKU, WebhookSigner, event_body
from tests.webhooks.helpers import payment_with_link, post


def jwks_fetches(truelayer: responses.RequestsMock) -> int:
    return sum(1 for c in truelayer.calls if "jwks" in (c.request.url or ""))


def created(payment_link_id: str, tl_id: str = "tl-pay-1") -> bytes:
    return event_body(
        "payment_link_payment_created",
        payment_link_id=payment_link_id,
        payment={"id": tl_id, "status": "authorization_required"},
    )


def test_signed_events_link_the_payment_and_move_it_to_executed(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    payment = payment_with_link(repo)

    assert post(client, signer, created(payment.payment_link_id))[0] == 200
    body = event_body(
        "payment_executed", payment_id="tl-pay-1", executed_at="2026-01-01T10:00:00.000Z"
    )
    assert post(client, signer, body)[0] == 200

    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.truelayer_payment_id == "tl-pay-1"
    assert stored.status is PaymentStatus.EXECUTED
    assert [h.status for h in stored.history] == [
        PaymentStatus.PENDING,
        PaymentStatus.AUTHORIZATION_REQUIRED,
        PaymentStatus.EXECUTED,
    ]
    assert stored.history[-1].source == "TrueLayer webhook (payment_executed)"


def test_payment_failed_stores_stage_and_reason(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    payment = payment_with_link(repo)
    post(client, signer, created(payment.payment_link_id))
    body = event_body(
        "payment_failed",
        payment_id="tl-pay-1",
        failure_stage="authorizing",
        failure_reason="a_reason_nobody_documented",
    )
    assert post(client, signer, body) == (200, '{"result": "applied"}')
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    # The link is still open: the payer can try again.
    assert stored.status is PaymentStatus.ATTEMPT_FAILED
    assert (stored.failure_stage, stored.failure_reason) == (
        "authorizing",
        "a_reason_nobody_documented",
    )
    closed = event_body(
        "payment_link_disabled", payment_link_id=payment.payment_link_id, disabled_reason="expired"
    )
    assert post(client, signer, closed)[0] == 200
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.FAILED


def test_tampered_body_is_refused_and_changes_nothing(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    payment = payment_with_link(repo)
    body = created(payment.payment_link_id)
    headers = signer.sign(body, path=reverse("payments:webhook"))
    tampered = body.replace(b"tl-pay-1", b"tl-pay-2")

    response = client.post(
        reverse("payments:webhook"),
        data=tampered,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )

    assert response.status_code == 401
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == payment


def test_tampered_timestamp_header_is_refused(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    payment = payment_with_link(repo)
    body = created(payment.payment_link_id)
    headers = signer.sign(body, path=reverse("payments:webhook"))
    headers["X-Tl-Webhook-Timestamp"] = "2026-01-01T10:00:01Z"
    response = client.post(
        reverse("payments:webhook"),
        data=body,
        content_type=headers.pop("Content-Type"),
        headers=headers,
    )
    assert response.status_code == 401
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == payment


def test_signature_for_another_path_is_refused(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    payment = payment_with_link(repo)
    body = created(payment.payment_link_id)
    headers = signer.sign(body, path="/somewhere-else/")
    response = client.post(
        reverse("payments:webhook"),
        data=body,
        content_type=headers.pop("Content-Type"),
        headers=headers,
    )
    assert response.status_code == 401


def test_foreign_jku_is_refused_without_fetching_it(
    repo: Dynamo, truelayer: responses.RequestsMock, client: Client
) -> None:
    attacker = WebhookSigner(jku="https://attacker.example/.well-known/jwks")
    truelayer.add(responses.GET, attacker.jku, json=attacker.jwks())
    payment = payment_with_link(repo)

    status, _ = post(client, attacker, created(payment.payment_link_id))

    assert status == 401
    assert jwks_fetches(truelayer) == 0
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == payment


def test_simulator_jku_is_refused_outside_simulator_mode(repo: Dynamo, client: Client) -> None:
    from simulator.delivery import signed_request

    payment = payment_with_link(repo)
    path, headers, body = signed_request(json.loads(created(payment.payment_link_id)))
    response = client.post(
        path, data=body, content_type=headers.pop("Content-Type"), headers=headers
    )
    assert response.status_code == 401
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == payment


def test_key_not_in_the_allowed_jwks_is_refused(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    impostor = WebhookSigner(jku=SANDBOX_JKU, kid=signer.kid)  # same kid, another key
    payment = payment_with_link(repo)
    assert post(client, impostor, created(payment.payment_link_id))[0] == 401


@pytest.mark.parametrize(
    "signature", ["", "not-a-jws", "e30..AAAA", "eyJhbGciOiJub25lIn0..", "a.b.c"]
)
def test_missing_or_malformed_signatures_are_refused(
    repo: Dynamo, client: Client, signature: str
) -> None:
    payment = payment_with_link(repo)
    headers = {"X-Tl-Webhook-Timestamp": "2026-01-01T10:00:00Z"}
    if signature:
        headers["Tl-Signature"] = signature
    response = client.post(
        reverse("payments:webhook"),
        data=created(payment.payment_link_id),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401  # not provably from TrueLayer (400 is for unreadable bodies)
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == payment


def test_signed_body_that_is_not_an_event_is_a_bad_request(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    assert post(client, signer, b"[1, 2, 3]")[0] == 400
    assert post(client, signer, b"not json")[0] == 400


def test_get_is_not_allowed(client: Client) -> None:
    assert client.get(reverse("payments:webhook")).status_code == 405


def test_replayed_event_id_is_acknowledged_and_changes_nothing(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    payment = payment_with_link(repo)
    post(client, signer, created(payment.payment_link_id))
    executed = event_body("payment_executed", payment_id="tl-pay-1")
    assert post(client, signer, executed)[0] == 200
    before = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)

    status, text = post(client, signer, executed)

    assert (status, json.loads(text)) == (200, {"result": "duplicate"})
    after = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert before is not None and after is not None
    # Only the webhook log says it came again.
    assert (after.status, after.history, after.attempts, after.updated_at) == (
        before.status,
        before.history,
        before.attempts,
        before.updated_at,
    )
    assert [(e.event_type, e.outcome) for e in after.webhook_log][-2:] == [
        ("payment_executed", "applied"),
        ("payment_executed", "duplicate"),
    ]


def test_late_event_never_moves_the_status_back(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    payment = payment_with_link(repo)
    post(client, signer, created(payment.payment_link_id))
    post(client, signer, event_body("payment_settled", payment_id="tl-pay-1"))

    late = event_body("payment_executed", payment_id="tl-pay-1")
    assert post(client, signer, late) == (200, '{"result": "not a valid move"}')
    assert post(client, signer, event_body("payment_authorized", payment_id="tl-pay-1"))[0] == 200

    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.SETTLED
    assert [h.status for h in stored.history][-1] is PaymentStatus.SETTLED


def test_events_for_unknown_payments_are_parked_and_acknowledged(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    payment = payment_with_link(repo)
    parked = (202, '{"result": "parked"}')
    assert post(client, signer, event_body("payment_executed", payment_id="nobody")) == parked
    assert post(client, signer, created("link-nobody")) == parked
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == payment


def test_link_disabled_with_no_payment_marks_it_expired(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    payment = payment_with_link(repo)
    body = event_body(
        "payment_link_disabled",
        payment_link_id=payment.payment_link_id,
        disabled_reason="expired",
        disabled_at="2026-01-02T10:00:00Z",
    )
    assert post(client, signer, body)[0] == 200
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.EXPIRED
    assert stored.lifecycle.link.disabled_reason == "expired"
    assert stored.lifecycle.link.disabled_at == datetime(2026, 1, 2, 10, tzinfo=UTC)


def test_link_disabled_after_a_payment_leaves_the_payment_status(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    payment = payment_with_link(repo)
    post(client, signer, created(payment.payment_link_id))
    post(client, signer, event_body("payment_executed", payment_id="tl-pay-1"))
    body = event_body(
        "payment_link_disabled",
        payment_link_id=payment.payment_link_id,
        disabled_reason="fulfilled",
    )
    assert post(client, signer, body)[0] == 200
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.EXECUTED
    assert stored.lifecycle.link.disabled_reason == "fulfilled"


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("2001-01-01T10:00:00Z", "too old"),
        (None, "in the future"),
        ("yesterday", "not a time"),
    ],
)
def test_a_signed_event_outside_the_timestamp_window_is_refused_and_changes_nothing(
    repo: Dynamo, signer: WebhookSigner, client: Client, sent: str | None, message: str
) -> None:
    payment = payment_with_link(repo)
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, text = post(client, signer, created(payment.payment_link_id), timestamp=sent or future)
    assert status == 400 and message in json.loads(text)["result"]
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == payment


def test_jwks_is_cached_and_refetched_once_for_a_new_kid(
    repo: Dynamo, truelayer: responses.RequestsMock, client: Client
) -> None:
    old, new = WebhookSigner(), WebhookSigner()
    truelayer.add(responses.GET, SANDBOX_JKU, json=old.jwks())
    payment = payment_with_link(repo)
    post(client, old, event_body("payment_executed", payment_id="x1"))
    post(client, old, event_body("payment_executed", payment_id="x2"))
    assert jwks_fetches(truelayer) == 1

    # TrueLayer rotates its key: the new kid triggers one refetch, then verifies.
    truelayer.replace(responses.GET, SANDBOX_JKU, json=new.jwks())
    assert post(client, new, created(payment.payment_link_id))[0] == 200
    assert jwks_fetches(truelayer) == 2
    # Unknown kids do not make us fetch again and again.
    stranger = WebhookSigner()
    assert post(client, stranger, event_body("payment_executed", payment_id="x3"))[0] == 401
    assert jwks_fetches(truelayer) == 2


def test_unreachable_jwks_asks_truelayer_to_retry_later(
    repo: Dynamo, truelayer: responses.RequestsMock, client: Client
) -> None:
    signer = WebhookSigner()
    truelayer.add(responses.GET, SANDBOX_JKU, status=503)
    assert post(client, signer, event_body("payment_executed", payment_id="x"))[0] == 503


@override_settings(TRUELAYER_WEBHOOK_JKU_ALLOWLIST=[])
def test_empty_allow_list_refuses_everything(
    repo: Dynamo, signer: WebhookSigner, client: Client
) -> None:
    assert post(client, signer, event_body("payment_executed", payment_id="x"))[0] == 401
