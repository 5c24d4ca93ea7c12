"""The simulator behind the `PaymentLinkProvider` interface: TrueLayer's payment-link API as a
local fake, answering from the simulator's own tables, in the shapes TrueLayer answers in."""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from payments.truelayer.client import TrueLayerError
from payments.truelayer.provider import CreatedLink, PaymentLinkRequest
from simulator.models import SimulatedLink, SimulatedPayment

MERCHANT_ACCOUNT_ID = "simulator-merchant-account"


def link_uri(link_id: str) -> str:
    base = settings.TRUELAYER_SIMULATOR_BASE_URL.rstrip("/")
    return base + reverse("simulator:pay", args=[link_id])


def _not_found(what: str) -> TrueLayerError:
    return TrueLayerError(
        "Not Found", detail=f"No such {what} in the simulator.", status=404, trace_id="simulator"
    )


def payment_json(payment: SimulatedPayment) -> dict[str, Any]:
    body = json.loads(payment.link.request_body)
    config = body["payment_configuration"]
    answer: dict[str, Any] = {
        "id": payment.payment_id,
        "status": payment.status,
        "amount_in_minor": config["amount_in_minor"],
        "currency": config["currency"],
        "created_at": payment.created_at.isoformat().replace("+00:00", "Z"),
        "metadata": config.get("metadata", {}),
    }
    if payment.failure_reason:
        answer["failure_stage"] = payment.failure_stage
        answer["failure_reason"] = payment.failure_reason
    return answer


class SimulatorProvider:
    """Fake TrueLayer: same request body, same idempotency rules, same answer shapes."""

    # `payments.truelayer.provider.get_provider` refuses a debug-only provider with DEBUG off.
    debug_only: ClassVar[bool] = True

    def create_payment_link(self, request: PaymentLinkRequest) -> CreatedLink:
        body = json.dumps(
            request.body(
                merchant_account_id=MERCHANT_ACCOUNT_ID, return_uri=settings.TRUELAYER_RETURN_URI
            ),
            separators=(",", ":"),
            sort_keys=True,
        )
        key = request.idempotency_key
        try:
            with transaction.atomic():
                link, _ = SimulatedLink.objects.get_or_create(
                    idempotency_key=key,
                    defaults={"link_id": f"sim-link-{uuid.uuid4()}", "request_body": body},
                )
        except IntegrityError:  # a concurrent retry created it first
            link = SimulatedLink.objects.get(idempotency_key=key)
        if link.request_body != body:
            raise TrueLayerError(
                "Idempotency-Key Reuse",
                detail="The same Idempotency-Key was sent with a different body.",
                status=422,
                trace_id="simulator",
            )
        uri = link_uri(link.link_id)
        return CreatedLink(link_id=link.link_id, uri=uri, raw={"id": link.link_id, "uri": uri})

    def get_payment_link(self, link_id: str) -> dict[str, Any]:
        link = SimulatedLink.objects.filter(link_id=link_id).first()
        if link is None:
            raise _not_found("payment link")
        answer: dict[str, Any] = {"id": link.link_id, "status": link.status}
        if link.disablement_reason:
            answer["disablement_reason"] = link.disablement_reason
        return answer

    def list_link_payments(self, link_id: str) -> list[dict[str, Any]]:
        if not SimulatedLink.objects.filter(link_id=link_id).exists():
            raise _not_found("payment link")
        payments = SimulatedPayment.objects.filter(link_id=link_id).select_related("link")
        return [payment_json(p) for p in payments.order_by("created_at")]

    def get_payment(self, truelayer_payment_id: str) -> dict[str, Any]:
        payment = (
            SimulatedPayment.objects.filter(payment_id=truelayer_payment_id)
            .select_related("link")
            .first()
        )
        if payment is None:
            raise _not_found("payment")
        return payment_json(payment)
