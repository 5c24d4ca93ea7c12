"""`python manage.py backfill_row_facts`: store the row facts of payments stored before them."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments import dynamo
from payments.errors import RepositoryError
from payments.management.dynamo_options import add_dynamo_options, dynamo_from_options


class Command(BaseCommand):
    help = (
        "Store the row facts (winning attempt's settlement, refund count and sums) of every "
        "payment whose facts are missing (written before they existed) or not those of its "
        "lifecycle (changed by a server of an earlier version during a rolling deploy), so list "
        "pages read them from the list indexes. Safe while the app runs; idempotent (a second "
        "run writes nothing). It reads the whole table (a Scan), so run it with the deploy role "
        "(InitDynamoDBPolicy), not from the app."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_dynamo_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        db = dynamo_from_options(options)
        self.stdout.write(f"Checking the row facts of the payments of {db.table}…")
        started = time.monotonic()
        try:
            report = dynamo.row_facts_backfill(db)
        except RepositoryError as error:
            raise CommandError(
                f"Cannot store row facts at {db.endpoint}: {error.message} (the payments done "
                "so far keep theirs; run the command again to finish)."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Stored the row facts of {report.written:,} of {report.scanned:,} payment"
                f"{'s' if report.scanned != 1 else ''} (missing or out of step) in "
                f"{time.monotonic() - started:.1f} s."
            )
        )
