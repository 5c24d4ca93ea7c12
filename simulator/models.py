"""The simulator's fake TrueLayer state: payment links and the payments made through them.

Kept in Django's own database (never in DynamoDB: that holds only our payments)."""

from __future__ import annotations

from django.db import models


class SimulatedLink(models.Model):
    link_id = models.CharField(primary_key=True, max_length=64)
    idempotency_key = models.CharField(max_length=128, unique=True)
    # The exact bytes TrueLayer would have received (JSON), to detect an Idempotency-Key reuse.
    request_body = models.TextField()
    status = models.CharField(max_length=16, default="enabled")
    disablement_reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.link_id


class SimulatedPayment(models.Model):
    payment_id = models.CharField(primary_key=True, max_length=64)
    link = models.ForeignKey(SimulatedLink, on_delete=models.CASCADE, related_name="payments")
    status = models.CharField(max_length=32, default="authorization_required")
    failure_stage = models.CharField(max_length=32, blank=True, default="")
    failure_reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.payment_id
