"""The simulator's state as TrueLayer reads it (a link's status, its expiry, the attempt in the
bank flow) and the shapes TrueLayer gives it in webhooks and API answers (payment method,
payment source, metadata). `lifecycle` changes the state; `provider` answers from it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from payments.domain import format_timestamp, utc_now
from simulator import delivery
from simulator.models import (
    AUTHORIZED,
    AUTHORIZING,
    IN_PROGRESS,
    LINK_DISABLED,
    LINK_DISABLING,
    LINK_ENABLED,
    SUCCEEDED,
    SimulatedLink,
    SimulatedPayment,
)

SCHEMES = {"GBP": "faster_payments_service", "EUR": "sepa_credit_transfer_instant"}
DISABLED_FULFILLED = "fulfilled"
DISABLED_EXPIRED = "expired"


# --- reading state ---------------------------------------------------------------------------


def link_request(link: SimulatedLink) -> dict[str, Any]:
    """The `POST /v3/payment-links` body the link was created with."""
    body: dict[str, Any] = json.loads(link.request_body)
    return body


def link_currency(link: SimulatedLink) -> str:
    return str(link_request(link)["payment_configuration"]["currency"])


def link_status(link: SimulatedLink) -> str:
    """`enabled`, `disabling` (an attempt is at the bank) or `disabled`, as TrueLayer reads."""
    if (
        link.status == LINK_ENABLED
        and link.payments.filter(status__in=(AUTHORIZING, AUTHORIZED)).exists()
    ):
        return LINK_DISABLING
    return link.status


def expire_if_due(link: SimulatedLink, *, now: datetime | None = None) -> bool:
    """Disable an enabled link whose `expires_at` has passed with no successful attempt, as
    TrueLayer would have at that moment (`disabled_at` = `expires_at`). No webhook: the
    simulator has no clock, so the dashboard learns it only by asking the API. True if it
    flipped now."""
    now = now or utc_now()
    if link.status != LINK_ENABLED or link.expires_at is None or link.expires_at > now:
        return False
    if link.payments.filter(status__in=SUCCEEDED).exists():
        return False
    link.status, link.disabled_reason, link.disabled_at = (
        LINK_DISABLED,
        DISABLED_EXPIRED,
        link.expires_at,
    )
    link.save(update_fields=["status", "disabled_reason", "disabled_at"])
    return True


def open_attempt(link: SimulatedLink) -> SimulatedPayment | None:
    """The attempt still in the bank flow, if any (at most one at a time)."""
    return link.payments.filter(status__in=IN_PROGRESS).order_by("-created_at").first()


def stamp(moment: datetime | None) -> str:
    return format_timestamp(moment) if moment else ""


def payment_method(attempt: SimulatedPayment) -> dict[str, Any]:
    """`payment_method` as TrueLayer's payment webhooks carry it."""
    method: dict[str, Any] = {"type": "bank_transfer"}
    if attempt.provider_id:
        method["provider_id"] = attempt.provider_id
        method["scheme_id"] = SCHEMES.get(link_currency(attempt.link), "")
    return method


def payment_source(attempt: SimulatedPayment) -> dict[str, Any]:
    """A made-up payer account, the same for every event of one attempt."""
    identifiers: list[dict[str, str]] = [{"type": "iban", "iban": "GB33SIMU00000012345678"}]
    if link_currency(attempt.link) == "GBP":
        identifiers.insert(
            0,
            {
                "type": "sort_code_account_number",
                "sort_code": "000000",
                "account_number": "12345678",
            },
        )
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"simulator-source:{attempt.payment_id}")),
        "account_holder_name": "SIMULATED PAYER",
        "account_identifiers": identifiers,
    }


def event_metadata(attempt: SimulatedPayment) -> dict[str, Any]:
    metadata: dict[str, Any] = link_request(attempt.link)["payment_configuration"].get(
        "metadata", {}
    )
    return metadata


def payment_event(event_type: str, attempt: SimulatedPayment, **fields: Any) -> dict[str, Any]:
    return delivery.new_event(
        event_type, payment_id=attempt.payment_id, **fields, metadata=event_metadata(attempt)
    )


def with_method(attempt: SimulatedPayment) -> dict[str, Any]:
    return {"payment_method": payment_method(attempt), "payment_source": payment_source(attempt)}
