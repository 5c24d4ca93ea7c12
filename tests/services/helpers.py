"""Helpers for the service tests: TrueLayer events as dicts, delivered signed through
`services.webhook_receive` (the path behind the endpoint) or, where signing adds nothing, through
`services.event_apply` after the same parsing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from payments import dynamo, services
from payments.domain import Payment
from payments.dynamo import Dynamo
from payments.truelayer.events import parse_event
from tests.truelayer.fakes import WebhookSigner

PATH = "/webhooks/truelayer/"


def event(event_type: str, **fields: Any) -> dict[str, Any]:
    return {"type": event_type, "event_version": 1, "event_id": str(uuid.uuid4()), **fields}


def created(link_id: str, attempt_id: str, at: str = "2026-11-20T10:00:00Z") -> dict[str, Any]:
    return event(
        "payment_link_payment_created",
        payment_link_id=link_id,
        payment={"id": attempt_id, "created_at": at},
    )


def receive(
    repo: Dynamo, signer: WebhookSigner, one: dict[str, Any], *, timestamp: str | None = None
) -> services.WebhookResult:
    """`one` signed as TrueLayer would (sent now unless `timestamp`), through webhook_receive."""
    body = json.dumps(one, separators=(",", ":")).encode()
    headers = signer.sign(body, path=PATH, timestamp=timestamp)
    return services.webhook_receive(method="POST", path=PATH, headers=headers, body=body, db=repo)


def apply(repo: Dynamo, one: dict[str, Any]) -> services.WebhookResult:
    """`one` as a verified event, through the same service after verification."""
    now = datetime.now(UTC)
    return services.event_apply(
        parse_event(one, received_at=now),
        body=json.dumps(one),
        sent_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        received_at=now,
        db=repo,
    )


def stored(repo: Dynamo, payment: Payment) -> Payment:
    found = dynamo.payment_get(repo, user_id=payment.user_id, payment_id=payment.payment_id)
    assert found is not None
    return found
