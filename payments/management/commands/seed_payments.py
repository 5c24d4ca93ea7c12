"""`python manage.py seed_payments`: demo payments for one merchant, made the way real ones are.

Each payment is created by `services.payment_create` (stored, counted in the statistics, its
link made by the simulator as TrueLayer would make it), then what its payer did arrives as the
observations TrueLayer's webhooks carry, with the webhook's source. Every time in a story comes
after the one before it and none is in the future: the attempt starts after the link is made,
the link closes when the payment is executed, or 24 h after it was made when nobody paid. A
story that would end in the future stops at the step it has reached by now (so a payment made
an hour ago can still be open).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from devtools.bulk_load import BulkWriter
from payments import dynamo, services
from payments.domain import Payment, utc_now
from payments.errors import RepositoryError
from payments.lifecycle import AttemptSeen, AttemptStatus, LinkDisabled, Observation
from payments.services.webhooks import WEBHOOK_SOURCE
from payments.truelayer.provider import DEFAULT_LINK_LIFETIME

_A = AttemptStatus
# What the payers did, roughly as a live merchant's would: each story is a list of steps, an
# attempt status (a new attempt when it starts again at authorization_required) or the link
# closing ("fulfilled" / "expired").
_STORIES: list[tuple[AttemptStatus | str, ...]] = [
    ("expired",),
    (_A.AUTHORIZATION_REQUIRED, _A.AUTHORIZING, _A.EXECUTED, "fulfilled", _A.SETTLED),
    (_A.AUTHORIZATION_REQUIRED, _A.EXECUTED, "fulfilled", _A.SETTLED),
    (_A.AUTHORIZATION_REQUIRED, _A.AUTHORIZED, _A.EXECUTED, "fulfilled", _A.SETTLED),
    (_A.AUTHORIZATION_REQUIRED, _A.AUTHORIZED, _A.EXECUTED, "fulfilled", _A.SETTLED),
    (_A.AUTHORIZATION_REQUIRED, _A.EXECUTED, "fulfilled"),
    (_A.AUTHORIZATION_REQUIRED, _A.FAILED, "expired"),
    (_A.AUTHORIZATION_REQUIRED, _A.FAILED, _A.AUTHORIZATION_REQUIRED, _A.EXECUTED, "fulfilled"),
    (_A.AUTHORIZATION_REQUIRED, _A.AUTHORIZING, _A.FAILED, "expired"),
]
# Payments written per bulk send.
_BATCH = 250
_FAILURES = ["authorization_failed", "provider_rejected", "user_canceled_at_provider", "expired"]
_PAYERS = [
    ("Amelia Hughes", "amelia.hughes@example.com"),
    ("Oliver Bennett", "oliver@bennett-joinery.example"),
    ("Siobhán O'Connor", "siobhan.oconnor@example.ie"),
    ("Zoë Müller", "zoe.mueller@example.de"),
    ("Raj Patel", "raj.patel@example.co.uk"),
    ("Chloé Dubois", "chloe.dubois@example.fr"),
    ("", ""),  # a link sent without naming the payer
]
# The webhook TrueLayer sends for each step (what a real payment's timeline says).
_EVENTS = {
    _A.AUTHORIZATION_REQUIRED: "payment_link_payment_created",
    _A.AUTHORIZING: "payment_authorizing",
    _A.AUTHORIZED: "payment_authorized",
    _A.EXECUTED: "payment_executed",
    _A.SETTLED: "payment_settled",
    _A.FAILED: "payment_failed",
}


@dataclass(frozen=True)
class _Step:
    at: datetime
    observation: Observation
    event: str


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
        if settings.TRUELAYER_MODE != "simulator":
            raise CommandError(
                "Demo payments get their links from the payment simulator, never from TrueLayer: "
                "run with DJANGO_DEBUG=1 and no TRUELAYER_* settings (as `make seed` does)."
            )
        rng = random.Random(options["seed"])
        db = dynamo.get_dynamo()
        now = utc_now()
        user_id = options["user"]
        count = options["count"]
        # Every random choice is drawn first, in order, so `--seed` repeats the same data.
        plans = [_plan(rng, i, now, options["days"]) for i in range(count)]
        # Oldest first: a batch then touches a few days' statistics items, not every day's.
        plans.sort(key=lambda plan: plan.created)
        started = time.monotonic()
        # The services write into memory; each batch of payments is then sent in bulk
        # (devtools/bulk_load.py): the same items as one request per step, in ~1/10 the requests.
        done = 0
        try:
            with BulkWriter(db) as writer:
                for first in range(0, count, _BATCH):
                    # One commit for the batch's simulator links (Django's database).
                    with transaction.atomic():
                        for plan in plans[first : first + _BATCH]:
                            _make(writer.db, user_id, plan, now)
                            writer.payment_done()
                    writer.flush()  # sent while the next batch is made
                    done = first
                    if first:
                        self.stdout.write(f"  {first} of {count} ...")
        except RepositoryError as error:
            raise CommandError(
                f"{error.message} At least {done} demo payments were written; some of the "
                "others may have been written in part."
            ) from None
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {count} demo payments for {user_id} in {db.table} ({seconds:.1f} s, "
                f"{writer.requests:,} DynamoDB requests)."
            )
        )


@dataclass(frozen=True)
class _Plan:
    """One demo payment, decided in advance: what is created, and the payer's story."""

    number: int
    created: datetime
    amount: Decimal
    currency: str
    reference: str
    payer: tuple[str, str]
    rng_seed: int


def _plan(rng: random.Random, number: int, now: datetime, days: int) -> _Plan:
    return _Plan(
        number=number,
        created=now - timedelta(seconds=rng.randint(60, days * 86400)),
        amount=Decimal(rng.choice([500, 1250, 1999, 4500, 12000, 25])) / 100 + rng.randint(0, 20),
        currency=rng.choice(["GBP", "GBP", "GBP", "EUR"]),
        reference=f"{rng.choice(['INV', 'ORDER', 'SUB'])}-{1000 + number}",
        payer=rng.choice(_PAYERS),
        rng_seed=rng.getrandbits(32),
    )


def _make(db: dynamo.Dynamo, user_id: str, plan: _Plan, now: datetime) -> None:
    """Create one payment through the service, then apply its story."""
    payment = services.payment_create(
        user_id=user_id,
        amount=plan.amount,
        currency=plan.currency,
        reference=plan.reference,
        payer_name=plan.payer[0],
        payer_email=plan.payer[1],
        # TrueLayer's default, stated so the payment page shows when it closes.
        expires_at=plan.created + DEFAULT_LINK_LIFETIME,
        db=db,
        now=plan.created,
    )
    for step in _story(random.Random(plan.rng_seed), payment, now):
        dynamo.payment_observe(
            db,
            user_id=user_id,
            payment_id=payment.payment_id,
            observation=step.observation,
            source=f"{WEBHOOK_SOURCE} ({step.event})",
            now=step.at,
        )


def _story(rng: random.Random, payment: Payment, now: datetime) -> list[_Step]:
    """The steps of one payment, each after the one before, the link expiring at its own
    expiry; cut at `now`, so nothing has happened yet that lies in the future."""
    created = payment.created_at
    expires = payment.expires_at or created + DEFAULT_LINK_LIFETIME
    at = created
    attempt = 0
    attempt_id = ""
    steps: list[_Step] = []
    for step in rng.choice(_STORIES):
        if step == "expired":
            at = max(at, expires)
            seen: Observation = LinkDisabled("expired", at)
            event = "payment_link_disabled"
        elif step == "fulfilled":
            seen = LinkDisabled("fulfilled", at)  # the moment the winning attempt executed
            event = "payment_link_disabled"
        else:
            assert isinstance(step, AttemptStatus)
            if step is _A.AUTHORIZATION_REQUIRED:
                # The payer opens the link minutes (or hours) after it was sent.
                at += timedelta(seconds=rng.randint(60, 4 * 3600))
                attempt += 1
                attempt_id = f"sim-pay-{payment.payment_id.lower()}-{attempt}"
            else:
                at += timedelta(seconds=rng.randint(10, 180))
            failed = step is _A.FAILED
            seen = AttemptSeen(
                attempt_id,
                step,
                at,
                created_at=at if step is _A.AUTHORIZATION_REQUIRED else None,
                failure_stage="authorizing" if failed else "",
                failure_reason=rng.choice(_FAILURES) if failed else "",
                provider_id="ob-sandbox-natwest",
            )
            event = _EVENTS[step]
        if at > expires and step != "expired":
            # The link closed first: an attempt still under way fails as TrueLayer's do.
            if expires <= now:
                steps += _expiry(attempt_id, steps, expires)
            break
        if at > now:
            break  # has not happened yet
        steps.append(_Step(at, seen, event))
    return steps


def _expiry(attempt_id: str, steps: list[_Step], at: datetime) -> list[_Step]:
    """The link expiring at `at` (and the attempt under way, if any, failing with it)."""
    closing: list[_Step] = []
    last = steps[-1].observation if steps else None
    if isinstance(last, AttemptSeen) and last.status not in (_A.FAILED, _A.EXECUTED, _A.SETTLED):
        failed = AttemptSeen(
            attempt_id, _A.FAILED, at, failure_stage=last.status.value, failure_reason="expired"
        )
        closing.append(_Step(at, failed, _EVENTS[_A.FAILED]))
    if isinstance(last, LinkDisabled):
        return closing  # already closed (fulfilled)
    closing.append(_Step(at, LinkDisabled("expired", at), "payment_link_disabled"))
    return closing
