"""`python manage.py index_search`: write the search tokens of payments stored before them."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments import dynamo
from payments.errors import RepositoryError
from payments.management.dynamo_options import add_dynamo_options, dynamo_from_options


class Command(BaseCommand):
    help = (
        "Write the search-index entries (reference words, payer, email, short id, amount) of "
        "every payment in the payments table. New payments get theirs when they are created; "
        "run this once for payments stored before the search index existed. Idempotent: "
        "running it again writes the same entries. It reads the whole table (a Scan), so run "
        "it with the deploy role (InitDynamoDBPolicy), not from the app."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_dynamo_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        db = dynamo_from_options(options)
        self.stdout.write(f"Indexing the payments of {db.table} into {db.meta_table}…")
        started = time.monotonic()
        try:
            report = dynamo.search_backfill(db)
        except RepositoryError as error:
            raise CommandError(f"Cannot index payments at {db.endpoint}: {error.message}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {report.payments} payment{'s' if report.payments != 1 else ''} "
                f"({report.entries} search entries) in {time.monotonic() - started:.1f} s."
            )
        )
