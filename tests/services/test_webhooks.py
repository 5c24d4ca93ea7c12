"""webhook_receive (verify, check the timestamp window, read, route, apply once) and event_apply,
called as services on moto: every event type DESIGN.md lists, several attempts per link, the
moves a forward-only model refused, settlement facts, refunds and the webhook log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payments import services
from payments.domain import Payment, PaymentStatus, Totals
from payments.dynamo import Dynamo
from payments.lifecycle import AttemptStatus, RefundStatus
from tests.services.helpers import PATH, apply, created, event, receive, stored
from tests.truelayer.fakes import WebhookSigner, event_body
from tests.webhooks.helpers import brute_force_totals, payment_with_link, stats_totals

S = PaymentStatus
A = AttemptStatus


def linked(repo: Dynamo, attempt_id: str = "tl-1") -> Payment:
    """A payment with a link on which the payer pressed "Pay now" (attempt `attempt_id`)."""
    payment = payment_with_link(repo)
    assert apply(repo, created(payment.payment_link_id, attempt_id)).applied
    return stored(repo, payment)


# --- webhook_receive: what is refused before anything is read -----------------------------


def test_a_signed_event_is_verified_and_applied(repo: Dynamo, signer: WebhookSigner) -> None:
    payment = payment_with_link(repo)
    apply(repo, created(payment.payment_link_id, "tl-1"))

    result = receive(repo, signer, event("payment_executed", payment_id="tl-1"))

    assert (result.status, result.message, result.applied) == (200, "applied", True)
    assert stored(repo, payment).status is S.EXECUTED


def test_unsigned_or_wrongly_signed_requests_change_nothing(
    repo: Dynamo, signer: WebhookSigner
) -> None:
    payment = payment_with_link(repo)
    apply(repo, created(payment.payment_link_id, "tl-1"))
    before = stored(repo, payment)
    body = event_body("payment_executed", payment_id="tl-1")
    headers = signer.sign(body, path=PATH)

    def send(data: bytes, sent: dict[str, str]) -> int:
        return services.webhook_receive(
            method="POST", path=PATH, headers=sent, body=data, db=repo
        ).status

    unsigned = send(body, {k: v for k, v in headers.items() if k != "Tl-Signature"})
    other_path = send(body, signer.sign(body, path="/elsewhere/"))
    changed = send(body.replace(b"executed", b"settled"), headers)

    assert [unsigned, other_path, changed] == [401, 401, 401]
    assert stored(repo, payment) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "The body is not JSON"),
        (b"[1, 2]", "The body is not a JSON object"),
        (b'{"type": "payment_executed"}', "The event has no event_id"),
        (b'{"event_id": "e-1"}', "The event has no type"),
        (b'{"event_id": "e-1", "type": "payment_executed"}', "The event has no payment_id"),
    ],
)
def test_signed_but_unreadable_events_are_bad_requests(
    repo: Dynamo, signer: WebhookSigner, body: bytes, message: str
) -> None:
    result = services.webhook_receive(
        method="POST", path=PATH, headers=signer.sign(body, path=PATH), body=body, db=repo
    )
    assert (result.status, result.message, result.applied) == (400, message, False)


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        ("2001-09-09T01:46:40Z", 400),  # correctly signed, but older than event ids are kept
        ("+10m", 400),  # further in the future than the allowed clock skew
        ("-6d", 200),  # within WEBHOOK_REPLAY_WINDOW_DAYS (7)
        ("+2m", 200),  # within WEBHOOK_MAX_CLOCK_SKEW_SECONDS (300)
        ("now", 200),
    ],
)
def test_the_timestamp_window_refuses_old_and_future_webhooks_and_changes_nothing(
    repo: Dynamo, signer: WebhookSigner, sent: str, status: int
) -> None:
    payment = payment_with_link(repo)
    offsets = {"+10m": timedelta(minutes=10), "-6d": timedelta(days=-6)}
    offsets |= {"+2m": timedelta(minutes=2), "now": timedelta(0)}
    timestamp = (
        (datetime.now(UTC) + offsets[sent]).strftime("%Y-%m-%dT%H:%M:%SZ")
        if sent in offsets
        else sent
    )
    one = created(payment.payment_link_id, "tl-1")

    result = receive(repo, signer, one, timestamp=timestamp)

    assert result.status == status
    after = stored(repo, payment)
    if status == 400:
        assert after == payment
        # Refused before its event id was recorded: a delivery in the window still applies.
        assert receive(repo, signer, one).applied
    else:
        assert after.status is S.AUTHORIZATION_REQUIRED


# --- what each event does -------------------------------------------------------------------


def test_payment_created_keeps_the_attempt_and_awaits_authorisation(repo: Dynamo) -> None:
    payment = payment_with_link(repo)

    result = apply(repo, created(payment.payment_link_id, "tl-7", "2026-01-01T10:00:00Z"))

    now = stored(repo, payment)
    assert (result.status, result.message) == (200, "applied")
    assert now.status is S.AUTHORIZATION_REQUIRED
    assert now.truelayer_payment_id == "tl-7"
    (attempt,) = now.attempts
    assert attempt.created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert now.history[-1].source == "TrueLayer webhook (payment_link_payment_created)"


def test_several_attempts_first_fails_second_executes_both_kept(repo: Dynamo) -> None:
    payment = linked(repo, "tl-first")
    failed = event(
        "payment_failed",
        payment_id="tl-first",
        failure_stage="authorizing",
        failure_reason="provider_rejected",
    )
    assert apply(repo, failed).applied
    assert stored(repo, payment).status is S.ATTEMPT_FAILED  # link open: the payer can retry

    link_id = payment.payment_link_id
    apply(repo, created(link_id, "tl-second", "2026-11-20T10:05:00Z"))
    apply(repo, event("payment_executed", payment_id="tl-second"))
    apply(
        repo, event("payment_link_disabled", payment_link_id=link_id, disabled_reason="fulfilled")
    )

    now = stored(repo, payment)
    assert now.status is S.EXECUTED
    assert [(a.attempt_id, a.status) for a in now.attempts] == [
        ("tl-first", A.FAILED),
        ("tl-second", A.EXECUTED),
    ]
    assert now.attempts[0].failure_reason == "provider_rejected"
    assert now.truelayer_payment_id == "tl-second"
    assert stats_totals(repo) == {(S.EXECUTED, "GBP"): Totals(1, Decimal("10.00"))}


def test_a_failed_attempt_is_failed_only_once_the_link_closes(repo: Dynamo) -> None:
    payment = linked(repo)
    failed = event(
        "payment_failed",
        payment_id="tl-1",
        failed_at="2026-01-01T10:30:00Z",
        failure_stage="authorizing",
        failure_reason="provider_rejected",
    )
    apply(repo, failed)
    now = stored(repo, payment)
    assert now.status is S.ATTEMPT_FAILED
    assert (now.failure_stage, now.failure_reason) == ("authorizing", "provider_rejected")
    assert now.history[-1].at == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    assert now.history[-1].detail == "payment failed (provider_rejected)"

    closed = event(
        "payment_link_disabled", payment_link_id=payment.payment_link_id, disabled_reason="expired"
    )
    apply(repo, closed)
    assert stored(repo, payment).status is S.FAILED
    assert (
        stats_totals(repo)
        == brute_force_totals(repo)
        == {(S.FAILED, "GBP"): Totals(1, Decimal("10.00"))}
    )


def test_executed_then_failed_verification_leaves_the_successful_totals(repo: Dynamo) -> None:
    payment = linked(repo)
    apply(repo, event("payment_executed", payment_id="tl-1"))
    assert stats_totals(repo) == {(S.EXECUTED, "GBP"): Totals(1, Decimal("10.00"))}

    verification = event(
        "payment_failed",
        payment_id="tl-1",
        failure_stage="executed",
        failure_reason="verification_failed",
    )
    assert apply(repo, verification).message == "applied"
    apply(
        repo,
        event(
            "payment_link_disabled",
            payment_link_id=payment.payment_link_id,
            disabled_reason="fulfilled",
        ),
    )

    now = stored(repo, payment)
    assert now.status is S.FAILED
    assert [h.status for h in now.attempts[0].history][-2:] == [A.EXECUTED, A.FAILED]
    assert stats_totals(repo) == brute_force_totals(repo)
    assert stats_totals(repo) == {(S.FAILED, "GBP"): Totals(1, Decimal("10.00"))}


def test_settled_then_reversed_is_its_own_final_status(repo: Dynamo) -> None:
    payment = linked(repo)
    apply(repo, event("payment_settled", payment_id="tl-1"))
    reversed_ = event("payment_reversed", payment_id="tl-1", reversed_at="2026-11-21T09:00:00Z")

    assert apply(repo, reversed_).applied

    now = stored(repo, payment)
    assert now.status is S.REVERSED and now.is_final
    assert now.attempts[0].reversed_at == datetime(2026, 11, 21, 9, tzinfo=UTC)
    assert now.history[-1].detail == "payment reversed"
    assert stats_totals(repo) == brute_force_totals(repo)
    assert stats_totals(repo) == {(S.REVERSED, "GBP"): Totals(1, Decimal("10.00"))}
    # A late "settled" cannot bring the money back.
    late = apply(repo, event("payment_settled", payment_id="tl-1"))
    assert (late.status, late.message, late.applied) == (200, "not a valid move", False)
    assert stored(repo, payment).status is S.REVERSED


@pytest.mark.parametrize(
    ("event_type", "status", "badge", "words"),
    [
        ("payment_creditable", "payment_settled", "settled — safe to credit", "safe to credit"),
        ("payment_creditable", "payment_executed", "safe to credit", "safe to credit"),
        (
            "payment_settlement_stalled",
            "payment_executed",
            "settlement stalled",
            "settlement stalled",
        ),
    ],
)
def test_settlement_facts_are_a_badge_and_a_timeline_entry_not_a_status(
    repo: Dynamo, event_type: str, status: str, badge: str, words: str
) -> None:
    payment = linked(repo)
    apply(repo, event(status, payment_id="tl-1"))
    before = stored(repo, payment)
    assert before.settlement_badge == ""

    assert apply(repo, event(event_type, payment_id="tl-1")).applied

    now = stored(repo, payment)
    assert now.status is before.status
    assert now.settlement_badge == badge
    assert now.history[-1].detail == words
    assert now.history[-1].status is before.status
    # Said twice, it is recorded once.
    assert apply(repo, event(event_type, payment_id="tl-1")).message == "no change"
    assert len(stored(repo, payment).history) == len(now.history)


def test_cancellation_failed_is_a_timeline_entry(repo: Dynamo) -> None:
    payment = linked(repo)
    failed = event(
        "payment_cancellation_failed", payment_id="tl-1", failure_reason="already_authorized"
    )

    assert apply(repo, failed).applied

    now = stored(repo, payment)
    assert now.status is S.AUTHORIZATION_REQUIRED
    assert now.history[-1].detail == "cancellation failed (already_authorized)"


def test_refund_events_are_recorded_on_the_payment(repo: Dynamo) -> None:
    payment = linked(repo)
    apply(repo, event("payment_settled", payment_id="tl-1"))

    executed = event(
        "refund_executed",
        payment_id="tl-1",
        refund_id="rf-1",
        executed_at="2026-11-22T10:00:00Z",
    )
    failed = event(
        "refund_failed", payment_id="tl-1", refund_id="rf-2", failure_reason="returned_by_bank"
    )
    assert apply(repo, executed).applied and apply(repo, failed).applied

    now = stored(repo, payment)
    refunds = {r.refund_id: r for r in now.lifecycle.refunds}
    assert refunds["rf-1"].status is RefundStatus.EXECUTED
    assert refunds["rf-1"].attempt_id == "tl-1"
    assert refunds["rf-1"].at == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert (refunds["rf-2"].status, refunds["rf-2"].failure_reason) == (
        RefundStatus.FAILED,
        "returned_by_bank",
    )
    assert now.status is S.SETTLED
    # A bank return turns an executed refund into a failed one.
    returned = event("refund_failed", payment_id="tl-1", refund_id="rf-1")
    assert apply(repo, returned).applied
    assert {r.refund_id: r.status for r in stored(repo, payment).lifecycle.refunds}["rf-1"] is (
        RefundStatus.FAILED
    )


def test_link_disabled_reads_disabled_reason_and_disabled_at(repo: Dynamo) -> None:
    payment = payment_with_link(repo)
    disabled = event(
        "payment_link_disabled",
        payment_link_id=payment.payment_link_id,
        disabled_reason="expired",
        disabled_at="2026-01-02T09:00:00Z",
    )

    assert apply(repo, disabled).applied

    now = stored(repo, payment)
    assert now.status is S.EXPIRED
    assert (now.lifecycle.link.disabled_reason, now.lifecycle.link.disabled_at) == (
        "expired",
        datetime(2026, 1, 2, 9, tzinfo=UTC),
    )
    assert now.history[-1].detail == "link expired"
    assert now.history[-1].at == datetime(2026, 1, 2, 9, tzinfo=UTC)


def test_link_fulfilled_before_its_attempt_is_known_stays_pending(repo: Dynamo) -> None:
    payment = payment_with_link(repo)
    fulfilled = event(
        "payment_link_disabled",
        payment_link_id=payment.payment_link_id,
        disabled_reason="fulfilled",
    )
    apply(repo, fulfilled)
    assert stored(repo, payment).status is S.PENDING
    apply(repo, created(payment.payment_link_id, "tl-1"))
    apply(repo, event("payment_executed", payment_id="tl-1"))
    assert stored(repo, payment).status is S.EXECUTED


def test_a_late_event_never_moves_the_status_back(repo: Dynamo) -> None:
    payment = linked(repo)
    assert apply(repo, event("payment_settled", payment_id="tl-1")).applied

    late = apply(repo, event("payment_executed", payment_id="tl-1"))

    assert (late.status, late.message, late.applied) == (200, "not a valid move", False)
    assert stored(repo, payment).status is S.SETTLED


def test_the_webhook_log_records_type_event_id_and_outcome_including_duplicates(
    repo: Dynamo, signer: WebhookSigner
) -> None:
    payment = payment_with_link(repo)
    first = created(payment.payment_link_id, "tl-1")
    executed = event("payment_executed", payment_id="tl-1")
    late = event("payment_authorized", payment_id="tl-1")

    outcomes = [receive(repo, signer, one) for one in (first, executed, executed, late)]

    assert [(r.status, r.message) for r in outcomes] == [
        (200, "applied"),
        (200, "applied"),
        (200, "duplicate"),
        (200, "not a valid move"),
    ]
    assert outcomes[2].duplicate and not outcomes[2].applied
    log = stored(repo, payment).webhook_log
    assert [(e.event_type, e.event_id, e.outcome) for e in log] == [
        ("payment_link_payment_created", first["event_id"], "applied"),
        ("payment_executed", executed["event_id"], "applied"),
        ("payment_executed", executed["event_id"], "duplicate"),
        ("payment_authorized", late["event_id"], "not a valid move"),
    ]
    assert all(e.sent_at and e.received_at for e in log)
    assert stored(repo, payment).status is S.EXECUTED


def test_other_event_types_are_acknowledged_and_ignored(
    repo: Dynamo, signer: WebhookSigner
) -> None:
    payment = linked(repo)

    result = receive(repo, signer, event("payout_executed", payout_id="po-1"))

    assert (result.status, result.message, result.applied) == (200, "ignored", False)
    assert stored(repo, payment) == payment


def test_an_unknown_disabled_reason_is_stored_as_it_came(repo: Dynamo) -> None:
    payment = payment_with_link(repo)
    disabled = event(
        "payment_link_disabled", payment_link_id=payment.payment_link_id, disabled_reason="revoked"
    )

    assert apply(repo, disabled).applied

    now = stored(repo, payment)
    assert now.lifecycle.link.disabled_reason == "revoked"
    assert now.status is S.EXPIRED  # closed with no attempt: nobody can pay any more
    assert now.history[-1].detail == "link disabled (revoked)"
