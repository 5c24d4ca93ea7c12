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

ALICE = "auth0|alice0000000000000001"
BOB = "auth0|bob00000000000000000002"


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
        if statuses and statuses[i % len(statuses)] != PaymentStatus.PENDING:
            update = dynamo.payment_status_update(
                repo,
                user_id=user_id,
                payment_id=payment.payment_id,
                status=statuses[i % len(statuses)],
                source="test",
            )
            assert update.payment is not None
            payment = update.payment
        made.append(payment)
    return made
