"""Refund a payment: the form, its confirmation step, and "Retry" for a refund TrueLayer has
not accepted yet. Views stay thin: every rule is in `payments.refunds` and
`services.refund_create`; a refused refund is shown next to the field it concerns."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from accounts.merchant import (
    AuthenticatedHttpRequest,
    identity,
    merchant_id,
    merchant_required,
    role_required,
)
from accounts.models import Role
from accounts.recent import signed_in_recently
from payments import selectors, services
from payments.domain import Payment, PaymentValidationError, from_minor_units
from payments.errors import RepositoryError
from payments.forms_refund import RefundForm
from payments.refunds import (
    RefundRefused,
    parse_refund_amount,
    parse_refund_reference,
    refund_amounts,
    refundable_problem,
)
from payments.services import cancel
from payments.truelayer.client import TrueLayerError


def _payment_or_404(request: AuthenticatedHttpRequest, payment_id: str) -> Payment:
    payment = selectors.payment_get_for_merchant(
        user_id=merchant_id(request), payment_id=payment_id
    )
    if payment is None:
        raise Http404("No payment with that id.")
    return payment


@require_http_methods(["GET", "POST"])
@merchant_required
@role_required(Role.OPERATOR)
def payment_refund(request: AuthenticatedHttpRequest, payment_id: str) -> HttpResponse:
    """GET: the form. POST without `confirm`: check it and show the confirmation (amount,
    currency, payer). POST with `confirm`: record and send the refund."""
    payment = _payment_or_404(request, payment_id)
    problem = refundable_problem(payment)
    if request.method == "POST" and not problem and not signed_in_recently(request):
        # Moving money needs a recent sign-in; come back to this form, filled in.
        draft = {k: request.POST.get(k, "")[:64] for k in ("amount", "reference", "form_token")}
        back = reverse("payments:refund", args=[payment_id]) + "?" + urlencode(draft)
        return redirect(reverse("accounts:reauth") + "?" + urlencode({"next": back}))
    form = RefundForm(request.POST if request.method == "POST" else None, payment=payment)
    if request.method == "GET":
        # Back from "sign in again": the values the merchant had typed.
        for name in ("amount", "reference", "form_token"):
            if request.GET.get(name):
                form.initial[name] = request.GET[name][:64]
    context = {"payment": payment, "form": form, "problem": problem}
    context["amounts"] = refund_amounts(payment)
    if request.method == "GET" or problem:
        return render(
            request,
            "payments/refund.html",
            context,
            status=400 if problem and form.is_bound else 200,
        )
    if not form.is_valid():
        return render(request, "payments/refund.html", context, status=400)
    data = form.cleaned_data
    if "confirm" not in request.POST:
        # Check amount and reference now, so the confirmation never shows a refund we refuse.
        try:
            minor = parse_refund_amount(data["amount"], payment)
            reference = parse_refund_reference(data["reference"])
        except RefundRefused as refused:
            return _refused(request, context, form, refused)
        context |= {
            "confirm_amount": from_minor_units(minor, payment.currency),
            "confirm_reference": reference,
        }
        return render(request, "payments/refund.html", context)
    try:
        result = services.refund_create(
            user_id=merchant_id(request),
            payment_id=payment_id,
            amount=data["amount"],
            reference=data["reference"],
            form_token=data["form_token"],
            requested_by=identity(request).actor,
        )
    except services.PaymentNotFound:
        raise Http404("No payment with that id.") from None
    except RefundRefused as refused:
        return _refused(request, context, form, refused)
    except RepositoryError as error:
        form.add_error(None, f"{error.message} Nothing was sent to TrueLayer.")
        return render(request, "payments/refund.html", context, status=error.status)
    refund = result.refund
    if not result.saved:
        messages.warning(
            request,
            "The refund was sent to TrueLayer, but its answer could not be saved (the payments "
            "database did not answer). It stays pending: use Refresh status in a moment.",
        )
    elif not result.created:
        messages.info(request, "This refund was already requested; it is shown below.")
    elif refund.failure_reason:
        messages.error(request, f"TrueLayer refused the refund: {refund.failure_reason}.")
    elif refund.awaiting_truelayer:
        messages.error(
            request,
            f"The refund is saved but TrueLayer has not accepted it yet ({refund.send_error}). "
            "Use Retry: it cannot refund twice.",
        )
    else:
        messages.success(request, "Refund requested. TrueLayer will report when it is executed.")
    return redirect("payments:detail", payment_id=payment_id)


@require_POST
@merchant_required
@role_required(Role.OPERATOR)
def refund_retry(
    request: AuthenticatedHttpRequest, payment_id: str, refund_id: str
) -> HttpResponse:
    """Send a saved refund again with its Idempotency-Key (never a second refund)."""
    try:
        result = services.refund_retry(
            user_id=merchant_id(request), payment_id=payment_id, refund_id=refund_id
        )
    except services.PaymentNotFound:
        raise Http404("No such refund.") from None
    except RepositoryError as error:
        messages.error(request, error.message)
        return redirect("payments:detail", payment_id=payment_id)
    refund = result.refund
    if not result.saved:
        messages.warning(request, "TrueLayer answered, but its answer could not be saved yet.")
    elif refund.awaiting_truelayer:
        messages.error(
            request, f"TrueLayer has still not accepted the refund ({refund.send_error})."
        )
    elif refund.failure_reason:
        messages.error(request, f"TrueLayer refused the refund: {refund.failure_reason}.")
    else:
        messages.success(request, "The refund was accepted by TrueLayer.")
    return redirect("payments:detail", payment_id=payment_id)


def _refused(
    request: AuthenticatedHttpRequest,
    context: dict[str, object],
    form: RefundForm,
    refused: RefundRefused,
) -> HttpResponse:
    field = refused.field if refused.field in form.fields else None
    form.add_error(field, refused.message)
    return render(request, "payments/refund.html", context, status=400)


@require_POST
@merchant_required
@role_required(Role.OPERATOR)
def payment_cancel(request: AuthenticatedHttpRequest, payment_id: str) -> HttpResponse:
    """Ask TrueLayer to cancel a payment the payer has not authorised yet."""
    try:
        payment = cancel.payment_cancel(
            user_id=merchant_id(request),
            payment_id=payment_id,
            requested_by=identity(request).actor,
        )
    except services.PaymentNotFound:
        raise Http404("No payment with that id.") from None
    except PaymentValidationError as refused:
        messages.error(request, refused.message)
    except RepositoryError as error:
        messages.error(request, f"{error.message} Nothing was sent to TrueLayer.")
    except TrueLayerError as error:
        trace = f" (trace id {error.trace_id})" if error.trace_id else ""
        messages.error(request, f"TrueLayer could not be asked to cancel: {error.title}{trace}.")
    else:
        if cancel.cancellation_requested(payment):
            messages.success(request, "Cancellation requested. TrueLayer will report the outcome.")
        else:
            messages.info(request, f"The payment is now {payment.status.label.lower()}.")
    return redirect("payments:detail", payment_id=payment_id)
