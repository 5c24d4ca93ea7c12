"""Payment writes that combine the DynamoDB data layer (`payments.dynamo`) with TrueLayer, one
module per flow:

- `creation`: a payment and its payment link (`payment_create`, `payment_retry_link`);
- `webhooks`: TrueLayer's events, verified, applied once or parked (`webhook_receive`);
- `refunds`: a refund under the over-refund guard, sent to TrueLayer (`refund_create`,
  `refund_retry`);
- `refresh`: asking TrueLayer instead of waiting for it (`payment_refresh_status`, and
  `payments_reconcile` behind `manage.py reconcile_payments`).

Every status change goes through `payments.lifecycle` (the rules) and
`payments.dynamo.payment_observe` (the one conditional write), whoever learned it.
"""

from __future__ import annotations

from payments.services.creation import payment_create, payment_retry_link
from payments.services.errors import PaymentNotFound
from payments.services.refresh import (
    RECONCILIATION_SOURCE,
    REFRESH_SOURCE,
    ReconcileReport,
    Refreshed,
    payment_refresh_status,
    payments_reconcile,
)
from payments.services.refunds import RefundResult, refund_create, refund_retry
from payments.services.webhooks import WebhookResult, drain_parked, event_apply, webhook_receive

__all__ = [
    "RECONCILIATION_SOURCE",
    "REFRESH_SOURCE",
    "PaymentNotFound",
    "ReconcileReport",
    "RefundResult",
    "Refreshed",
    "WebhookResult",
    "drain_parked",
    "event_apply",
    "payment_create",
    "payment_refresh_status",
    "payment_retry_link",
    "payments_reconcile",
    "refund_create",
    "refund_retry",
    "webhook_receive",
]
