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
from payments.truelayer.provider import CreatedLink, PaymentLinkRequest, RefundRequest
from simulator.lifecycle import cancel_attempt
from simulator.models import (
    EXECUTED,
    FAILED,
    LINK_DISABLED,
    SETTLED,
    SUCCEEDED,
    SimulatedLink,
    SimulatedPayment,
    SimulatedRefund,
)
from simulator.state import (
    SCHEMES,
    expire_if_due,
    link_request,
    link_status,
    payment_source,
    stamp,
)

MERCHANT_ACCOUNT_ID = "simulator-merchant-account"


def link_uri(link_id: str) -> str:
    base = settings.TRUELAYER_SIMULATOR_BASE_URL.rstrip("/")
    return base + reverse("simulator:pay", args=[link_id])


def _not_found(what: str) -> TrueLayerError:
    return TrueLayerError(
        "Not Found", detail=f"No such {what} in the simulator.", status=404, trace_id="simulator"
    )


def payment_json(payment: SimulatedPayment) -> dict[str, Any]:
    """One attempt as `GET /v3/payments/{id}` answers: TrueLayer's field names, times only
    once they happened, failure stage and reason only when failed."""
    config = link_request(payment.link)["payment_configuration"]
    method: dict[str, Any] = {
        "type": "bank_transfer",
        "provider_selection": {"type": "user_selected"},
    }
    if payment.provider_id:
        method["provider_selection"]["provider_id"] = payment.provider_id
        method["provider_selection"]["scheme_id"] = SCHEMES.get(config["currency"], "")
    beneficiary = config.get("payment_method", {}).get("beneficiary")
    if beneficiary:
        method["beneficiary"] = beneficiary
    answer: dict[str, Any] = {
        "id": payment.payment_id,
        "status": payment.status,
        "amount_in_minor": config["amount_in_minor"],
        "currency": config["currency"],
        "created_at": stamp(payment.created_at),
        "payment_method": method,
        "metadata": config.get("metadata", {}),
    }
    if "user" in config:
        answer["user"] = {"id": config["user"].get("id", "")}
    for name in (
        "authorized_at",
        "executed_at",
        "settled_at",
        "failed_at",
        "creditable_at",
        "settlement_stalled_at",
        "reversed_at",
    ):
        moment = getattr(payment, name)
        if moment is not None:
            answer[name] = stamp(moment)
    if payment.status == FAILED:
        answer["failure_stage"] = payment.failure_stage
        answer["failure_reason"] = payment.failure_reason
    if payment.reversal_reason:
        answer["reversal_reason"] = payment.reversal_reason
    if payment.status in (EXECUTED, SETTLED) or payment.executed_at is not None:
        answer["payment_source"] = payment_source(payment)
    return answer


def link_json(link: SimulatedLink) -> dict[str, Any]:
    """The link as `GET /v3/payment-links/{id}` answers: `disabled_reason` and `disabled_at`
    only once it is disabled."""
    body = link_request(link)
    answer: dict[str, Any] = {
        "id": link.link_id,
        "type": body.get("type", "single_payment"),
        "uri": link_uri(link.link_id),
        "reference": body.get("reference", ""),
        "status": link_status(link),
        "created_at": stamp(link.created_at),
        "expires_at": body.get("expires_at") or stamp(link.expires_at),
        "payment_configuration": body["payment_configuration"],
    }
    if body.get("return_uri"):
        answer["return_uri"] = body["return_uri"]
    if link.status == LINK_DISABLED:
        answer["disabled_reason"] = link.disabled_reason
        answer["disabled_at"] = stamp(link.disabled_at)
    return answer


def _read_link(link_id: str) -> SimulatedLink:
    """The link, expired first if its time has passed (lazily: the simulator has no clock)."""
    with transaction.atomic():
        link = SimulatedLink.objects.select_for_update().filter(link_id=link_id).first()
        if link is None:
            raise _not_found("payment link")
        expire_if_due(link)
    return link


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
        expires_at = request.expires_at
        try:
            with transaction.atomic():
                link, _ = SimulatedLink.objects.get_or_create(
                    idempotency_key=key,
                    defaults={
                        "link_id": f"sim-link-{uuid.uuid4()}",
                        "request_body": body,
                        "expires_at": expires_at,
                    },
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
        return link_json(_read_link(link_id))

    def list_link_payments(self, link_id: str) -> list[dict[str, Any]]:
        link = _read_link(link_id)
        return [payment_json(p) for p in link.payments.select_related("link")]

    def get_payment(self, truelayer_payment_id: str) -> dict[str, Any]:
        payment = (
            SimulatedPayment.objects.filter(payment_id=truelayer_payment_id)
            .select_related("link")
            .first()
        )
        if payment is None:
            raise _not_found("payment")
        expire_if_due(payment.link)
        return payment_json(payment)

    def create_refund(self, request: RefundRequest) -> str:
        return create_refund(request)

    def cancel_payment(self, truelayer_payment_id: str, idempotency_key: str) -> None:
        try:
            cancel_attempt(truelayer_payment_id)
        except SimulatedPayment.DoesNotExist:
            raise _not_found("payment") from None

    def list_refunds(self, truelayer_payment_id: str) -> list[dict[str, Any]]:
        return list_refunds(truelayer_payment_id)


def refund_json(refund: SimulatedRefund) -> dict[str, Any]:
    """One refund as `GET /v3/payments/{id}/refunds` lists it."""
    body = json.loads(refund.request_body)
    answer: dict[str, Any] = {
        "id": refund.refund_id,
        "amount_in_minor": refund.amount_in_minor,
        "currency": link_request(refund.payment.link)["payment_configuration"]["currency"],
        "reference": refund.reference,
        "status": refund.status,
        "created_at": stamp(refund.created_at),
        "metadata": body.get("metadata", {}),
    }
    if refund.executed_at:
        answer["executed_at"] = stamp(refund.executed_at)
    if refund.failed_at:
        answer["failed_at"] = stamp(refund.failed_at)
        answer["failure_reason"] = refund.failure_reason
    return answer


def _refused(status: int, title: str, detail: str) -> TrueLayerError:
    return TrueLayerError(title, detail=detail, status=status, trace_id="simulator")


def create_refund(request: RefundRequest) -> str:
    """TrueLayer's refund rules, as the simulator applies them: the attempt must have
    succeeded, the amount must fit in what its refunds have not taken, and one
    Idempotency-Key names one refund (with the same bytes)."""
    body = json.dumps(request.body(), separators=(",", ":"), sort_keys=True)
    with transaction.atomic():
        existing = SimulatedRefund.objects.filter(idempotency_key=request.idempotency_key).first()
        if existing is not None:
            if existing.request_body != body:
                raise _refused(
                    422,
                    "Idempotency-Key Reuse",
                    "The same Idempotency-Key was sent with a different body.",
                )
            return existing.refund_id
        payment = (
            SimulatedPayment.objects.select_for_update()
            .filter(payment_id=request.attempt_id)
            .select_related("link")
            .first()
        )
        if payment is None:
            raise _not_found("payment")
        if payment.status not in SUCCEEDED:
            raise _refused(
                400,
                "Invalid Parameters",
                f"A payment in status {payment.status} is not refundable.",
            )
        amount = int(link_request(payment.link)["payment_configuration"]["amount_in_minor"])
        taken = sum(
            r.amount_in_minor for r in payment.refunds.all() if r.status != SimulatedRefund.FAILED
        )
        if request.amount_minor <= 0 or taken + request.amount_minor > amount:
            raise _refused(
                400,
                "Invalid Parameters",
                f"Refund amount {request.amount_minor} exceeds the {amount - taken} that remains.",
            )
        refund = SimulatedRefund.objects.create(
            refund_id=f"sim-refund-{uuid.uuid4()}",
            payment=payment,
            idempotency_key=request.idempotency_key,
            request_body=body,
            amount_in_minor=request.amount_minor,
            reference=request.reference,
        )
    return refund.refund_id


def list_refunds(truelayer_payment_id: str) -> list[dict[str, Any]]:
    payment = SimulatedPayment.objects.filter(payment_id=truelayer_payment_id).first()
    if payment is None:
        raise _not_found("payment")
    return [refund_json(r) for r in payment.refunds.select_related("payment__link")]
