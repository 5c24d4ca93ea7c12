"""`python manage.py rebuild_statistics`: the statistics aggregates, written again from the
payments (after a change of MERCHANT_TIME_ZONE, and once on upgrade to local-day aggregates)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from social_django.models import UserSocialAuth

from accounts.merchant import AUTH0_PROVIDER, DEV_PROVIDER
from accounts.models import MerchantAccount
from payments.dynamo import get_dynamo
from payments.dynamo.stats_rebuild import stats_rebuild
from payments.errors import RepositoryError
from payments.formatting import merchant_zone_name


class Command(BaseCommand):
    help = (
        "Write the statistics (day and month totals in MERCHANT_TIME_ZONE) again from the "
        "payments, and delete the ones that no longer apply (other days, the UTC hourly and "
        "daily items of versions before). Run it after changing MERCHANT_TIME_ZONE and once "
        "after upgrading, with the app stopped: a payment written meanwhile may be missed. "
        "Reads every payment of the merchants it rebuilds. --dry-run only reports what differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user",
            action="append",
            dest="users",
            metavar="MERCHANT_ID",
            help="only this merchant (their Auth0 sub, e.g. 'auth0|65f0…'); repeat for more. "
            "Default: every merchant account in Django's database (business and personal) and "
            "every identity that has signed in.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="compare the stored statistics with the payments and report, writing nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = options["users"]
        if users is not None and not all(u.strip() for u in users):
            raise CommandError("--user needs a merchant id, e.g. --user 'auth0|65f0c0ffee'.")
        if users is None:
            # Every merchant account (payments are keyed by its id), and every identity that
            # signed in before accounts existed: its personal account is made on its next visit,
            # but its payments are already keyed by its Auth0 sub.
            accounts = set(MerchantAccount.objects.values_list("id", flat=True))
            identities = set(
                UserSocialAuth.objects.filter(
                    provider__in=[AUTH0_PROVIDER, DEV_PROVIDER]
                ).values_list("uid", flat=True)
            )
            users = sorted(accounts | identities)
        dry_run = bool(options["dry_run"])
        try:
            report = stats_rebuild(get_dynamo(), user_ids=users, dry_run=dry_run)
        except RepositoryError as error:
            raise CommandError(f"DynamoDB: {error.message}") from None
        for user_id, periods in sorted(report.differing.items()):
            more = f" and {len(periods) - 6} more" if len(periods) > 6 else ""
            shown = ", ".join(periods[:6]) + more
            self.stdout.write(f"  {user_id}: {len(periods)} period(s) differed: {shown}")
        verb = "Would write" if dry_run else "Wrote"
        self.stdout.write(
            f"{verb} {report.written} statistics item(s) and "
            f"{'would delete' if dry_run else 'deleted'} {report.deleted} for "
            f"{report.merchants} merchant(s) and {report.payments} payment(s), "
            f"days in {merchant_zone_name()}."
        )
