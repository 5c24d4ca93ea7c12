"""Which shard an aggregate write goes to, and how a conflict moves it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from payments.dynamo import shards


@pytest.fixture(autouse=True)
def nothing_hot() -> Iterator[None]:
    shards.forget_hot()
    yield
    shards.forget_hot()


def _update(pk: str, sk: str) -> dict[str, Any]:
    return {"Update": {"TableName": "M", "Key": {"pk": {"S": pk}, "sk": {"S": sk}}}}


def test_a_quiet_period_is_written_to_shard_zero() -> None:
    assert {shards.shard_for("STATS#DAY#a", "2026-03-10") for _ in range(50)} == {0}


def test_a_conflict_moves_only_the_conflicting_aggregate_and_makes_its_period_hot() -> None:
    payment = {"Put": {"TableName": "P", "Item": {"userId": {"S": "a"}}}}
    day = _update("STATS#DAY#a", "2026-03-10#00")
    month = _update("STATS#MONTH#a", "2026-03#00")
    actions = [payment, day, month]
    moved = shards.note_conflict(actions, ["None", "TransactionConflict", "None"])
    assert moved == 1
    new_sk = day["Update"]["Key"]["sk"]["S"]
    assert new_sk.startswith("2026-03-10#") and new_sk != "2026-03-10#00"
    assert month["Update"]["Key"]["sk"]["S"] == "2026-03#00"
    # Later writes to the hot day spread over the shards; the month stays on shard 0.
    assert len({shards.shard_for("STATS#DAY#a", "2026-03-10") for _ in range(200)}) > 1
    assert shards.shard_for("STATS#MONTH#a", "2026-03") == 0
    assert shards.shard_for("STATS#DAY#b", "2026-03-10") == 0  # another merchant


def test_a_conflict_on_a_payment_item_moves_nothing() -> None:
    payment = {"Update": {"TableName": "P", "Key": {"userId": {"S": "a"}}}}
    assert shards.note_conflict([payment], ["TransactionConflict"]) == 0


def test_with_one_shard_a_conflict_has_nowhere_to_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shards, "SHARDS", 1)
    day = _update("STATS#DAY#a", "2026-03-10#00")
    assert shards.note_conflict([day], ["TransactionConflict"]) == 0
    assert day["Update"]["Key"]["sk"]["S"] == "2026-03-10#00"
    assert shards.shard_for("STATS#DAY#a", "2026-03-10") == 0


def test_a_transaction_moved_to_other_shards_gets_its_own_request_token() -> None:
    quiet = [_update("STATS#DAY#a", "2026-03-10#00"), _update("STATS#MONTH#a", "2026-03#00")]
    assert shards.spread_keys(quiet) == []
    moved = [_update("STATS#DAY#a", "2026-03-10#05"), _update("STATS#MONTH#a", "2026-03#00")]
    assert shards.spread_keys(moved) == ["STATS#DAY#a/2026-03-10#05"]
