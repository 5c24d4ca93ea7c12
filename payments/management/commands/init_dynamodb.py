"""`python manage.py init_dynamodb`: create the payments tables and indexes, or check them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments import dynamo
from payments.errors import RepositoryError
from payments.management.dynamo_options import add_dynamo_options, dynamo_from_options


class Command(BaseCommand):
    help = (
        "Create the DynamoDB tables and global secondary indexes the dashboard needs (on-demand "
        "billing) and wait until they are ACTIVE. Run again, it checks that existing tables "
        "match what the code expects and exits non-zero, naming each difference, if they don't."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_dynamo_options(parser)
        parser.add_argument(
            "--wait",
            type=int,
            default=300,
            help="Seconds to wait for new tables and indexes to become ACTIVE (default 300).",
        )
        parser.add_argument(
            "--keep-retired-indexes",
            action="store_true",
            help="Leave indexes this version replaced in place (during a rolling deploy, while "
            "servers of the previous version still query them); run again without it later.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        db = dynamo_from_options(options)
        self.stdout.write(
            f"DynamoDB endpoint: {db.endpoint}\n"
            f"Region:            {db.region}\n"
            f"Tables:            {db.table}, {db.meta_table}"
        )
        try:
            reports = dynamo.tables_ensure(
                db,
                wait_seconds=options["wait"],
                drop_retired=not options["keep_retired_indexes"],
            )
        except RepositoryError as error:
            raise CommandError(
                f"Cannot set up DynamoDB at {db.endpoint}: {error.message}"
            ) from None
        failed = False
        for report in reports:
            if report.created:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Created table {report.table}; it and its indexes are ACTIVE."
                    )
                )
            elif report.problems:
                failed = True
                self.stderr.write(
                    f"Table {report.table} exists but does not match what the code expects:"
                )
                for problem in report.problems:
                    self.stderr.write(f"  - {problem}")
            else:
                self.stdout.write(f"Table {report.table} exists; keys and indexes match.")
            for note in report.notes:
                self.stdout.write(f"  note: {note}")
        if failed:
            raise CommandError(
                "Schema mismatch: fix the table(s) above (an index's keys cannot be changed in "
                "place: delete and recreate that index, or point DYNAMODB_TABLE at a new table)."
            )
