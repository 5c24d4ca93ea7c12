"""Builders for test data: signed-in merchants and their payments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from social_django.models import UserSocialAuth

from payments import dynamo
from payments.domain import Payment, PaymentStatus
from payments.dynamo import Dynamo
from payments.lifecycle import AttemptSeen, AttemptStatus, LinkDisabled, Observation

ALICE = "auth0|alice0000000000000001"
BOB = "auth0|bob00000000000000000002"
T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)  # when a test's TrueLayer events happened


def merchant_user(merchant_id: str = ALICE, name: str = "Alice Merchant") -> Any:
    """A Django user whose Auth0 identity (the DynamoDB userId) is `merchant_id`."""
    user_model = get_user_model()
    first, _, last = name.partition(" ")
    user, _ = user_model.objects.get_or_create(
        username=merchant_id.replace("|", "_")[:150],
        defaults={"first_name": first, "last_name": last},
    )
    UserSocialAuth.objects.get_or_create(
        user=user, provider="auth0", uid=merchant_id, defaults={"extra_data": {"name": name}}
    )
    return user


def sign_in(client: Client, merchant_id: str = ALICE, name: str = "Alice Merchant") -> Any:
    """Sign `client` in as the merchant `merchant_id` (as the Auth0 callback would)."""
    user = merchant_user(merchant_id, name)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return user


def make_payments(
    repo: Dynamo,
    user_id: str = ALICE,
    n: int = 3,
    *,
    start: datetime | None = None,
    step: timedelta = timedelta(hours=1),
    currencies: tuple[str, ...] = ("GBP",),
    statuses: tuple[PaymentStatus, ...] = (),
    amount: Decimal = Decimal("10.00"),
    reference: str = "INV {i}",
) -> list[Payment]:
    """`n` payments, one every `step` from `start` (oldest first); amount grows by 1 each.
    With `statuses`, payment i is moved to statuses[i % len(statuses)]."""
    start = start or datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    made: list[Payment] = []
    for i in range(n):
        payment = dynamo.payment_create(
            repo,
            user_id=user_id,
            amount=amount + i,
            currency=currencies[i % len(currencies)],
            reference=reference.format(i=i),
            now=start + step * i,
        )
        if statuses:
            payment = reach(repo, payment, statuses[i % len(statuses)])
        made.append(payment)
    return made


def observations_for(
    payment: Payment, status: PaymentStatus, *, at: datetime | None = None, failure_reason: str = ""
) -> list[Observation]:
    """What TrueLayer would tell us for a payment to show `status`: its one attempt
    (`tl-<payment id>`) and, where the status needs it, the link closing."""
    at = at or datetime.now(UTC)
    attempt = f"tl-{payment.payment_id}"
    a = AttemptStatus
    steps: dict[PaymentStatus, list[Observation]] = {
        PaymentStatus.PENDING: [],
        PaymentStatus.AUTHORIZATION_REQUIRED: [AttemptSeen(attempt, a.AUTHORIZATION_REQUIRED, at)],
        PaymentStatus.AUTHORIZING: [AttemptSeen(attempt, a.AUTHORIZING, at)],
        PaymentStatus.AUTHORIZED: [AttemptSeen(attempt, a.AUTHORIZED, at)],
        PaymentStatus.ATTEMPT_FAILED: [
            AttemptSeen(attempt, a.FAILED, at, failure_reason=failure_reason)
        ],
        PaymentStatus.EXECUTED: [AttemptSeen(attempt, a.EXECUTED, at)],
        PaymentStatus.SETTLED: [AttemptSeen(attempt, a.SETTLED, at)],
        PaymentStatus.FAILED: [
            AttemptSeen(
                attempt, a.FAILED, at, failure_stage="authorizing", failure_reason=failure_reason
            ),
            LinkDisabled("expired", at),
        ],
        PaymentStatus.EXPIRED: [LinkDisabled("expired", at)],
        PaymentStatus.REVERSED: [
            AttemptSeen(attempt, a.SETTLED, at),
            AttemptSeen(attempt, a.REVERSED, at),
        ],
    }
    return steps[status]


def reach(
    repo: Dynamo, payment: Payment, status: PaymentStatus, *, failure_reason: str = ""
) -> Payment:
    """`payment` moved to `status` through the real lifecycle write (`payment_observe`)."""
    for observation in observations_for(payment, status, failure_reason=failure_reason):
        dynamo.payment_observe(
            repo,
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            observation=observation,
            source="test",
        )
    stored = dynamo.payment_get(repo, user_id=payment.user_id, payment_id=payment.payment_id)
    assert stored is not None and stored.status is status, (stored and stored.status, status)
    return stored
