"""Row facts for payments stored before them: `python manage.py backfill_row_facts`.

Every lifecycle write stores a payment's row facts (`RowFacts`: settlement, refund count and
sums) beside its lifecycle, and the list indexes project only those. A payment written by an
earlier version has none until its next lifecycle write; until then a list page reads its
lifecycle for them (`listing.payment_rows`, one BatchGetItem per page). During a rolling
deploy a server of the earlier version may also change a lifecycle without its facts. This
backfill checks every payment's stored facts against its lifecycle and writes those that are
missing or differ, so no page pays that read again and no row is left stale.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from payments.dynamo.client import (
    ConditionFailed,
    Dynamo,
    Metrics,
    RetryConflict,
    get_item,
    retry_on_conflict,
    scan_items,
    update_item,
)
from payments.dynamo.expressions import Expr
from payments.dynamo.items import deserialize, payment_key
from payments.dynamo.lifecycle_items import (
    LIFECYCLE_SOURCE_ATTRIBUTES,
    item_lifecycle,
    item_row_facts,
    row_facts_to_item,
)
from payments.dynamo.schema import ROW_FACTS


@dataclass(frozen=True)
class RowFactsReport:
    scanned: int  # payments read by the Scan
    written: int  # of which given their row facts here (missing, or not those of the lifecycle)


def row_facts_backfill(db: Dynamo, *, metrics: Metrics | None = None) -> RowFactsReport:
    """Store the row facts of every payment whose stored facts are missing or are not those of
    its lifecycle (one Scan, then one conditional UpdateItem each). Safe beside live traffic:
    a write conditions on the version read, and a payment another write changed meanwhile is
    read again. Idempotent: a second run writes nothing. (A Scan is charged for every item it
    reads, filtered or not, so checking them all costs what finding the missing ones would.)"""
    scanned = written = 0
    for item in _scan(db, metrics):
        scanned += 1
        if _out_of_step(item) and store_row_facts(db, metrics, item):
            written += 1
    return RowFactsReport(scanned, written)


def _out_of_step(item: Mapping[str, Any]) -> bool:
    return item_row_facts(item) != item_lifecycle(item).row_facts


def _scan(db: Dynamo, metrics: Metrics | None) -> Iterator[dict[str, Any]]:
    expr = Expr()
    names = (*LIFECYCLE_SOURCE_ATTRIBUTES, ROW_FACTS, "version")
    projection = ", ".join(expr.name(n) for n in names)
    return scan_items(db, metrics, ProjectionExpression=projection, **expr.kwargs())


def store_row_facts(db: Dynamo, metrics: Metrics | None, first: Mapping[str, Any]) -> bool:
    """Store the row facts of the payment item `first` (read with at least the keys,
    `LIFECYCLE_SOURCE_ATTRIBUTES` and `version`), conditioned on its version; a payment
    changed since is read again. Whether this call wrote them (False: the payment is gone, or
    a write since left its facts in step)."""
    key = payment_key(str(first["userId"]), str(first["paymentId"]))
    item = first

    def cycle() -> bool:
        nonlocal item
        expr = Expr()
        sets = expr.assignments(row_facts_to_item(item_lifecycle(item).row_facts))
        version = expr.name("version")
        read = int(item.get("version", 0))
        condition = " AND ".join(
            [
                f"attribute_exists({expr.name('paymentId')})",
                f"{version} = {expr.value(read)}" if read else f"attribute_not_exists({version})",
            ]
        )
        try:
            update_item(
                db,
                metrics,
                key=key,
                update="SET " + ", ".join(sets),
                condition=condition,
                attributes=expr.kwargs(),
                return_new=False,
            )
        except ConditionFailed:
            raw = get_item(db, metrics, table=db.table, key=key)
            if raw is None or not _out_of_step(now := deserialize(raw)):
                return False
            item = now
            raise RetryConflict() from None
        return True

    return retry_on_conflict(cycle)
