"""Statistics stay exactly equal to a brute-force count through any sequence of events
(duplicates, out of order, several attempts, reversals), and concurrent deliveries for one
payment end in the right status."""

from __future__ import annotations

import json
import random
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from payments import dynamo, services
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from payments.truelayer.events import parse_event
from tests.factories import ALICE
from tests.truelayer.fakes import WebhookSigner
from tests.webhooks.helpers import brute_force_totals, payment_with_link, post, stats_totals

PAYMENT_EVENTS = [
    "payment_authorized",
    "payment_executed",
    "payment_settled",
    "payment_failed",
    "payment_reversed",
    "payment_creditable",
    "payment_settlement_stalled",
]


def event(event_type: str, **fields: Any) -> dict[str, Any]:
    return {"type": event_type, "event_version": 1, "event_id": str(uuid.uuid4()), **fields}


def apply(repo: Dynamo, one: dict[str, Any]) -> services.WebhookResult:
    """One verified event through the service behind the endpoint (signing left out: slow)."""
    now = datetime.now(UTC)
    return services.event_apply(
        parse_event(one, received_at=now),
        body=json.dumps(one),
        sent_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        received_at=now,
        db=repo,
    )


@pytest.mark.parametrize("seed", range(5))
def test_stats_match_a_brute_force_count_after_random_events(repo: Dynamo, seed: int) -> None:
    rng = random.Random(seed)
    payments = [
        payment_with_link(
            repo,
            i,
            amount=f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}",
            currency=rng.choice(["GBP", "EUR"]),
        )
        for i in range(6)
    ]
    events: list[dict[str, Any]] = []
    for i, payment in enumerate(payments):
        if rng.random() < 0.3:
            reason = rng.choice(["expired", "fulfilled"])
            events.append(
                event(
                    "payment_link_disabled",
                    payment_link_id=payment.payment_link_id,
                    disabled_reason=reason,
                )
            )
        for attempt in range(rng.randint(1, 2)):
            tl_id = f"tl-{i}-{attempt}"
            events.append(
                event(
                    "payment_link_payment_created",
                    payment_link_id=payment.payment_link_id,
                    payment={"id": tl_id},
                )
            )
            for _ in range(rng.randint(1, 5)):
                failure = {"failure_stage": "authorizing", "failure_reason": "rejected"}
                kind = rng.choice(PAYMENT_EVENTS)
                extra = failure if kind == "payment_failed" else {}
                events.append(event(kind, payment_id=tl_id, **extra))
    # Out of order, and some delivered twice.
    rng.shuffle(events)
    events += rng.sample(events, k=len(events) // 3)

    for one in events:
        assert apply(repo, one).status in (200, 202)
        assert stats_totals(repo) == brute_force_totals(repo)

    assert sum(t.count for t in stats_totals(repo).values()) == len(payments)


def test_twenty_concurrent_deliveries_end_in_the_right_final_status(
    dynamodb_local_repo: Dynamo, signer: WebhookSigner
) -> None:
    repo = dynamodb_local_repo
    payment = payment_with_link(repo)
    other = payment_with_link(repo, 2)
    apply(
        repo,
        event(
            "payment_link_payment_created",
            payment_link_id=payment.payment_link_id,
            payment={"id": "tl-storm"},
        ),
    )
    kinds = ["payment_authorized", "payment_executed", "payment_settled"]
    unique = [event(kinds[i % 3], payment_id="tl-storm") for i in range(14)]
    bodies = [json.dumps(e).encode() for e in unique]
    bodies += bodies[:6]  # six replays of the same event ids, racing the originals
    random.Random(7).shuffle(bodies)
    assert len(bodies) == 20

    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []
    lock = threading.Lock()

    def deliver(body: bytes) -> None:
        client = Client()
        barrier.wait()
        status, _ = post(client, signer, body)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=deliver, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] * 20
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.SETTLED
    # Each status at most once in the history: no event was applied twice.
    moves = [h.status for h in stored.history]
    assert len(moves) == len(set(moves))
    assert moves[-1] is PaymentStatus.SETTLED
    (attempt,) = stored.attempts
    assert len(attempt.history) == len({h.status for h in attempt.history})
    outcomes = [e.outcome for e in stored.webhook_log]
    assert outcomes.count("duplicate") == 6
    untouched = dynamo.payment_get(repo, user_id=ALICE, payment_id=other.payment_id)
    assert untouched is not None and untouched.status is PaymentStatus.PENDING
    assert stats_totals(repo) == brute_force_totals(repo)
