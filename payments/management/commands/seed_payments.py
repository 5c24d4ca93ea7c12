"""`python manage.py seed_payments`: demo payments for one merchant, through the real write path."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments import dynamo
from payments.domain import PaymentStatus, utc_now
from payments.errors import RepositoryError

# Where demo payments end up, roughly as a live merchant's would.
_OUTCOMES = [
    (PaymentStatus.PENDING, ()),
    (PaymentStatus.EXECUTED, (PaymentStatus.AUTHORIZING, PaymentStatus.AUTHORIZED)),
    (PaymentStatus.SETTLED, (PaymentStatus.AUTHORIZING, PaymentStatus.EXECUTED)),
    (PaymentStatus.SETTLED, (PaymentStatus.AUTHORIZED, PaymentStatus.EXECUTED)),
    (PaymentStatus.FAILED, (PaymentStatus.AUTHORIZING,)),
    (PaymentStatus.EXPIRED, ()),
    (PaymentStatus.AUTHORIZING, ()),
]
_FAILURES = ["authorization_failed", "provider_rejected", "user_canceled_at_provider", "expired"]


class Command(BaseCommand):
    help = "Create demo payments for a merchant (their Auth0 sub, or a dev sign-in id)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user", required=True, help="merchant id, e.g. 'dev|alice' or 'auth0|65f0…'"
        )
        parser.add_argument("--count", type=int, default=60, help="how many payments (default 60)")
        parser.add_argument(
            "--days", type=int, default=45, help="spread over the last N days (default 45)"
        )
        parser.add_argument(
            "--seed", type=int, default=None, help="random seed for repeatable data"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["count"] < 1 or options["days"] < 1:
            raise CommandError("--count and --days must be at least 1.")
        rng = random.Random(options["seed"])
        db = dynamo.get_dynamo()
        now = utc_now()
        user_id = options["user"]
        try:
            for i in range(options["count"]):
                created = now - timedelta(seconds=rng.randint(0, options["days"] * 86400))
                payment = dynamo.payment_create(
                    db,
                    user_id=user_id,
                    amount=Decimal(rng.choice([500, 1250, 1999, 4500, 12000, 25])) / 100
                    + rng.randint(0, 20),
                    currency=rng.choice(["GBP", "GBP", "GBP", "EUR"]),
                    reference=f"{rng.choice(['INV', 'ORDER', 'SUB'])}-{1000 + i}",
                    now=created,
                )
                final, steps = rng.choice(_OUTCOMES)
                for offset, status in enumerate((*steps, final), start=1):
                    if status is PaymentStatus.PENDING:
                        continue
                    failed = status is PaymentStatus.FAILED
                    dynamo.payment_status_update(
                        db,
                        user_id=user_id,
                        payment_id=payment.payment_id,
                        status=status,
                        source="demo data",
                        at=created + timedelta(seconds=20 * offset),
                        failure_stage="authorizing" if failed else "",
                        failure_reason=rng.choice(_FAILURES) if failed else "",
                    )
        except RepositoryError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {options['count']} demo payments for {user_id} in {db.table}."
            )
        )
