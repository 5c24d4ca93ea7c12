"""Creating and checking the tables (`python manage.py init_dynamodb`), from `schema`'s specs."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from payments.dynamo.client import Dynamo, TableExists, get_item, translate_errors
from payments.dynamo.items import serialize
from payments.dynamo.schema import META_TABLE, PAYMENTS_TABLE, TableSpec
from payments.errors import RepositoryError, TableMissing

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableReport:
    table: str
    created: bool
    problems: list[str]
    notes: list[str]


def tables_ensure(
    db: Dynamo, *, wait_seconds: float = 300, drop_retired: bool = True
) -> list[TableReport]:
    """Create missing tables and indexes (on-demand), wait until all are ACTIVE, and report
    how existing ones differ from what this code expects. Indexes an earlier version used and
    this one replaced (`TableSpec.retired_indexes`) are deleted after their replacements are
    ACTIVE, unless `drop_retired` is False (a rolling deploy whose old servers still query
    them: run again without it once they are gone). Control-plane calls go through
    `db.admin` (longer timeouts than data-plane calls); a CreateTable that botocore retried
    after a lost answer finds its own table and carries on."""
    return [
        _ensure_table(db, db.table, PAYMENTS_TABLE, wait_seconds, drop_retired),
        _ensure_table(db, db.meta_table, META_TABLE, wait_seconds, drop_retired),
    ]


def tables_ping(db: Dynamo) -> None:
    """Both tables answer a read (the health check): a GetItem of a key that never exists —
    the app's IAM policy allows it, and it proves credentials, tables and network. Raises
    `payments.errors` exceptions."""
    for table, key in (
        (db.table, {"userId": "healthz", "paymentId": "healthz"}),
        (db.meta_table, {"pk": "HEALTHZ", "sk": "-"}),
    ):
        get_item(db, None, table=table, key=serialize(key))


def tables_drop(db: Dynamo) -> None:
    """Delete both tables (test and benchmark clean-up)."""
    for name in (db.table, db.meta_table):
        with translate_errors():
            db.admin.delete_table(TableName=name)


def _ensure_table(
    db: Dynamo, name: str, spec: TableSpec, wait_seconds: float, drop_retired: bool
) -> TableReport:
    existing = _describe(db, name)
    if existing is not None:
        if spec.keys_conflict(existing):
            # A table or index of ours with other keys needs a person's migration (see the
            # README): report everything and change nothing, not even the missing indexes.
            problems, notes = spec.differences(_wait_active(db, name, wait_seconds))
            return TableReport(name, False, problems, notes)
        changed = _add_missing_indexes(db, name, spec, wait_seconds)
        if drop_retired:
            changed += _drop_retired_indexes(db, name, spec, wait_seconds)
        problems, notes = spec.differences(_wait_active(db, name, wait_seconds))
        return TableReport(name, False, problems, [*changed, *notes])
    try:
        with translate_errors():
            db.admin.create_table(**spec.create_table_kwargs(name))
    except TableExists:
        # Another `init_dynamodb` got there first, or botocore retried our CreateTable after a
        # timeout and the first attempt had worked: finish the set-up, then check the table.
        logger.info("Table %s was created meanwhile; checking it", name)
        raced = True
    else:
        raced = False
    description = _wait_active(db, name, wait_seconds)
    if spec.ttl_attribute:
        _enable_ttl(db, name, spec.ttl_attribute)  # an already enabled TTL is only logged
    if spec.point_in_time_recovery:
        _enable_point_in_time_recovery(db, name)
    if raced:
        problems, notes = spec.differences(description)
        return TableReport(name, False, problems, notes)
    return TableReport(name, True, [], [])


def _add_missing_indexes(db: Dynamo, name: str, spec: TableSpec, wait_seconds: float) -> list[str]:
    """Create the indexes a newer version of the code added (e.g. OpenIndex), one at a time as
    DynamoDB requires, waiting for each to backfill. Existing indexes are never changed."""
    added: list[str] = []
    description = _wait_active(db, name, wait_seconds)
    present = {i["IndexName"] for i in description.get("GlobalSecondaryIndexes", [])}
    wanted = spec.create_table_kwargs(name)
    for index in wanted.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in present:
            continue
        keys = {k["AttributeName"] for k in index["KeySchema"]}
        with translate_errors():
            db.admin.update_table(
                TableName=name,
                AttributeDefinitions=[
                    a for a in wanted["AttributeDefinitions"] if a["AttributeName"] in keys
                ],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )
        _wait_active(db, name, wait_seconds)
        added.append(f"created index {index['IndexName']} (the code added it)")
    return added


def _drop_retired_indexes(db: Dynamo, name: str, spec: TableSpec, wait_seconds: float) -> list[str]:
    """Delete the indexes this code replaced (new projections need new indexes), one at a time
    as DynamoDB requires; called after the replacements are ACTIVE. Unknown indexes (someone
    else's) are only reported, never deleted."""
    dropped: list[str] = []
    description = _wait_active(db, name, wait_seconds)
    present = {i["IndexName"] for i in description.get("GlobalSecondaryIndexes", [])}
    for index in spec.retired_indexes:
        if index not in present:
            continue
        with translate_errors():
            db.admin.update_table(
                TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index}}]
            )
        _wait_active(db, name, wait_seconds)  # until the index has gone
        dropped.append(f"deleted retired index {index} (replaced by a leaner one)")
    return dropped


def _describe(db: Dynamo, name: str) -> dict[str, Any] | None:
    try:
        with translate_errors():
            return dict(db.admin.describe_table(TableName=name)["Table"])
    except TableMissing:
        return None


def _wait_active(db: Dynamo, name: str, wait_seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait_seconds
    while True:
        description = _describe(db, name)
        if description is None:
            raise TableMissing(f"Table {name} disappeared while waiting for it to become ACTIVE.")
        indexes = description.get("GlobalSecondaryIndexes", [])
        if description.get("TableStatus") == "ACTIVE" and all(
            i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes
        ):
            return description
        if time.monotonic() > deadline:
            raise RepositoryError(f"Table {name} was not ACTIVE after {wait_seconds:.0f} s.")
        time.sleep(1)


def _enable_ttl(db: Dynamo, name: str, attribute: str) -> None:
    try:
        db.admin.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
        )
    except ClientError as error:  # some local engines do not implement TTL
        logger.info("TTL not enabled on %s: %s", name, error)


def _enable_point_in_time_recovery(db: Dynamo, name: str) -> None:
    """Continuous backups (restore to any second of the last 35 days): payments are money."""
    try:
        db.client.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    except ClientError as error:  # DynamoDB Local has no backups
        logger.info("Point-in-time recovery not enabled on %s: %s", name, error)
