"""`python manage.py seed_payments`: demo payments for one merchant, through the real write path."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments import dynamo
from payments.domain import utc_now
from payments.errors import RepositoryError
from payments.lifecycle import AttemptSeen, AttemptStatus, LinkDisabled, Observation

_A = AttemptStatus
# What the payers did, roughly as a live merchant's would: each story is a list of steps, an
# attempt status (new attempt when it starts again at authorization_required) or the link
# closing ("fulfilled" / "expired").
_STORIES: list[tuple[AttemptStatus | str, ...]] = [
    (),
    (_A.AUTHORIZATION_REQUIRED, _A.AUTHORIZING, _A.EXECUTED, "fulfilled"),
    (_A.AUTHORIZATION_REQUIRED, _A.EXECUTED, "fulfilled", _A.SETTLED),
    (_A.AUTHORIZATION_REQUIRED, _A.AUTHORIZED, _A.EXECUTED, "fulfilled", _A.SETTLED),
    (_A.AUTHORIZATION_REQUIRED, _A.FAILED),
    (_A.AUTHORIZATION_REQUIRED, _A.FAILED, _A.AUTHORIZATION_REQUIRED, _A.EXECUTED, "fulfilled"),
    (_A.AUTHORIZATION_REQUIRED, _A.FAILED, "expired"),
    ("expired",),
    (_A.AUTHORIZATION_REQUIRED, _A.AUTHORIZING),
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
                link_id = f"demo-link-{payment.payment_id}"
                dynamo.payment_link_set(
                    db,
                    user_id=user_id,
                    payment_id=payment.payment_id,
                    link_id=link_id,
                    link_url=f"https://payment.truelayer-sandbox.com/demo/{link_id}",
                    response={"id": link_id, "demo": True},
                )
                attempt = 0
                for offset, step in enumerate(rng.choice(_STORIES), start=1):
                    at = created + timedelta(seconds=20 * offset)
                    seen: Observation
                    if not isinstance(step, AttemptStatus):  # (a StrEnum is a str too)
                        seen = LinkDisabled(step, at)
                    else:
                        attempt += step is _A.AUTHORIZATION_REQUIRED
                        failed = step is _A.FAILED
                        seen = AttemptSeen(
                            f"demo-{payment.payment_id}-{attempt}",
                            step,
                            at,
                            created_at=at if step is _A.AUTHORIZATION_REQUIRED else None,
                            failure_stage="authorizing" if failed else "",
                            failure_reason=rng.choice(_FAILURES) if failed else "",
                            provider_id="ob-demo-bank",
                        )
                    dynamo.payment_observe(
                        db,
                        user_id=user_id,
                        payment_id=payment.payment_id,
                        observation=seen,
                        source="demo data",
                    )
        except RepositoryError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {options['count']} demo payments for {user_id} in {db.table}."
            )
        )
