"""`make bench` and `make load` cannot rot: both scripts run here at a tiny size, and the bulk
loader's client double evaluates writes as DynamoDB does."""

from __future__ import annotations

import contextlib
import itertools
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from devtools.capture_client import CaptureClient, merge_counters
from payments.dynamo.items import deserialize, serialize

REPO = Path(__file__).resolve().parents[2]


def _client() -> CaptureClient:
    return CaptureClient(lambda table: ("pk", "sk"), meta=None)


def _key(pk: str, sk: str) -> dict[str, object]:
    return serialize({"pk": pk, "sk": sk})


def test_capture_client_applies_set_add_remove_and_list_append_like_dynamodb():
    client = _client()
    client.put_item(
        TableName="T", Item=serialize({"pk": "p", "sk": "s", "gone": "x", "n": 1, "map": {}})
    )
    client.update_item(
        TableName="T",
        Key=_key("p", "s"),
        UpdateExpression=(
            "SET #h = list_append(if_not_exists(#h, :empty), :entries), #m.#k = :v, #n = #n + :one"
            " REMOVE #gone"
        ),
        ExpressionAttributeNames={
            "#h": "history",
            "#m": "map",
            "#k": "key",
            "#n": "n",
            "#gone": "gone",
        },
        ExpressionAttributeValues=serialize(
            {":empty": [], ":entries": ["a", "b"], ":v": "deep", ":one": 1}
        ),
    )
    written = client.update_item(
        TableName="T",
        Key=_key("p", "s"),
        UpdateExpression="SET #h = list_append(#h, :more)",
        ExpressionAttributeNames={"#h": "history"},
        ExpressionAttributeValues=serialize({":more": ["c"]}),
        ReturnValues="ALL_NEW",
    )
    item = deserialize(written["Attributes"])
    assert item["history"] == ["a", "b", "c"]
    assert item["map"] == {"key": "deep"}
    assert item["n"] == Decimal(2)
    assert "gone" not in item
    # As DynamoDB refuses it: a nested path whose parent does not exist.
    with pytest.raises(ValueError, match="no parent"):
        client.update_item(
            TableName="T",
            Key=_key("p", "s"),
            UpdateExpression="SET #x.#y = :v",
            ExpressionAttributeNames={"#x": "missing", "#y": "y"},
            ExpressionAttributeValues=serialize({":v": 1}),
        )


def test_capture_client_counts_add_items_as_counters_kept_until_the_end():
    client = _client()
    for amount in ("1.50", "2.25"):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "T", "Item": serialize({"pk": "pay", "sk": amount})}},
                {
                    "Update": {
                        "TableName": "T",
                        "Key": _key("stats", "day"),
                        "UpdateExpression": "ADD #c :one, #a :amount",
                        "ExpressionAttributeNames": {"#c": "count", "#a": "amount"},
                        "ExpressionAttributeValues": serialize(
                            {":one": 1, ":amount": Decimal(amount)}
                        ),
                    }
                },
            ]
        )
        finished = [deserialize(item)["sk"] for _, item in client.take_finished()]
        assert finished == [amount]  # the payment's item goes at once, the counter stays
    counters = client.take_counters()
    assert counters[("T", ("stats", "day"))] == {
        "pk": "stats",
        "sk": "day",
        "count": Decimal(2),
        "amount": Decimal("3.75"),
    }


def test_counters_of_two_loaders_are_summed_and_an_impure_one_is_refused():
    key = ("T", ("stats", "day"))
    first = {key: {"pk": "stats", "sk": "day", "count": Decimal(2)}}
    second = {key: {"pk": "stats", "sk": "day", "count": Decimal(3)}}
    assert merge_counters([(first, set()), (second, set())])[key]["count"] == Decimal(5)
    with pytest.raises(RuntimeError, match="not a pure counter"):
        merge_counters([(first, {key}), (second, set())])


def test_a_write_to_an_item_already_sent_fails_loudly():
    client = _client()
    client.put_item(TableName="T", Item=serialize({"pk": "p", "sk": "s"}))
    list(client.take_finished())
    with pytest.raises(RuntimeError, match="written again"):
        client.put_item(TableName="T", Item=serialize({"pk": "p", "sk": "s"}))


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, f"scripts/{script}", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.dynamodb_local
def test_make_bench_runs_at_a_tiny_size(dynamodb_local_endpoint):
    out = _run(
        "bench_repository.py",
        "--sizes",
        "200",
        "--repeat",
        "1",
        "--ref-repeat",
        "1",
        "--endpoint",
        dynamodb_local_endpoint,
    )
    assert "loaded 200 payments" in out
    rows = [line for line in out.splitlines() if line.startswith("| statistics page")]
    assert len(rows) == 2 and all("equal to the brute-force count" in row for row in rows), out
    for pattern in ("| list, newest first |", "| filter 3 statuses |", "| find by payer"):
        assert pattern in out, out
    assert "write units (measured, ReturnConsumedCapacity): create" in out


# The pages `make load` and `make profile` request.
LOADED_PAGES = {
    "floor (/ping/)",
    "list",
    "filter 3 statuses",
    "search 'booking'",
    "statistics 30 days",
    "detail",
    "list live update (25 rows)",
}


@pytest.mark.dynamodb_local
def test_make_load_runs_at_a_tiny_size(dynamodb_local_endpoint):
    out = _run(
        "load_http.py",
        "--size",
        "200",
        "--seconds",
        "1",
        "--warm-up",
        "1",
        "--endpoint",
        dynamodb_local_endpoint,
    )
    assert "warming up: every page for 1 s" in out
    rows = [
        line.split(" | ") for line in out.splitlines() if line.startswith("| ") and "ms" not in line
    ]
    pages = {row[0].lstrip("| ") for row in rows if len(row) > 7 and row[1] in ("1", "8")}
    assert pages == LOADED_PAGES, out
    for row in rows:
        if len(row) > 7 and row[1] in ("1", "8"):
            assert int(row[2]) > 0 and row[7] == "0", row  # answered, and never an error


@pytest.mark.dynamodb_local
def test_make_profile_runs_at_a_tiny_size(dynamodb_local_endpoint):
    out = _run(
        "profile_pages.py",
        "--size",
        "200",
        "--runs",
        "2",
        "--warm-up",
        "0",
        "--endpoint",
        dynamodb_local_endpoint,
    )
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("page ")) + 1
    table = itertools.takewhile(bool, lines[start:])  # the pages, up to the blank line
    rows = {line[:30].strip(): line[30:].split() for line in table}
    assert set(rows) == LOADED_PAGES, out
    assert all(row[0] in ("200", "204") for row in rows.values()), out
    # Columns: status, ms, dynamo, template, rest, requests, items, KB.
    assert int(rows["list"][-3]) >= 1 and int(rows["floor (/ping/)"][-3]) == 0, out
    assert float(rows["list"][-1]) > 1 and float(rows["floor (/ping/)"][-1]) < 0.1, out
    # Then DynamoDB alone: one request, and two or three sent at once, of each kind.
    alone = [line for line in lines if line.startswith("  GetItem, ") or line.startswith("  Query")]
    assert len(alone) == 6 and all(line.endswith(" ms") for line in alone), out


def test_dynamodb_local_files_are_put_in_write_ahead_log_mode_and_keep_their_data(tmp_path):
    """`make run`'s persistent DynamoDB Local writes through SQLite's write-ahead log (35 s ->
    22 s for `make seed COUNT=1000`): set on a new file, and on an existing one without loss."""
    import sqlite3

    from devtools.dynamodb_local import use_write_ahead_log

    fresh = tmp_path / "fresh.db"
    use_write_ahead_log(fresh)
    with contextlib.closing(sqlite3.connect(fresh)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    existing = tmp_path / "existing.db"
    with contextlib.closing(sqlite3.connect(existing)) as db:
        db.execute("CREATE TABLE t (v TEXT)")
        db.execute("INSERT INTO t VALUES ('kept')")
        db.commit()
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    use_write_ahead_log(existing)
    with contextlib.closing(sqlite3.connect(existing)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT v FROM t").fetchall() == [("kept",)]


def test_a_checkpoint_moves_the_write_ahead_log_into_the_file_while_a_writer_has_it_open(
    tmp_path,
):
    """`make run` checkpoints DynamoDB Local's log every few seconds (it never does itself): the
    data lands in the file and the log is reused, with the engine's connection still open."""
    import sqlite3

    from devtools.dynamodb_local import checkpoint, use_write_ahead_log

    path = tmp_path / "shared-local-instance.db"
    use_write_ahead_log(path)
    engine = sqlite3.connect(path)  # stands for DynamoDB Local's connection, kept open
    engine.execute("PRAGMA wal_autocheckpoint=0")  # as DynamoDB Local behaves
    engine.execute("CREATE TABLE t (v BLOB)")
    for _ in range(200):
        engine.execute("INSERT INTO t VALUES (randomblob(4000))")
        engine.commit()
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 800_000 and path.stat().st_size < 100_000
    checkpoint(path)
    assert path.stat().st_size > 800_000  # the rows are in the file now
    size = wal.stat().st_size
    engine.execute("INSERT INTO t VALUES (randomblob(4000))")
    engine.commit()
    assert wal.stat().st_size == size  # the log restarted from its beginning: reused, not grown
    engine.close()
    checkpoint(tmp_path / "missing.db")  # no file yet: nothing to do, no error
