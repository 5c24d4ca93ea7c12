"""`python manage.py parked_events`: webhook events still waiting for their payment."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments import dynamo
from payments.domain import utc_now
from payments.errors import RepositoryError


class Command(BaseCommand):
    help = (
        "List the TrueLayer webhook events that name a link or payment this product does not "
        "know (yet), with counts by type. Events for our own payments are applied as soon as "
        "the payment is known; what stays here is usually about payments made outside this "
        "product. They expire after 14 days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--details", action="store_true", help="Also list each event (newest first)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            parked = dynamo.parked_list(dynamo.get_dynamo(), now=utc_now())
        except RepositoryError as error:
            raise CommandError(f"DynamoDB: {error.message}") from None
        if not parked:
            self.stdout.write("No parked webhook events.")
            return
        self.stdout.write(f"{len(parked)} parked webhook event(s):")
        for event_type, number in Counter(p.event_type for p in parked).most_common():
            self.stdout.write(f"  {number:6d}  {event_type}")
        if options["details"]:
            for p in parked:
                self.stdout.write(
                    f"  {p.received_at:%Y-%m-%d %H:%M:%S}Z  {p.event_type:32s} {p.target}  "
                    f"{p.event_id}"
                )
