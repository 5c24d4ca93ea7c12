"""The simulator's hosted payment page (what the payer sees instead of TrueLayer's) and its
JWKS. Every view answers 404 unless the simulator is on (TRUELAYER_MODE=simulator, DEBUG on).

The page is one form: the delivery options and the choices (bank, failure reason, ...) sit
once at the top, and each action is a button that posts them to its own URL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from payments.domain import from_minor_units
from simulator import keys, lifecycle, outbox, state
from simulator.models import (
    EXECUTED,
    IN_PROGRESS,
    LINK_ENABLED,
    SETTLED,
    SUCCEEDED,
    SimulatedLink,
    SimulatedRefund,
    SimulatedWebhook,
)

logger = logging.getLogger(__name__)
P = ParamSpec("P")


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


def _get_link(link_id: str) -> SimulatedLink:
    with transaction.atomic():
        link = SimulatedLink.objects.select_for_update().filter(link_id=link_id).first()
        if link is None:
            raise Http404("No such payment link in the simulator.")
        state.expire_if_due(link)
    return link


def _attempt_row(attempt: Any) -> dict[str, Any]:
    """One line of the attempts table, with the buttons its state allows."""
    status = attempt.status
    buttons: list[tuple[str, str]] = []
    if status == "authorization_required":
        buttons.append(("bank", "Go to the bank (authorizing)"))
    if status in IN_PROGRESS:
        buttons += [
            ("authorise", "Authorise payment"),
            ("fail", "Fail payment"),
            ("abandon", "Abandon at the bank (fails as expired)"),
        ]
    if status == EXECUTED:
        buttons += [
            ("settle", "Settle (money reaches the merchant account)"),
            ("fail_verification", "Fail verification (executed → failed)"),
        ]
        if attempt.settlement_stalled_at is None:
            buttons.append(("stall", "Stall settlement"))
    if status in (EXECUTED, SETTLED) and attempt.creditable_at is None:
        buttons.append(("creditable", "Mark creditable"))
    if status == SETTLED and attempt.reversed_at is None:
        buttons.append(("reverse", "Reverse (money goes back)"))
    urls = [
        (reverse(f"simulator:{name}", args=[attempt.link_id]), label) for name, label in buttons
    ]
    facts = [
        label
        for label, moment in (
            ("creditable", attempt.creditable_at),
            ("settlement stalled", attempt.settlement_stalled_at),
            (f"reversed ({attempt.reversal_reason})", attempt.reversed_at),
        )
        if moment is not None
    ]
    return {"attempt": attempt, "buttons": urls, "facts": facts}


@require_GET
@_only_when_enabled
def pay(request: HttpRequest, link_id: str) -> HttpResponse:
    """The hosted payment page: amount, reference, the link's attempts, what the payer (and
    the bank) can do next, and every webhook sent about this link."""
    link = _get_link(link_id)
    body = state.link_request(link)
    config = body["payment_configuration"]
    attempts = list(link.payments.all())
    paid = any(a.status in SUCCEEDED for a in attempts)
    context = {
        "link": link,
        "link_status": state.link_status(link),
        "attempts": [_attempt_row(a) for a in attempts],
        "webhooks": list(link.webhooks.all()),
        "refunds": [
            (r, from_minor_units(r.amount_in_minor, config["currency"]))
            for r in SimulatedRefund.objects.filter(payment__link=link).select_related("payment")
        ],
        "held": link.webhooks.filter(outcome__in=SimulatedWebhook.PENDING).count(),
        "amount": from_minor_units(int(config["amount_in_minor"]), config["currency"]),
        "currency": config["currency"],
        "reference": body.get("reference", ""),
        "expires_at": body.get("expires_at", ""),
        "return_uri": body.get("return_uri", ""),
        "providers": lifecycle.PROVIDERS.get(config["currency"], []),
        "failure_reasons": lifecycle.FAILURE_REASONS,
        "reversal_reasons": lifecycle.REVERSAL_REASONS,
        "delivery_choices": outbox.DELIVERY_CHOICES,
        "can_pay": link.status == LINK_ENABLED and state.open_attempt(link) is None,
        "can_expire": link.status == LINK_ENABLED and not paid,
        "can_report_expiry": link.disabled_reason == state.DISABLED_EXPIRED
        and not link.webhooks.filter(event_type="payment_link_disabled").exists(),
    }
    return render(request, "simulator/pay.html", context)


@require_POST
@_only_when_enabled
def act(request: HttpRequest, link_id: str, action: str) -> HttpResponse:
    """Run one payer or bank action on the link and report each webhook and the dashboard's
    answer to it. A refused action changes nothing and says why."""
    form = {key: request.POST.get(key, "") for key in request.POST}
    try:
        sent = lifecycle.perform(link_id, action, form)
    except SimulatedLink.DoesNotExist:
        raise Http404("No such payment link in the simulator.") from None
    except lifecycle.ActionRefused as refused:
        messages.error(request, str(refused))
    else:
        if not sent:
            messages.info(request, "Done: TrueLayer sends no webhook for this step.")
        for item in sent:
            _report(request, item)
    return redirect("simulator:pay", link_id=link_id)


def _report(request: HttpRequest, sent: outbox.Sent) -> None:
    what = f"Webhook {sent.event_type} ({sent.event_id[:8]})"
    if sent.outcome == SimulatedWebhook.LOST:
        messages.warning(
            request,
            f"{what} lost on purpose: not delivered. The dashboard can learn it only by "
            "asking the simulator's API.",
        )
    elif sent.outcome == SimulatedWebhook.HELD:
        messages.info(request, f"{what} held back: delivered after the next action's webhooks.")
    elif sent.status is not None and 200 <= sent.status < 300:
        messages.success(
            request, f"{what} delivered; the dashboard answered {sent.status} {sent.message}."
        )
    else:
        logger.error("simulator webhook %s refused: %s", sent.event_type, sent.message)
        messages.error(
            request,
            f"{what} refused ({sent.status}): {sent.message}. TrueLayer retries: it is sent "
            'again after the next action, or with "Deliver held webhooks now".',
        )
