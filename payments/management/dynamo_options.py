"""The DynamoDB options the admin commands share (`--endpoint-url`, `--table`, `--meta-table`)
and the data-layer handle they name: `init_dynamodb`, `index_search`, `backfill_row_facts`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from payments import dynamo
from payments.dynamo import Dynamo


def add_dynamo_options(parser: CommandParser) -> None:
    parser.add_argument(
        "--table",
        default=None,
        help=f"Payments table name (default: DYNAMODB_TABLE, now {settings.DYNAMODB_TABLE!r}).",
    )
    parser.add_argument(
        "--meta-table",
        default=None,
        help="Statistics/events table name (default: DYNAMODB_META_TABLE, now "
        f"{settings.DYNAMODB_META_TABLE!r}; with --table alone, <table>Meta).",
    )
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help="DynamoDB endpoint, e.g. http://127.0.0.1:8765 for DynamoDB Local (default: "
        "DYNAMODB_ENDPOINT_URL; unset means AWS DynamoDB in AWS_REGION).",
    )


def dynamo_from_options(options: Mapping[str, Any]) -> Dynamo:
    """The handle `add_dynamo_options`' values name (settings for what they leave out)."""
    overrides: dict[str, Any] = {}
    if options["endpoint_url"]:
        overrides["endpoint_url"] = options["endpoint_url"]
    if options["table"]:
        overrides["table"] = options["table"]
        overrides["meta_table"] = options["meta_table"] or f"{options['table']}Meta"
    if options["meta_table"]:
        overrides["meta_table"] = options["meta_table"]
    return dynamo.dynamo_from_settings(**overrides)
