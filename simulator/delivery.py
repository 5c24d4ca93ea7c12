"""Webhook delivery from the simulator: signed with the simulator's key and handed, in this
process, to the same verification and handling as TrueLayer's webhooks.

No HTTP request to ourselves: a single-worker server calling its own URL synchronously would
wait for itself forever.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import truelayer_signing
from django.conf import settings
from django.urls import reverse

from payments.domain import format_timestamp, utc_now
from payments.errors import RepositoryError
from payments.services import WebhookResult as WebhookResult
from payments.services import webhook_receive as webhook_receive
from simulator import keys

EVENT_VERSION = 1


def signed_request(event: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    """The path, headers and body TrueLayer would send for `event`, with
    `X-TL-Webhook-Timestamp` set to now (a redelivery is stamped when it is sent)."""
    path = reverse("payments:webhook")
    body = json.dumps(event, separators=(",", ":")).encode()
    headers = {
        "X-Tl-Webhook-Timestamp": utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Content-Type": "application/json",
    }
    signature = (
        truelayer_signing.sign_with_pem(keys.key_id(), keys.private_key_pem())
        .set_method(truelayer_signing.HttpMethod.POST)
        .set_path(path)
        .add_headers(headers)
        .set_body(body.decode())
        .set_jku(settings.TRUELAYER_SIMULATOR_JKU)
        .sign()
    )
    return path, {**headers, "Tl-Signature": signature}, body


def new_event(event_type: str, **fields: Any) -> dict[str, Any]:
    """An event body as TrueLayer shapes it: `type`, `event_version`, a fresh `event_id`, then
    the event's own fields."""
    return {
        "type": event_type,
        "event_version": EVENT_VERSION,
        "event_id": str(uuid.uuid4()),
        **fields,
    }


def deliver_event(event: dict[str, Any]) -> WebhookResult:
    """Sign `event` as it is and hand it to the real webhook handler. Delivering the same
    event twice sends the same `event_id` twice, as TrueLayer's retries do."""
    path, headers, body = signed_request(event)
    try:
        return webhook_receive(method="POST", path=path, headers=headers, body=body)
    except RepositoryError as error:
        # What the endpoint answers then (DependencyErrorMiddleware): TrueLayer would retry.
        return WebhookResult(503, f"DynamoDB unavailable: {error}")


def deliver(event_type: str, **fields: Any) -> WebhookResult:
    """Send one new event (a fresh `event_id`, TrueLayer's field names) through the real
    handler."""
    return deliver_event(new_event(event_type, **fields))


def now_text() -> str:
    return format_timestamp(utc_now())
