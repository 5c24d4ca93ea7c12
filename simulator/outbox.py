"""The simulator's outbox: how the webhooks of one action reach the dashboard (normally,
lost, twice, or held back), every webhook it sent with the dashboard's answer, and resending
what was held back or refused, as TrueLayer retries anything but 2xx."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from simulator import delivery
from simulator.models import SimulatedLink, SimulatedWebhook


class Delivery(StrEnum):
    """How the webhooks of one action reach the dashboard."""

    NORMAL = "normal"
    LOSE = "lose"  # state changes, nothing is sent: only the API can tell
    TWICE = "twice"  # each event twice, same event_id (TrueLayer retries)
    LATE = "late"  # held back, sent after the next action's events (out of order)


DELIVERY_CHOICES = [
    (Delivery.NORMAL, "Deliver normally"),
    (Delivery.LOSE, "Lose them (the state changes, no webhook is sent)"),
    (Delivery.TWICE, "Deliver each twice (same event_id)"),
    (Delivery.LATE, "Hold them back: deliver after the next action's webhooks (out of order)"),
]


@dataclass(frozen=True)
class Sent:
    """What became of one event: delivered (with the dashboard's answer), lost or held."""

    event_type: str
    event_id: str
    outcome: str
    status: int | None = None
    message: str = ""


def dispatch(link: SimulatedLink, events: list[dict[str, Any]], mode: Delivery) -> list[Sent]:
    # Held back or refused by an earlier action: they arrive after this action's events.
    earlier = list(link.webhooks.filter(outcome__in=SimulatedWebhook.PENDING))
    sent: list[Sent] = []
    for event in events:
        if mode is Delivery.LOSE:
            sent.append(_record(link, event, SimulatedWebhook.LOST))
        elif mode is Delivery.LATE:
            sent.append(_record(link, event, SimulatedWebhook.HELD))
        else:
            for _ in range(2 if mode is Delivery.TWICE else 1):
                sent.append(send(link, event))
    if mode is not Delivery.LATE:
        sent.extend(redeliver(earlier))
    return sent


def deliver_held(link: SimulatedLink) -> list[Sent]:
    return redeliver(list(link.webhooks.filter(outcome__in=SimulatedWebhook.PENDING)))


def redeliver(webhooks: list[SimulatedWebhook]) -> list[Sent]:
    """Send what was held back or refused before, oldest first (a retry is the same event,
    same `event_id`, stamped with a new timestamp)."""
    sent = []
    for held in webhooks:
        result = delivery.deliver_event(held.body)
        held.outcome = _outcome(result.status)
        held.response_status, held.response_message = result.status, result.message[:500]
        held.save(update_fields=["outcome", "response_status", "response_message"])
        sent.append(_sent(held))
    return sent


def send(link: SimulatedLink, event: dict[str, Any]) -> Sent:
    result = delivery.deliver_event(event)
    return _record(
        link, event, _outcome(result.status), status=result.status, message=result.message
    )


def _outcome(status: int) -> str:
    # Anything but 2xx is retried by TrueLayer: keep it to be sent again.
    return SimulatedWebhook.DELIVERED if 200 <= status < 300 else SimulatedWebhook.RETRY


def _record(
    link: SimulatedLink,
    event: dict[str, Any],
    outcome: str,
    *,
    status: int | None = None,
    message: str = "",
) -> Sent:
    webhook = SimulatedWebhook.objects.create(
        link=link,
        event_id=event["event_id"],
        event_type=event["type"],
        body=event,
        outcome=outcome,
        response_status=status,
        response_message=message[:500],
    )
    return _sent(webhook)


def _sent(webhook: SimulatedWebhook) -> Sent:
    return Sent(
        event_type=webhook.event_type,
        event_id=webhook.event_id,
        outcome=webhook.outcome,
        status=webhook.response_status,
        message=webhook.response_message,
    )
