#!/usr/bin/env python
"""Write units per create and per status change of a realistic payment, for this version's
indexes, the previous version's (six ALL-projection indexes) and the starting table's.

The payment goes through the real write path (`payments.dynamo`): created with a form token,
its link stored with TrueLayer's answer, a first attempt that fails, a second that is
authorised and executed, raw `GET /v3/payments/{id}` answers of real size kept, each status
by a webhook (so the webhook log grows); then the measured status change executed -> settled.
Units are computed from the items written (`payments.dynamo.write_units`): DynamoDB Local
reports no consumed capacity for transactions.

    PYTHONPATH=. .venv/bin/python scripts/write_units.py           # starts DynamoDB Local
    PYTHONPATH=. .venv/bin/python scripts/write_units.py --endpoint http://127.0.0.1:8765

From another benchmark: `write_units_report(db)` returns the lines to print.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_dashboard.test_settings")

import django  # noqa: E402

django.setup()

from payments import dynamo  # noqa: E402
from payments.dynamo import Dynamo, EventReceipt  # noqa: E402
from payments.dynamo.write_units import (  # noqa: E402
    PAYMENTS,
    PREVIOUS_PAYMENTS_TABLE,
    ItemWrite,
    WriteUnits,
    item_size,
    measure_writes,
    operation_units,
    starting_table_units,
)
from payments.lifecycle import AttemptSeen, AttemptStatus, Observation  # noqa: E402

USER = "auth0|write-units"
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def truelayer_payment(attempt_id: str, status: str) -> dict[str, Any]:
    """A `GET /v3/payments/{id}` answer the size TrueLayer's are (about 1.3 KB)."""
    return {
        "id": attempt_id,
        "amount_in_minor": 4250,
        "currency": "GBP",
        "user": {"id": "f9b48c9d-176b-46dd-b2da-fe1a2b77350c", "name": "Jane Payer"},
        "payment_method": {
            "type": "bank_transfer",
            "provider_selection": {
                "type": "user_selected",
                "filter": {"countries": ["GB"], "release_channel": "general_availability"},
                "provider_id": "ob-natwest",
                "scheme_id": "faster_payments_service",
            },
            "beneficiary": {
                "type": "merchant_account",
                "merchant_account_id": "200a5a48-9b3c-4d8e-a7f6-3e1d2c4b5a69",
                "account_holder_name": "Payments Dashboard Ltd",
                "reference": "INV-2026-1042",
            },
        },
        "created_at": "2026-11-02T09:00:01.123456Z",
        "status": status,
        "authorization_flow": {
            "actions": {
                "next": {"type": "redirect", "uri": "https://auth.example/" + "a" * 180},
            },
            "configuration": {"redirect": {"return_uri": "https://dashboard.example/return"}},
        },
        "metadata": {"payment_id": "01JD3Q5Z7X9K2M4N6P8R0T2V4W", "merchant": USER},
        "payment_source": {
            "account_holder_name": "Jane Payer",
            "account_identifiers": [
                {
                    "type": "sort_code_account_number",
                    "sort_code": "560029",
                    "account_number": "26207729",
                }
            ],
            "id": "1f111d3c-1111-4111-b111-1111d3c1d3c1",
        },
        "executed_at": "2026-11-02T09:00:09.654321Z" if status in ("executed", "settled") else None,
    }


def realistic_payment(db: Dynamo) -> tuple[str, list[ItemWrite]]:
    """A payment with two attempts, a six-entry timeline and raw answers; the writes of its
    creation."""
    with measure_writes(db) as created:
        payment = dynamo.payment_create(
            db,
            user_id=USER,
            amount="42.50",
            currency="GBP",
            reference="INV-2026-1042",
            payer_name="Jane Payer",
            payer_email="jane.payer@example.com",
            expires_at=T0 + timedelta(days=1),
            submission_token=f"form-{time.time_ns()}",
            now=T0,
        )
    pid = payment.payment_id
    link = f"pl_{pid.lower()}"
    dynamo.payment_link_set(
        db,
        user_id=USER,
        payment_id=pid,
        link_id=link,
        link_url=f"https://payment.truelayer-sandbox.com/payment-link/{link}",
        response={"id": link, "uri": f"https://payment.truelayer-sandbox.com/payment-link/{link}"},
    )
    first, second = f"tl-1-{pid}", f"tl-2-{pid}"
    steps: list[tuple[Observation, str]] = [
        (
            AttemptSeen(first, AttemptStatus.AUTHORIZATION_REQUIRED, T0),
            "payment_link_payment_created",
        ),
        (
            AttemptSeen(
                first,
                AttemptStatus.FAILED,
                T0 + timedelta(minutes=15),
                failure_stage="authorizing",
                failure_reason="expired",
            ),
            "payment_failed",
        ),
        (
            AttemptSeen(second, AttemptStatus.AUTHORIZATION_REQUIRED, T0 + timedelta(minutes=20)),
            "payment_link_payment_created",
        ),
        (
            AttemptSeen(second, AttemptStatus.EXECUTED, T0 + timedelta(minutes=21)),
            "payment_executed",
        ),
    ]
    for n, (observation, event_type) in enumerate(steps):
        observe(db, pid, observation, event_type, n)
    for attempt, status in ((first, "failed"), (second, "executed")):
        dynamo.payment_response_store(
            db,
            user_id=USER,
            payment_id=pid,
            name=f"get_payment {attempt}",
            response=truelayer_payment(attempt, status),
        )
    return pid, created


def observe(db: Dynamo, pid: str, observation: Observation, event_type: str, n: int) -> None:
    dynamo.payment_observe(
        db,
        user_id=USER,
        payment_id=pid,
        observation=observation,
        source="webhook",
        receipt=EventReceipt(f"ev-{pid}-{n}", event_type, "2026-11-02T09:00:00Z", T0),
    )


def _breakdown(units: WriteUnits) -> str:
    parts = [f"items {units.items}"] + [f"{n} {u}" for n, u in sorted(units.indexes.items())]
    return ", ".join(parts)


def write_units_report(db: Dynamo) -> list[str]:
    """Markdown lines: write units per create and per status change under each design."""
    pid, created = realistic_payment(db)
    with measure_writes(db) as moved:
        observe(
            db, pid, AttemptSeen(f"tl-2-{pid}", AttemptStatus.SETTLED, T0), "payment_settled", 9
        )
    [item] = [w.after for w in moved if w.table == PAYMENTS and w.after]
    full = dynamo.payment_get(db, user_id=USER, payment_id=pid)
    assert full is not None
    start_create, start_change = starting_table_units()
    rows = [
        ("starting table (StatusIndex + CreatedAtIndex, ALL; no aggregates)", None, None),
        ("previous version (6 ALL-projection indexes)", PREVIOUS_PAYMENTS_TABLE, None),
        ("this version (3 INCLUDE list indexes, 3 keys-only)", None, "current"),
    ]
    lines = [
        f"Write units (computed from item sizes by DynamoDB's rules) for a payment of "
        f"{item_size(item):,} bytes: {len(full.attempts)} attempts, {len(full.history)} timeline "
        f"entries, {len(full.webhook_log)} webhooks logged, {len(full.provider_responses)} raw "
        "answers.",
        "",
        "| design | per create | per status change |",
        "|---|---|---|",
    ]
    for label, spec, current in rows:
        if spec is None and current is None:
            lines.append(f"| {label} | {start_create} | {start_change} |")
            continue
        create = operation_units(created, spec) if spec else operation_units(created)
        change = operation_units(moved, spec) if spec else operation_units(moved)
        lines.append(f"| {label} | {create.total} | {change.total} |")
    lines += [
        "",
        f"this version, create: {_breakdown(operation_units(created))}",
        f"this version, status change: {_breakdown(operation_units(moved))}",
        f"previous, status change: {_breakdown(operation_units(moved, PREVIOUS_PAYMENTS_TABLE))}",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoint", default=None, help="a running DynamoDB (default: start one)")
    args = parser.parse_args()
    from devtools import dynamodb_local

    server = None
    endpoint = args.endpoint
    if endpoint is None:
        server = dynamodb_local.start_on_free_port(None)
        endpoint = server.endpoint_url
    try:
        stamp = time.time_ns()
        db = Dynamo(
            dynamo.make_client(endpoint_url=endpoint, region="eu-west-2"),
            table=f"WriteUnits-{stamp}",
            meta_table=f"WriteUnitsMeta-{stamp}",
        )
        dynamo.tables_ensure(db)
        try:
            print("\n".join(write_units_report(db)))
        finally:
            dynamo.tables_drop(db)
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
