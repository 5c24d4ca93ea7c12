"""The simulator's fake TrueLayer state: payment links, the payment attempts made through them,
and the webhooks it sent about them.

Kept in Django's own database (never in DynamoDB: that holds only our payments)."""

from __future__ import annotations

from django.db import models

# Attempt statuses, in TrueLayer's v3 order (`failed` can follow any of the first four).
AUTHORIZATION_REQUIRED = "authorization_required"
AUTHORIZING = "authorizing"
AUTHORIZED = "authorized"
EXECUTED = "executed"
SETTLED = "settled"
FAILED = "failed"
IN_PROGRESS = (AUTHORIZATION_REQUIRED, AUTHORIZING, AUTHORIZED)
SUCCEEDED = (AUTHORIZED, EXECUTED, SETTLED)

LINK_ENABLED = "enabled"
LINK_DISABLING = "disabling"  # never stored: read while an attempt is at the bank
LINK_DISABLED = "disabled"


class SimulatedLink(models.Model):
    link_id = models.CharField(primary_key=True, max_length=64)
    idempotency_key = models.CharField(max_length=128, unique=True)
    # The exact bytes TrueLayer would have received (JSON), to detect an Idempotency-Key reuse.
    request_body = models.TextField()
    status = models.CharField(max_length=16, default=LINK_ENABLED)
    disabled_reason = models.CharField(max_length=64, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # From the request body's `expires_at`; null only for links stored before it was kept.
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.link_id


class SimulatedPayment(models.Model):
    """One payment attempt: what TrueLayer creates each time the payer presses "Pay now"."""

    payment_id = models.CharField(primary_key=True, max_length=64)
    link = models.ForeignKey(SimulatedLink, on_delete=models.CASCADE, related_name="payments")
    status = models.CharField(max_length=32, default=AUTHORIZATION_REQUIRED)
    provider_id = models.CharField(max_length=64, blank=True, default="")
    failure_stage = models.CharField(max_length=32, blank=True, default="")
    failure_reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # Facts about the settlement, not steps of the status line: a timestamp is the flag.
    creditable_at = models.DateTimeField(null=True, blank=True)
    settlement_stalled_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_reason = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["created_at", "payment_id"]

    def __str__(self) -> str:
        return self.payment_id


class SimulatedWebhook(models.Model):
    """One event the simulator produced for a link, and what became of it: delivered (with the
    dashboard's answer), lost on purpose, held back to be delivered out of order, or answered
    with an error and kept to be sent again (TrueLayer retries anything but 2xx)."""

    DELIVERED = "delivered"
    LOST = "lost"
    HELD = "held"
    RETRY = "retry"
    PENDING = (HELD, RETRY)  # sent with the next action, or by "Deliver held webhooks now"

    link = models.ForeignKey(SimulatedLink, on_delete=models.CASCADE, related_name="webhooks")
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=64)
    body = models.JSONField()
    outcome = models.CharField(max_length=16)
    response_status = models.IntegerField(null=True, blank=True)
    response_message = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.outcome})"


class SimulatedRefund(models.Model):
    """A refund of a successful attempt (`POST /v3/payments/{id}/refunds`); the merchant
    executes or fails it on the simulator's page, which sends the webhook."""

    PENDING = "pending"
    EXECUTED = "executed"
    FAILED = "failed"

    refund_id = models.CharField(primary_key=True, max_length=64)
    payment = models.ForeignKey(SimulatedPayment, on_delete=models.CASCADE, related_name="refunds")
    idempotency_key = models.CharField(max_length=128, unique=True)
    request_body = models.TextField()  # the exact bytes, to detect an Idempotency-Key reuse
    amount_in_minor = models.IntegerField()
    reference = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, default=PENDING)
    failure_reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "refund_id"]

    def __str__(self) -> str:
        return self.refund_id
