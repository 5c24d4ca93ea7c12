"""`python manage.py reconcile_payments`: correct stale statuses from TrueLayer."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments.errors import RepositoryError
from payments.services import payments_reconcile
from payments.truelayer.client import TrueLayerError


class Command(BaseCommand):
    help = (
        "Ask TrueLayer about every open payment whose status should have moved by now (not "
        "updated for RECONCILE_STALE_AFTER_MINUTES, or its link past expires_at) and apply what "
        "it says, with a timeline entry 'corrected from TrueLayer'. Reads only the open payments "
        "that are due, never the history. Safe to run on several servers at once. Exit 0 when "
        "done; 1 with one line when TrueLayer or DynamoDB cannot be reached."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit",
            type=int,
            default=1000,
            help="Check at most this many payments in this run (default 1000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1.")

        def say(payment_id: str, change: str) -> None:
            self.stdout.write(f"  {payment_id}: {change}")

        try:
            report = payments_reconcile(limit=options["limit"], on_change=say)
        except RepositoryError as error:
            raise CommandError(f"DynamoDB: {error.message}") from None
        except TrueLayerError as error:
            raise CommandError(f"TrueLayer cannot be reached: {error.title}") from None
        changed = len({payment_id for payment_id, _ in report.changed})
        self.stdout.write(
            f"Checked {report.checked} open payment(s) with TrueLayer; {changed} corrected"
            + (f"; {report.busy} being checked by another server" if report.busy else "")
            + (f"; {len(report.missing)} unknown to TrueLayer" if report.missing else "")
            + "."
        )
        if report.unreachable:
            raise CommandError(
                f"TrueLayer cannot be reached: no answer for {len(report.unreachable)} "
                "payment(s); they will be checked again on the next run."
            )
