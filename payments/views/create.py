"""New payment page, "Try again" for a link that could not be created, and "Refresh status"."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.merchant import (
    AuthenticatedHttpRequest,
    identity,
    merchant_id,
    merchant_required,
    role_required,
)
from accounts.models import Role
from payments import services
from payments.errors import DatabaseUnavailable, DuplicateSubmission
from payments.forms_create import NewPaymentForm
from payments.truelayer.client import TrueLayerError

# Shown when a write of "New payment" got no answer: it may have been stored.
CREATE_OUTCOME_UNKNOWN = (
    "The payments database did not answer in time, so we could not confirm whether the payment "
    "was saved. Check the payments list before creating it again; submitting this same form "
    "again is safe: it will not create a second payment."
)


@require_http_methods(["GET", "POST"])
@merchant_required
@role_required(Role.OPERATOR)
def payment_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The form; on a valid submit, the payment is stored, its link created, and the merchant
    lands on the payment's page (which says so if the link could not be created). When the
    database did not answer a write, the form comes back (503) with its submission token and
    says that the payment may exist; submitting it again finds that payment."""
    form = NewPaymentForm(request.POST if request.method == "POST" else None)
    status = 400 if form.is_bound else 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.payment_create(
                user_id=merchant_id(request),
                amount=data["amount"],
                currency=data["currency"],
                reference=data["reference"],
                payer_name=data["payer_name"],
                payer_email=data["payer_email"],
                expires_at=data["expires_at"],
                submission_token=data["submission_token"],
                actor=identity(request).actor,
            )
        except DuplicateSubmission as duplicate:
            # A double click, or a resubmit after an unanswered write: the first submission
            # made the payment (and the service finished its link); show that one.
            messages.info(request, "This form was already submitted: here is its payment.")
            return redirect("payments:detail", payment_id=duplicate.payment_id)
        except DatabaseUnavailable as error:
            if not error.outcome_unknown:
                raise  # nothing was written: the error page says so
            form.add_error(None, CREATE_OUTCOME_UNKNOWN)
            status = error.status
        else:
            if payment.link_error:
                messages.error(request, "The payment was saved, but its link could not be created.")
            else:
                messages.success(request, "Payment created. Send the link to the payer.")
            return redirect("payments:detail", payment_id=payment.payment_id)
    # Simulator mode is said on every page (base.html's banner, context_processors.site).
    return render(request, "payments/new.html", {"form": form}, status=status)


@require_POST
@merchant_required
@role_required(Role.OPERATOR)
def payment_retry_link(request: AuthenticatedHttpRequest, payment_id: str) -> HttpResponse:
    """Create the link again with the same Idempotency-Key (never a second link)."""
    try:
        payment = services.payment_retry_link(user_id=merchant_id(request), payment_id=payment_id)
    except services.PaymentNotFound:
        raise Http404("No such payment.") from None
    if payment.payment_link_url:
        messages.success(request, "The payment link is ready.")
    else:
        messages.error(request, "The payment link could still not be created.")
    return redirect("payments:detail", payment_id=payment_id)


@require_POST
@merchant_required
@role_required(Role.OPERATOR)
def payment_refresh(request: AuthenticatedHttpRequest, payment_id: str) -> HttpResponse:
    """Ask TrueLayer about the payment's link and attempts and apply what it says."""
    try:
        refreshed = services.payment_refresh_status(
            user_id=merchant_id(request), payment_id=payment_id, actor=identity(request).actor
        )
    except services.PaymentNotFound:
        raise Http404("No such payment.") from None
    except TrueLayerError as error:
        trace = f" (TrueLayer trace id {error.trace_id})" if error.trace_id else ""
        messages.error(request, f"TrueLayer could not be asked: {error.title}{trace}.")
    else:
        status = refreshed.payment.status.label
        if refreshed.changes:
            changes = "; ".join(refreshed.changes)
            messages.success(request, f"Updated from TrueLayer: {changes}. Status: {status}.")
        else:
            messages.info(request, f"TrueLayer confirms the status: {status}. Nothing changed.")
    return redirect("payments:detail", payment_id=payment_id)
