"""Sharded aggregate items: how one busy merchant's statistics stay writable.

Every payment write adds to its day and month aggregate items in the same transaction. On AWS, two
transactions that touch one item at the same time do not queue: one of them is cancelled with
`TransactionConflict`. A busy merchant's writes all touch the same day item, so they would cancel
each other. Each aggregate therefore exists in up to `SHARDS` copies (sort key `<period>#<nn>`),
which readers sum in the same Query (the sort key starts with the period).

Writes go to shard `00` while nothing conflicts, so a quiet merchant has one item per day and
reads one item per day. When a transaction is cancelled because one of its aggregate items was in
another transaction (`note_conflict`, called by `client.transact`), that item's period is marked
hot in this process for `HOT_SECONDS`: the cancelled actions move to a random shard for the retry
and later writes to that period pick a random shard too. So a day has as many items as it had
concurrent writers (at most `SHARDS`), and reads stay ≈ one item per quiet day.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from typing import Any

SHARDS = 8
HOT_SECONDS = 60.0
STATS_PREFIX = "STATS#"

_hot: dict[tuple[str, str], float] = {}
_lock = threading.Lock()


def shard_sk(period: str, shard: int) -> str:
    """The sort key of one shard of a period's aggregate item, e.g. `2026-02-26#03`."""
    return f"{period}#{shard:02d}"


def period_of(sk: str) -> str:
    """The period (`2026-02-26`, `2026-02`) a shard's sort key belongs to."""
    return sk.split("#", 1)[0]


def shard_for(pk: str, period: str) -> int:
    """Shard 0 unless this period of this partition saw a conflict lately, then any shard."""
    now = time.monotonic()
    with _lock:
        until = _hot.get((pk, period))
        if until is not None and until < now:
            del _hot[(pk, period)]
            until = None
    return 0 if until is None else random.randrange(SHARDS)


def note_conflict(actions: Sequence[dict[str, Any]], reasons: Sequence[str]) -> int:
    """After a transaction was cancelled: mark each aggregate item that was in a
    `TransactionConflict` as hot, and move its action (in place) to a random other shard for
    the retry. Returns how many actions moved."""
    moved = 0
    for action, reason in zip(actions, reasons, strict=False):
        update = action.get("Update")
        if reason != "TransactionConflict" or update is None:
            continue
        key = update.get("Key", {})
        pk = key.get("pk", {}).get("S", "")
        sk = key.get("sk", {}).get("S", "")
        if not pk.startswith(STATS_PREFIX) or "#" not in sk:
            continue
        period, shard = sk.split("#", 1)
        with _lock:
            _hot[(pk, period)] = time.monotonic() + HOT_SECONDS
        others = [s for s in range(SHARDS) if f"{s:02d}" != shard]
        if not others:  # one shard: today's single item, nothing to move to
            continue
        update["Key"] = {**key, "sk": {"S": shard_sk(period, random.choice(others))}}
        moved += 1
    return moved


def spread_keys(actions: Sequence[dict[str, Any]]) -> list[str]:
    """The sort keys of the aggregate updates in `actions` that are not on shard 0: part of
    the transaction's ClientRequestToken, so a retry moved to other shards is a new request
    (AWS refuses a token reused with different parameters) while a repeat is the same one."""
    keys = []
    for action in actions:
        key = action.get("Update", {}).get("Key", {})
        pk = key.get("pk", {}).get("S", "")
        sk = key.get("sk", {}).get("S", "")
        if pk.startswith(STATS_PREFIX) and "#" in sk and not sk.endswith("#00"):
            keys.append(f"{pk}/{sk}")
    return keys


def forget_hot() -> None:
    """Forget every hot period (tests and benchmarks that compare designs)."""
    with _lock:
        _hot.clear()
