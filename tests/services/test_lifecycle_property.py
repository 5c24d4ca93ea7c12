"""Property: whatever TrueLayer sends, in whatever order and however often, each payment ends in
the status a small reference model predicts, and the statistics equal a brute-force count.

A list row of each payment (its stored row facts) shows the same status, settlement and refunds
as the payment read whole.

Random event sequences per payment (1–3 attempts, each with its payment_link_payment_created and
some of authorized / executed / settled / failed / reversed / creditable / stalled, maybe a
link_disabled, some events delivered twice, any order), signed with the `signer` fixture and
delivered through `services.webhook_receive` — verification, parsing, routing, parking and the
conditional write, on DynamoDB Local.

The reference model below is written from DESIGN.md and issue 9, not from payments.lifecycle:
an event naming an attempt whose payment_link_payment_created has not been applied yet is parked
and applied, in arrival order, right after it; an event id is applied at most once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments import dynamo, services
from payments.domain import Payment
from payments.dynamo import Dynamo
from tests.truelayer.fakes import WebhookSigner
from tests.webhooks.helpers import brute_force_totals, payment_with_link, stats_totals

PATH = "/webhooks/truelayer/"
ATTEMPT_EVENTS = {
    "payment_authorized": "authorized",
    "payment_executed": "executed",
    "payment_settled": "settled",
    "payment_failed": "failed",
    "payment_reversed": "reversed",
}
FACT_EVENTS = ("payment_creditable", "payment_settlement_stalled")

# --- the reference model ---------------------------------------------------------------------

# The main line of one attempt, in order; failed and reversed end it.
MAIN_LINE = ["authorization_required", "authorizing", "authorized", "executed", "settled"]


def may_move(current: str, new: str) -> bool:
    """DESIGN.md: forward along the main line; failed from anything not yet settled (incl.
    executed: verification); reversed from anything not failed; nothing after failed or
    reversed; never back."""
    if current in ("failed", "reversed"):
        return False
    if new == "reversed":
        return True
    if new == "failed":
        return current != "settled"
    return MAIN_LINE.index(new) > MAIN_LINE.index(current)


def expected_status(attempts: dict[str, str], link_reason: str | None) -> str:
    """Issue 9's rule: the most advanced successful attempt; else the most advanced one in
    progress; else reversed; else failed (link closed) / attempt_failed (open); with no
    attempt, expired when the link closed for any reason but fulfilled, else pending."""
    statuses = set(attempts.values())
    for status in ("settled", "executed", "authorized", "authorizing", "authorization_required"):
        if status in statuses:
            return status
    if "reversed" in statuses:
        return "reversed"
    if attempts:
        return "failed" if link_reason is not None else "attempt_failed"
    if link_reason is not None and link_reason != "fulfilled":
        return "expired"
    return "pending"


@dataclass
class Model:
    attempts: dict[str, str] = field(default_factory=dict)  # known attempts → status
    link_reason: str | None = None
    parked: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def deliver(self, event: dict[str, Any]) -> int:
        """The HTTP status the endpoint should answer a first delivery with."""
        kind = event["type"]
        if kind == "payment_link_payment_created":
            attempt = event["payment"]["id"]
            self.attempts[attempt] = "authorization_required"
            for waiting in self.parked.pop(attempt, []):
                self.apply(waiting)
            return 200
        if kind == "payment_link_disabled":
            self.link_reason = self.link_reason or event["disabled_reason"]
            return 200
        if event["payment_id"] not in self.attempts:
            self.parked.setdefault(event["payment_id"], []).append(event)
            return 202
        self.apply(event)
        return 200

    def apply(self, event: dict[str, Any]) -> None:
        new = ATTEMPT_EVENTS.get(event["type"])
        attempt = event["payment_id"]
        if new is not None and may_move(self.attempts[attempt], new):
            self.attempts[attempt] = new

    @property
    def status(self) -> str:
        return expected_status(self.attempts, self.link_reason)


# --- the events ------------------------------------------------------------------------------


def new_event(event_type: str, **fields: Any) -> dict[str, Any]:
    return {"type": event_type, "event_version": 1, "event_id": str(uuid.uuid4()), **fields}


attempt_plans = st.lists(
    st.sets(st.sampled_from([*ATTEMPT_EVENTS, *FACT_EVENTS])), min_size=1, max_size=3
)
payment_plans = st.tuples(attempt_plans, st.sampled_from([None, "expired", "fulfilled"]))


def events_for(payment: Payment, plan: tuple[list[set[str]], str | None]) -> list[dict[str, Any]]:
    attempts, disabled = plan
    events: list[dict[str, Any]] = []
    for n, kinds in enumerate(attempts):
        attempt_id = f"tl-{payment.payment_id}-{n}"
        events.append(
            new_event(
                "payment_link_payment_created",
                payment_link_id=payment.payment_link_id,
                payment={"id": attempt_id, "created_at": f"2026-11-20T10:0{n}:00Z"},
            )
        )
        for kind in sorted(kinds):
            extra = (
                {"failure_stage": "executed", "failure_reason": "verification_failed"}
                if kind == "payment_failed" and "payment_executed" in kinds
                else {"failure_stage": "authorizing", "failure_reason": "rejected"}
                if kind == "payment_failed"
                else {}
            )
            events.append(new_event(kind, payment_id=attempt_id, **extra))
    if disabled is not None:
        events.append(
            new_event(
                "payment_link_disabled",
                payment_link_id=payment.payment_link_id,
                disabled_reason=disabled,
                disabled_at="2026-11-21T10:00:00Z",
            )
        )
    return events


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=st.lists(payment_plans, min_size=1, max_size=2), data=st.data())
def test_random_event_sequences_end_in_the_models_status_with_exact_statistics(
    dynamodb_local_repo: Dynamo, signer: WebhookSigner, plans: list[Any], data: st.DataObject
) -> None:
    repo = dynamodb_local_repo
    payments = [payment_with_link(repo, amount=f"{3 + i}.50") for i in range(len(plans))]
    models = {p.payment_id: Model() for p in payments}
    owner: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    for payment, plan in zip(payments, plans, strict=True):
        for one in events_for(payment, plan):
            owner[one["event_id"]] = payment.payment_id
            events.append(one)
    order = data.draw(st.permutations(events), label="order")
    repeats = data.draw(
        st.lists(st.tuples(st.integers(0, len(order) - 1), st.integers(0, len(order))), max_size=4),
        label="duplicates (event, also delivered at)",
    )
    deliveries = list(order)
    for which, at in repeats:
        deliveries.insert(at, order[which])

    seen: set[str] = set()
    for one in deliveries:
        body = json.dumps(one, separators=(",", ":")).encode()
        result = services.webhook_receive(
            method="POST", path=PATH, headers=signer.sign(body, path=PATH), body=body, db=repo
        )
        if one["event_id"] in seen:
            assert result.status in (200, 202) and not result.applied, (one, result)
            continue
        seen.add(one["event_id"])
        expected = models[owner[one["event_id"]]].deliver(one)
        assert result.status == expected, (one, result)

    rows = {
        row.payment_id: row
        for row in dynamo.payment_rows_get(
            repo, user_id=payments[0].user_id, payment_ids=[p.payment_id for p in payments]
        )
    }
    for payment in payments:
        model = models[payment.payment_id]
        stored = dynamo.payment_get(repo, user_id=payment.user_id, payment_id=payment.payment_id)
        assert stored is not None
        assert {a.attempt_id: a.status.value for a in stored.attempts} == model.attempts
        assert stored.status.value == model.status, (model, stored.lifecycle)
        # A list row shows the same status and the facts of the same lifecycle.
        row = rows[payment.payment_id]
        assert (row.status, row.row_facts) == (stored.status, stored.lifecycle.row_facts)
    totals = stats_totals(repo)
    assert totals == brute_force_totals(repo)
