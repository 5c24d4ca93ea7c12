"""TrueLayer events and API answers become lifecycle observations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payments.lifecycle import (
    AttemptSeen,
    AttemptStatus,
    CancellationFailed,
    LinkDisabled,
    RefundSeen,
    RefundStatus,
    SettlementFact,
)
from payments.truelayer.events import (
    HANDLED_EVENT_TYPES,
    EventInvalid,
    observations_from_api,
    parse_event,
    timestamp_problem,
)

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
DESIGN_EVENTS = {
    "payment_link_payment_created",
    "payment_link_disabled",
    "payment_authorized",
    "payment_executed",
    "payment_settled",
    "payment_failed",
    "payment_creditable",
    "payment_settlement_stalled",
    "payment_reversed",
    "payment_cancellation_failed",
    "refund_executed",
    "refund_failed",
}


def event(event_type: str, **fields: Any) -> dict[str, Any]:
    return {"type": event_type, "event_id": "ev-1", "event_version": 1, **fields}


def test_every_event_design_lists_is_handled() -> None:
    assert HANDLED_EVENT_TYPES == DESIGN_EVENTS


def test_link_payment_created_names_the_link_and_the_new_attempt() -> None:
    parsed = parse_event(
        event(
            "payment_link_payment_created",
            payment_link_id="pl-1",
            payment={"id": "tl-1", "created_at": "2026-11-26T11:00:00.000Z"},
        ),
        received_at=NOW,
    )
    assert (parsed.link_id, parsed.attempt_id) == ("pl-1", "tl-1")
    assert parsed.observation == AttemptSeen(
        "tl-1",
        AttemptStatus.AUTHORIZATION_REQUIRED,
        datetime(2026, 11, 26, 11, tzinfo=UTC),
        created_at=datetime(2026, 11, 26, 11, tzinfo=UTC),
    )


def test_link_disabled_reads_disabled_reason_and_disabled_at() -> None:
    parsed = parse_event(
        event(
            "payment_link_disabled",
            payment_link_id="pl-1",
            disabled_reason="expired",
            disabled_at="2026-11-26T10:00:00Z",
        ),
        received_at=NOW,
    )
    assert parsed.observation == LinkDisabled("expired", datetime(2026, 11, 26, 10, tzinfo=UTC))


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("payment_authorized", AttemptStatus.AUTHORIZED),
        ("payment_executed", AttemptStatus.EXECUTED),
        ("payment_settled", AttemptStatus.SETTLED),
        ("payment_failed", AttemptStatus.FAILED),
        ("payment_reversed", AttemptStatus.REVERSED),
    ],
)
def test_payment_events_report_an_attempt_status(event_type: str, status: AttemptStatus) -> None:
    parsed = parse_event(
        event(
            event_type,
            payment_id="tl-1",
            failure_stage="authorizing",
            failure_reason="provider_rejected",
            payment_method={"provider_selection": {"provider_id": "ob-lloyds"}},
        ),
        received_at=NOW,
    )
    assert isinstance(parsed.observation, AttemptSeen)
    assert parsed.observation.status is status
    assert parsed.observation.provider_id == "ob-lloyds"
    assert parsed.attempt_id == "tl-1"


def test_settlement_cancellation_and_refund_events() -> None:
    creditable = parse_event(event("payment_creditable", payment_id="tl-1"), received_at=NOW)
    assert creditable.observation == SettlementFact("tl-1", "creditable", NOW)
    stalled = parse_event(event("payment_settlement_stalled", payment_id="tl-1"), received_at=NOW)
    assert stalled.observation == SettlementFact("tl-1", "stalled", NOW)
    cancel = parse_event(
        event("payment_cancellation_failed", payment_id="tl-1", failure_reason="too_late"),
        received_at=NOW,
    )
    assert cancel.observation == CancellationFailed("tl-1", NOW, "too_late")
    refund = parse_event(
        event("refund_failed", payment_id="tl-1", refund_id="rf-1", failure_reason="returned"),
        received_at=NOW,
    )
    assert refund.observation == RefundSeen(
        "rf-1", "tl-1", RefundStatus.FAILED, NOW, failure_reason="returned"
    )


def test_other_types_parse_with_nothing_to_apply() -> None:
    parsed = parse_event(event("payout_executed", payout_id="po-1"), received_at=NOW)
    assert parsed.observation is None


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "payment_executed", "payment_id": "tl-1"},  # no event_id
        event("payment_executed"),  # no payment_id
        {**event("payment_executed", payment_id="tl-1"), "event_id": "x" * 3000},
        event("payment_link_payment_created", payment_link_id="pl-1", payment="tl-1"),
        {"event_id": "ev-1", "type": ["payment_executed"]},
    ],
)
def test_malformed_events_are_invalid(bad: dict[str, Any]) -> None:
    with pytest.raises(EventInvalid):
        parse_event(bad, received_at=NOW)


@pytest.mark.parametrize("value", ["99999-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "soon"])
def test_an_unreadable_event_time_falls_back_to_when_it_arrived(value: str) -> None:
    parsed = parse_event(
        event("payment_executed", payment_id="t", executed_at=value), received_at=NOW
    )
    assert parsed.at == NOW


@pytest.mark.parametrize(
    ("header", "refused"),
    [
        (NOW.strftime("%Y-%m-%dT%H:%M:%SZ"), False),
        ((NOW - timedelta(days=6)).strftime("%Y-%m-%dT%H:%M:%SZ"), False),
        ("2001-01-01T00:00:00Z", True),
        ((NOW + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"), True),
        ("", True),
        ("yesterday", True),
    ],
)
def test_webhook_timestamps_outside_the_window_are_refused(header: str, refused: bool) -> None:
    problem = timestamp_problem(
        header, now=NOW, max_age=timedelta(days=7), max_skew=timedelta(minutes=5)
    )
    assert bool(problem) is refused


def test_api_answers_give_every_attempt_and_the_link_closing() -> None:
    seen = observations_from_api(
        {"id": "pl-1", "status": "disabled", "disabled_reason": "fulfilled"},
        [
            {
                "id": "tl-1",
                "status": "failed",
                "failure_reason": "expired",
                "created_at": "2026-11-26T10:00:00Z",
            },
            {"id": "tl-2", "status": "executed", "executed_at": "2026-11-26T10:05:00Z"},
            {"id": "tl-3", "status": "some_future_status"},
        ],
        now=NOW,
    )
    assert [type(o).__name__ for o in seen] == ["AttemptSeen", "AttemptSeen", "LinkDisabled"]
    first, second, link = seen
    assert isinstance(first, AttemptSeen) and first.failure_reason == "expired"
    assert isinstance(second, AttemptSeen) and second.at == datetime(
        2026, 11, 26, 10, 5, tzinfo=UTC
    )
    assert link == LinkDisabled("fulfilled", NOW)
