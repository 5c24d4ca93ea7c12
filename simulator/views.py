"""The simulator's hosted payment page (what the payer sees instead of TrueLayer's) and its
JWKS. Every view answers 404 unless the simulator is on (TRUELAYER_MODE=simulator, DEBUG on)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from payments.domain import from_minor_units
from simulator import keys
from simulator.delivery import deliver, now_text
from simulator.models import SimulatedLink, SimulatedPayment

logger = logging.getLogger(__name__)
P = ParamSpec("P")

# TrueLayer's documented failure reasons a payer can cause (unknown ones are stored as given).
FAILURE_REASONS = [
    ("authorization_failed", "The bank refused the authorisation"),
    ("user_canceled_at_provider", "The payer cancelled at the bank"),
    ("provider_rejected", "The bank rejected the payment"),
    ("insufficient_funds", "Not enough money in the account"),
    ("provider_error", "The bank had an error"),
    ("expired", "The payer took too long"),
]


def simulator_enabled() -> bool:
    return bool(settings.DEBUG and settings.TRUELAYER_MODE == "simulator")


def _only_when_enabled(
    view: Callable[Concatenate[HttpRequest, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not simulator_enabled():
            raise Http404("The payment simulator is off.")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@require_GET
@_only_when_enabled
def jwks(request: HttpRequest) -> HttpResponse:
    """The simulator's public key, for people to look at (the verifier never fetches it)."""
    return JsonResponse(keys.public_jwks())


@require_GET
@_only_when_enabled
def pay(request: HttpRequest, link_id: str) -> HttpResponse:
    """The hosted payment page: amount, reference, and what the payer can do."""
    link = get_object_or_404(SimulatedLink, link_id=link_id)
    body: dict[str, Any] = json.loads(link.request_body)
    config = body["payment_configuration"]
    payment = link.payments.order_by("-created_at").first()
    context = {
        "link": link,
        "payment": payment,
        "amount": from_minor_units(int(config["amount_in_minor"]), config["currency"]),
        "currency": config["currency"],
        "reference": body.get("reference", ""),
        "expires_at": body.get("expires_at", ""),
        "return_uri": body.get("return_uri", ""),
        "failure_reasons": FAILURE_REASONS,
        "can_pay": link.status == "enabled" and payment is None,
        "can_settle": payment is not None and payment.status == "executed",
    }
    return render(request, "simulator/pay.html", context)


def _report(request: HttpRequest, event_type: str, result: Any) -> None:
    if 200 <= result.status < 300:
        messages.success(request, f"Webhook {event_type} delivered ({result.status}).")
    else:
        logger.error("simulator webhook %s refused: %s", event_type, result.message)
        messages.error(request, f"Webhook {event_type} refused ({result.status}): {result.message}")


def _start_payment(request: HttpRequest, link: SimulatedLink) -> SimulatedPayment | None:
    with transaction.atomic():
        locked = SimulatedLink.objects.select_for_update().get(pk=link.pk)
        if locked.status != "enabled" or locked.payments.exists():
            messages.error(request, "This link cannot be paid any more.")
            return None
        payment = SimulatedPayment.objects.create(payment_id=f"sim-pay-{uuid.uuid4()}", link=locked)
    created = deliver(
        "payment_link_payment_created",
        payment_link_id=link.link_id,
        payment={"id": payment.payment_id, "status": payment.status},
    )
    _report(request, "payment_link_payment_created", created)
    return payment


def _move(request: HttpRequest, payment: SimulatedPayment, event_type: str, **fields: Any) -> None:
    result = deliver(event_type, payment_id=payment.payment_id, payment_source={}, **fields)
    _report(request, event_type, result)


@require_POST
@_only_when_enabled
def authorise(request: HttpRequest, link_id: str) -> HttpResponse:
    """The payer authorises at their bank: authorized, then executed (link disabled: paid)."""
    link = get_object_or_404(SimulatedLink, link_id=link_id)
    payment = _start_payment(request, link)
    if payment is not None:
        for status, event_type, stamp in (
            ("authorized", "payment_authorized", "authorized_at"),
            ("executed", "payment_executed", "executed_at"),
        ):
            payment.status = status
            payment.save(update_fields=["status", "updated_at"])
            _move(request, payment, event_type, **{stamp: now_text()})
        _disable_link(request, link, "payment_completed")
    return redirect("simulator:pay", link_id=link_id)


@require_POST
@_only_when_enabled
def settle(request: HttpRequest, link_id: str) -> HttpResponse:
    """The money arrives in the merchant account: settled."""
    link = get_object_or_404(SimulatedLink, link_id=link_id)
    payment = link.payments.filter(status="executed").first()
    if payment is None:
        messages.error(request, "Only an executed payment can settle.")
    else:
        payment.status = "settled"
        payment.save(update_fields=["status", "updated_at"])
        _move(request, payment, "payment_settled", settled_at=now_text())
    return redirect("simulator:pay", link_id=link_id)


@require_POST
@_only_when_enabled
def fail(request: HttpRequest, link_id: str) -> HttpResponse:
    """The payment fails during authorisation, with the reason the payer picked."""
    link = get_object_or_404(SimulatedLink, link_id=link_id)
    reasons = dict(FAILURE_REASONS)
    reason = request.POST.get("failure_reason", "")
    if reason not in reasons:
        messages.error(request, "Pick a failure reason.")
        return redirect("simulator:pay", link_id=link_id)
    payment = _start_payment(request, link)
    if payment is not None:
        payment.status, payment.failure_stage, payment.failure_reason = (
            "failed",
            "authorizing",
            reason,
        )
        payment.save()
        _move(
            request,
            payment,
            "payment_failed",
            failed_at=now_text(),
            failure_stage="authorizing",
            failure_reason=reason,
        )
    return redirect("simulator:pay", link_id=link_id)


def _disable_link(request: HttpRequest, link: SimulatedLink, reason: str) -> None:
    """Disable the link as TrueLayer would, and deliver its payment_link_disabled webhook."""
    link.status, link.disablement_reason = "disabled", reason
    link.save(update_fields=["status", "disablement_reason"])
    result = deliver(
        "payment_link_disabled",
        payment_link_id=link.link_id,
        disabled_at=now_text(),
        disablement_reason=reason,
    )
    _report(request, "payment_link_disabled", result)


@require_POST
@_only_when_enabled
def expire(request: HttpRequest, link_id: str) -> HttpResponse:
    """The link expires before anyone pays: payment_link_disabled with no payment."""
    link = get_object_or_404(SimulatedLink, link_id=link_id)
    if link.status != "enabled" or link.payments.exists():
        messages.error(request, "Only an unpaid, enabled link can expire.")
        return redirect("simulator:pay", link_id=link_id)
    _disable_link(request, link, "expired")
    return redirect("simulator:pay", link_id=link_id)
