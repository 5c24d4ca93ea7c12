"""Who creates payment links and answers status questions: TrueLayer, or the local simulator.

`get_provider()` builds the class named by the `TRUELAYER_PROVIDER` setting (a dotted path, as
Django picks an email backend), so this package never imports the simulator. Both build the
same TrueLayer request body from a `PaymentLinkRequest`, so the simulator sees exactly what
TrueLayer would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, cast

from django.conf import settings
from django.utils.module_loading import import_string

from payments.domain import Payment, format_timestamp, to_minor_units
from payments.truelayer.client import TrueLayerClient, TrueLayerError

# Idempotency keys and payer ids are UUIDs derived from our payment id: the same payment always
# produces the same key, so no retry (even after a restart) can create a second link.
_IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1d2a4e-4f7b-4c59-9a43-1f1f0ad0b6a1")
DEFAULT_LINK_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class PaymentLinkRequest:
    payment_id: str
    amount: Decimal
    currency: str
    reference: str
    expires_at: datetime
    payer_name: str = ""
    payer_email: str = ""

    @classmethod
    def for_payment(cls, payment: Payment) -> PaymentLinkRequest:
        """The same request every time for one payment (the default expiry counts from its
        creation, not from now), so retries send the same bytes."""
        return cls(
            payment_id=payment.payment_id,
            amount=payment.amount,
            currency=payment.currency,
            reference=payment.reference,
            expires_at=payment.expires_at or payment.created_at + DEFAULT_LINK_LIFETIME,
            payer_name=payment.payer_name,
            payer_email=payment.payer_email,
        )

    @property
    def idempotency_key(self) -> str:
        return str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"payment-link:{self.payment_id}"))

    def body(self, *, merchant_account_id: str, return_uri: str = "") -> dict[str, Any]:
        """TrueLayer's `POST /v3/payment-links` body (amount in minor units)."""
        body: dict[str, Any] = {
            "type": "single_payment",
            "reference": self.reference,
            "expires_at": format_timestamp(self.expires_at),
            "payment_configuration": {
                "amount_in_minor": to_minor_units(self.amount, self.currency),
                "currency": self.currency,
                "payment_method": {
                    "type": "bank_transfer",
                    "provider_selection": {"type": "user_selected"},
                    "beneficiary": {
                        "type": "merchant_account",
                        "merchant_account_id": merchant_account_id,
                    },
                },
                # On the payment TrueLayer creates, so its webhooks name our payment too.
                "metadata": {"payment_id": self.payment_id},
            },
        }
        if self.payer_name or self.payer_email:
            user: dict[str, str] = {
                "id": str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"payer:{self.payment_id}"))
            }
            if self.payer_name:
                user["name"] = self.payer_name
            if self.payer_email:
                user["email"] = self.payer_email
            body["payment_configuration"]["user"] = user
        if return_uri:
            body["return_uri"] = return_uri
        return body


@dataclass(frozen=True)
class RefundRequest:
    """One refund as TrueLayer is asked for it; built from the stored refund, so a retry
    sends the same bytes with the same key."""

    attempt_id: str
    refund_id: str
    payment_id: str
    amount_minor: int
    reference: str
    idempotency_key: str

    def body(self) -> dict[str, Any]:
        """TrueLayer's `POST /v3/payments/{id}/refunds` body."""
        return {
            "amount_in_minor": self.amount_minor,
            "reference": self.reference,
            "metadata": {"payment_id": self.payment_id, "refund_id": self.refund_id},
        }


@dataclass(frozen=True)
class CreatedLink:
    link_id: str
    uri: str
    raw: dict[str, Any]


class PaymentLinkProvider(Protocol):
    """What the services need from TrueLayer. Every method raises `TrueLayerError`."""

    def create_payment_link(self, request: PaymentLinkRequest) -> CreatedLink: ...

    def get_payment_link(self, link_id: str) -> dict[str, Any]: ...

    def list_link_payments(self, link_id: str) -> list[dict[str, Any]]: ...

    def get_payment(self, truelayer_payment_id: str) -> dict[str, Any]: ...

    def create_refund(self, request: RefundRequest) -> str: ...

    def list_refunds(self, truelayer_payment_id: str) -> list[dict[str, Any]]: ...

    def cancel_payment(self, truelayer_payment_id: str, idempotency_key: str) -> None: ...


class TrueLayerProvider:
    """TrueLayer itself, over HTTP."""

    def __init__(self, client: TrueLayerClient | None = None) -> None:
        self.client = client or TrueLayerClient()

    def create_payment_link(self, request: PaymentLinkRequest) -> CreatedLink:
        config = self.client.config
        answer = self.client.create_payment_link(
            body=request.body(
                merchant_account_id=config.merchant_account_id, return_uri=config.return_uri
            ),
            idempotency_key=request.idempotency_key,
        )
        link_id, uri = answer.body.get("id"), answer.body.get("uri")
        if not isinstance(link_id, str) or not isinstance(uri, str) or not link_id or not uri:
            raise TrueLayerError(
                "TrueLayer's answer had no link id or URI", status=answer.status, raw=answer.body
            )
        return CreatedLink(link_id=link_id, uri=uri, raw=answer.body)

    def get_payment_link(self, link_id: str) -> dict[str, Any]:
        return self.client.get_payment_link(link_id).body

    def list_link_payments(self, link_id: str) -> list[dict[str, Any]]:
        items = self.client.get_payment_link_payments(link_id).body.get("items", [])
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def get_payment(self, truelayer_payment_id: str) -> dict[str, Any]:
        return self.client.get_payment(truelayer_payment_id).body

    def create_refund(self, request: RefundRequest) -> str:
        answer = self.client.create_refund(
            request.attempt_id, body=request.body(), idempotency_key=request.idempotency_key
        )
        refund_id = answer.body.get("id")
        if not isinstance(refund_id, str) or not refund_id:
            raise TrueLayerError(
                "TrueLayer's answer had no refund id", status=answer.status, raw=answer.body
            )
        return refund_id

    def cancel_payment(self, truelayer_payment_id: str, idempotency_key: str) -> None:
        self.client.cancel_payment(truelayer_payment_id, idempotency_key=idempotency_key)

    def list_refunds(self, truelayer_payment_id: str) -> list[dict[str, Any]]:
        items = self.client.get_refunds(truelayer_payment_id).body.get("items", [])
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def get_provider() -> PaymentLinkProvider:
    """A new instance of the `TRUELAYER_PROVIDER` class.

    A provider class that sets `debug_only = True` (the simulator) is refused when DEBUG is off:
    settings refuse it at start already; never rely on one check only.
    """
    provider_class = import_string(settings.TRUELAYER_PROVIDER)
    if getattr(provider_class, "debug_only", False) and not settings.DEBUG:
        raise TrueLayerError("The payment simulator is disabled when DEBUG is off")
    return cast(PaymentLinkProvider, provider_class())
