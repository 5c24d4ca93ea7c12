"""Write units computed from item sizes (DynamoDB Local reports none for transactions)."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

from payments import dynamo
from payments.dynamo import Dynamo, EventReceipt
from payments.dynamo.schema import (
    OPEN_INDEX,
    PAYMENT_LINK_INDEX,
    PAYMENTS_TABLE,
    STATUS_INDEX,
    TRUELAYER_PAYMENT_INDEX,
)
from payments.dynamo.write_units import (
    META,
    PAYMENTS,
    PREVIOUS_PAYMENTS_TABLE,
    STARTING_ITEM,
    STARTING_TABLE,
    ItemWrite,
    item_size,
    item_write_units,
    measure_writes,
    operation_units,
    starting_table_units,
    value_size,
)
from payments.lifecycle import AttemptSeen, AttemptStatus
from tests.factories import ALICE, T0


def test_sizes_follow_dynamodbs_rules() -> None:
    assert value_size("xyz") == 3 and value_size("£") == 2  # UTF-8 bytes
    assert value_size(Decimal("12.50")) == 3  # 125: 3 significant digits -> 2 + 1
    assert value_size(True) == 1 and value_size(None) == 1
    assert value_size({"a": "xy"}) == 3 + 1 + 2 + 1
    assert value_size(["xy", "z"]) == 3 + (2 + 1) + (1 + 1)
    assert item_size({"userId": "abc", "n": Decimal(7)}) == 6 + 3 + 1 + 2


def test_the_starting_table_costs_3_per_create_and_4_per_status_change() -> None:
    created = ItemWrite(PAYMENTS, None, STARTING_ITEM, transactional=False)
    moved = ItemWrite(
        PAYMENTS,
        STARTING_ITEM,
        {**STARTING_ITEM, "status": "executed", "updatedAt": "2026-11-24T17:12:00.000Z"},
        transactional=False,
    )

    assert operation_units([created], STARTING_TABLE).total == 3
    # The item (1), StatusIndex's key moved (delete + put: 2), CreatedAtIndex's copy (1).
    assert operation_units([moved], STARTING_TABLE).total == 4
    assert starting_table_units() == (3, 4)


def test_a_transaction_doubles_the_item_not_the_indexes_and_sizes_round_up_per_kb() -> None:
    big = {**STARTING_ITEM, "pad": "x" * 1500}  # about 1.7 KB
    units = item_write_units(ItemWrite(PAYMENTS, None, big, transactional=True), STARTING_TABLE)
    assert units.items == 4  # 2 KB, twice
    assert units.indexes == {"StatusIndex": 2, "CreatedAtIndex": 2}


def test_lean_indexes_skip_writes_that_change_only_heavy_attributes() -> None:
    item = {
        **STARTING_ITEM,
        "statusCreatedAt": "executed#2026-11-24T17:10:37.123Z",
        "truelayerPaymentId": "tl-1",
        "openShard": "OPEN#1",
        "checkAt": "2026-11-24T17:40:00.000Z",
    }
    logged = {**item, "webhookLog": [{"type": "payment_executed", "eventId": "e" * 36}]}
    write = ItemWrite(PAYMENTS, item, logged, transactional=True)

    lean = item_write_units(write, PAYMENTS_TABLE)
    previous = item_write_units(write, PREVIOUS_PAYMENTS_TABLE)

    assert lean.indexes == {}  # nothing a list shows, no index key: no index is written
    assert set(previous.indexes) == {
        "StatusIndex",
        "CreatedAtIndex",
        "PaymentLinkIndex",
        "TruelayerPaymentIndex",
    }


def test_keys_only_and_include_indexes_are_written_only_when_their_part_changes() -> None:
    before = {
        **STARTING_ITEM,
        "statusCreatedAt": "pending#2026-11-24T17:10:37.123Z",
        "openShard": "OPEN#1",
        "checkAt": "2026-11-24T17:40:00.000Z",
    }
    after = {
        **before,
        "status": "executed",
        "statusCreatedAt": "executed#2026-11-24T17:10:37.123Z",
        "truelayerPaymentId": "tl-1",
        "checkAt": "2026-11-24T18:10:00.000Z",
    }
    units = item_write_units(ItemWrite(PAYMENTS, before, after, False), PAYMENTS_TABLE)
    assert units.indexes == {
        STATUS_INDEX: 2,  # key moved: delete + put
        TRUELAYER_PAYMENT_INDEX: 1,  # a new entry in a sparse index
        OPEN_INDEX: 2,  # checkAt is its key
    }
    assert PAYMENT_LINK_INDEX not in units.indexes  # its key did not change: keys only


def test_measured_create_and_status_change_cost_less_than_the_previous_design(
    repository: Dynamo,
) -> None:
    with measure_writes(repository) as created:
        payment = dynamo.payment_create(
            repository, user_id=ALICE, amount="25.00", currency="GBP", reference="WU 1"
        )
    dynamo.payment_link_set(
        repository,
        user_id=ALICE,
        payment_id=payment.payment_id,
        link_id="pl_wu",
        link_url="https://x",
        response={"id": "pl_wu", "uri": "https://x", "raw": "r" * 1500},
    )
    with measure_writes(repository) as moved:
        dynamo.payment_observe(
            repository,
            user_id=ALICE,
            payment_id=payment.payment_id,
            observation=AttemptSeen("tl-wu", AttemptStatus.EXECUTED, T0),
            source="webhook",
            receipt=EventReceipt("ev-wu", "payment_executed", "t", T0),
        )

    [payment_write] = [w for w in created if w.table == PAYMENTS]
    assert payment_write.before is None and payment_write.after is not None
    assert payment_write.after["paymentId"] == payment.payment_id
    assert any(w.table == META for w in created)  # the statistics, in the same transaction
    [change] = [w for w in moved if w.table == PAYMENTS]
    assert change.before and change.after
    assert (change.before["status"], change.after["status"]) == ("pending", "executed")
    for writes in (created, moved):
        lean = operation_units(writes)
        previous = operation_units(writes, PREVIOUS_PAYMENTS_TABLE)
        assert 0 < lean.total < previous.total
    # The raw answer (1.5 KB) is in the item: the previous design copied it into the
    # link and TrueLayer indexes on every change; the lean ones never carry it.
    assert operation_units(moved).indexes.get(PAYMENT_LINK_INDEX, 0) == 0
    assert operation_units(moved, PREVIOUS_PAYMENTS_TABLE).indexes["PaymentLinkIndex"] >= 2


def test_a_refused_write_is_not_counted(repository: Dynamo) -> None:
    payment = dynamo.payment_create(
        repository, user_id=ALICE, amount="5.00", currency="GBP", reference="WU 2"
    )
    receipt = EventReceipt("ev-once", "payment_executed", "t", T0)
    seen = AttemptSeen("tl-once", AttemptStatus.EXECUTED, T0)
    dynamo.payment_observe(
        repository,
        user_id=ALICE,
        payment_id=payment.payment_id,
        observation=seen,
        source="webhook",
        receipt=receipt,
    )
    with measure_writes(repository) as writes:
        outcome = dynamo.payment_observe(
            repository,
            user_id=ALICE,
            payment_id=payment.payment_id,
            observation=seen,
            source="webhook",
            receipt=receipt,
        )
    # The repeat's transaction is cancelled (event id seen): only the webhook-log update of
    # the duplicate is written.
    assert outcome.outcome == "duplicate"
    assert [w.table for w in writes] == [PAYMENTS]


def test_the_benchmark_report_prints_each_design_next_to_the_starting_tables(
    repo: Dynamo,
) -> None:
    path = Path(__file__).resolve().parents[2] / "scripts" / "write_units.py"
    spec = importlib.util.spec_from_file_location("write_units_script", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    lines = script.write_units_report(repo)

    cells = [line.strip("| ").split(" | ") for line in lines if line.startswith("| ")]
    rows = {row[0]: row[1:] for row in cells}
    starting = next(v for k, v in rows.items() if k.startswith("starting table"))
    previous = next(v for k, v in rows.items() if k.startswith("previous version"))
    current = next(v for k, v in rows.items() if k.startswith("this version"))
    assert [c.strip(" |") for c in starting] == ["3", "4"]
    assert int(current[1].strip(" |")) < int(previous[1].strip(" |"))  # per status change
    assert "2 attempts, 6 timeline entries" in lines[0]
