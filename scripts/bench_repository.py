#!/usr/bin/env python
"""`make bench`: the dashboard's reads side by side with the starting app's way, in one run.

For each size N (default 1,000, 10,000 and 100,000) one merchant holds N realistic payments over
365 days on DynamoDB Local, loaded by BatchWriteItem from the real write path
(`devtools/bench_data.py`; cached under .data/bench/ by schema fingerprint). Then, interleaved
run by run, each access pattern through the app's public read functions (`payments.selectors`)
and the same answer the starting app's way, with raw boto3 calls (a client with botocore's own
answer parser, as the starting app had) on the same DynamoDB:

- statistics page (totals + previous period + daily chart): the starting way reads every
  payment of both periods through `CreatedAtIndex` and sums them;
- list, 1-status and 3-status pages: one raw Query returning a page of the same size;
- search by reference word, amount and payer, and a match `depth` payments back: the starting
  way reads every payment and filters;
- open one payment: one raw GetItem.

Every DynamoDB request and the items it read are counted at the client (botocore's after-call
event: Query's ScannedCount, 1 per GetItem that found an item, BatchGetItem's answers), so the
app's numbers and the reference's are counted the same way, whatever the data layer does
inside. Prints medians, requests, items read, the ratio, and PASS/FAIL against issue 15's
targets, then the write units of one create and one status change. Run:

    .venv/bin/python scripts/bench_repository.py                       # 1k, 10k, 100k
    .venv/bin/python scripts/bench_repository.py --sizes 1000,10000 --repeat 9
    .venv/bin/python scripts/bench_repository.py --no-cache            # load in memory
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payments_dashboard.test_settings")
for _name, _value in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
    os.environ.setdefault(_name, _value)

import django  # noqa: E402

django.setup()

from ulid import ULID  # noqa: E402
from write_units import write_units_report  # noqa: E402

from devtools import bench_data  # noqa: E402
from payments import dynamo, selectors  # noqa: E402
from payments.domain import DateRange, PaymentFilters, PaymentStatus  # noqa: E402
from payments.dynamo import Dynamo  # noqa: E402
from payments.dynamo.expressions import Expr  # noqa: E402
from payments.dynamo.items import deserialize  # noqa: E402
from payments.dynamo.schema import LIST_ATTRIBUTES, ROW_FACTS  # noqa: E402
from payments.dynamo.write_units import item_size  # noqa: E402

PAGE_SIZE = 25
TZ = ZoneInfo("Europe/London")
# Issue 15's targets.
STATS_TARGETS = {(10_000, 30): 20.0, (100_000, 90): 100.0}
LIST_TARGET = 2.0  # at most this many times one raw Query of the same page
PAGE_ITEMS_FACTOR = 3  # "items read per request proportional to the page": ≤ 3 × (page + 1)


# --- counting DynamoDB work at the client -------------------------------------------------


@dataclass
class Work:
    requests: int = 0
    items_read: int = 0


class Counter:
    """Counts every DynamoDB request made through one client, and the items each read, from
    whichever thread makes it (the app may read in a thread pool)."""

    def __init__(self, *dbs: Dynamo) -> None:
        self._lock = threading.Lock()
        self._work = Work()
        for db in dbs:
            db.client.meta.events.register("after-call.dynamodb", self._after)

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        items = 0
        if model.name in ("Query", "Scan"):
            items = int(parsed.get("ScannedCount", 0))
        elif model.name == "GetItem":
            items = 1 if parsed.get("Item") else 0
        elif model.name == "BatchGetItem":
            items = sum(len(found) for found in (parsed.get("Responses") or {}).values())
        elif model.name == "TransactGetItems":
            items = sum(1 for r in parsed.get("Responses") or [] if r.get("Item"))
        with self._lock:
            self._work.requests += 1
            self._work.items_read += items

    @contextmanager
    def measure(self) -> Iterator[Work]:
        """The work done inside the block (one measured run at a time)."""
        with self._lock:
            self._work = Work()
        result = Work()
        try:
            yield result
        finally:
            with self._lock:
                result.requests, result.items_read = self._work.requests, self._work.items_read


# --- runs and rows --------------------------------------------------------------------------


@dataclass
class Side:
    timings: list[float] = field(default_factory=list)
    work: Work = field(default_factory=Work)
    answer: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.timings) if self.timings else float("nan")


@dataclass
class Row:
    name: str
    app: Side
    ref: Side
    verdict: str = ""
    note: str = ""


def interleaved(
    counter: Counter,
    app: Callable[[], Any],
    ref: Callable[[], Any] | None,
    repeat: int,
    ref_repeat: int,
) -> tuple[Side, Side]:
    """Run app and reference alternately; medians of each (the reference maybe fewer times:
    at 100k it reads the whole history)."""
    sides = (Side(), Side())
    for run in range(repeat):
        pairs = [(sides[0], app)] + ([(sides[1], ref)] if ref and run < ref_repeat else [])
        if run % 2:
            pairs.reverse()
        for side, call in pairs:
            with counter.measure() as work:
                t0 = time.perf_counter()
                side.answer = call()
                side.timings.append((time.perf_counter() - t0) * 1000)
            side.work = work
    return sides


# --- the starting app's way (raw boto3, botocore's own parser) ------------------------------


def ref_query_all(db: Dynamo, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Query, page by page, deserialised as the starting app's boto3 did."""
    while True:
        answer = db.client.query(**kwargs)
        yield from (deserialize(raw) for raw in answer.get("Items", []))
        if "LastEvaluatedKey" not in answer:
            return
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


# DynamoDB Local's Query time grows with the size of the key range it pages through, not with
# the page (a whole-history read: 1.0 s at 1k payments, 48 s at 10k; at 100k it ran out of a
# 512 MB heap, then took over 60 s for one page with 2 GB). So the starting way's long reads go
# one day of ULIDs at a time: on AWS the same items and read units, a few more requests.
_REF_WINDOW = timedelta(days=1)


def _ulid_low(moment: datetime) -> str:
    return str(ULID.from_datetime(moment))[:10] + "0" * 16


def _ulid_high(moment: datetime) -> str:
    """The largest ULID before `moment`."""
    return str(ULID.from_datetime(moment - timedelta(milliseconds=1)))[:10] + "Z" * 16


def _windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) in consecutive windows of `_REF_WINDOW`, oldest first."""
    windows = []
    while start < end:
        windows.append((start, min(start + _REF_WINDOW, end)))
        start += _REF_WINDOW
    return windows


def ref_key_range(
    db: Dynamo, user_id: str, condition: str, values: dict[str, str], newest_first: bool = False
) -> Iterator[dict[str, Any]]:
    """Every payment of `user_id` whose `paymentId` meets `condition` (`#p` and `values`)."""
    return ref_query_all(
        db,
        TableName=db.table,
        KeyConditionExpression=f"#u = :u AND {condition}",
        ExpressionAttributeNames={"#u": "userId", "#p": "paymentId"},
        ExpressionAttributeValues={
            ":u": {"S": user_id},
            **{name: {"S": value} for name, value in values.items()},
        },
        ScanIndexForward=not newest_first,
    )


def ref_range(db: Dynamo, user_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Every payment created in [start, end), whole items, as the starting app read them
    through its CreatedAtIndex (ALL projection). That index is retired (issue 15: the base
    table's ULID sort key starts with the creation time), so the same items are read by
    `paymentId BETWEEN` Queries on the base table, a day at a time: the same items and read
    units."""
    return [
        item
        for low, high in _windows(start, end)
        for item in ref_key_range(
            db, user_id, "#p BETWEEN :a AND :b", {":a": _ulid_low(low), ":b": _ulid_high(high)}
        )
    ]


def ref_history(db: Dynamo, user_id: str) -> Iterator[dict[str, Any]]:
    """Every payment of `user_id`, whole, newest first: the days of the benchmark's history one
    at a time, and anything after or before them."""
    first = bench_data.END - timedelta(days=bench_data.DAYS + 1)
    last = bench_data.END + timedelta(days=1)
    yield from ref_key_range(db, user_id, "#p > :b", {":b": _ulid_high(last)}, newest_first=True)
    for low, high in reversed(_windows(first, last)):
        yield from ref_key_range(
            db,
            user_id,
            "#p BETWEEN :a AND :b",
            {":a": _ulid_low(low), ":b": _ulid_high(high)},
            newest_first=True,
        )
    yield from ref_key_range(db, user_id, "#p < :a", {":a": _ulid_low(first)}, newest_first=True)


def ref_stats(db: Dynamo, user_id: str, period: DateRange) -> dict[str, Any]:
    """Totals by status and currency for the period and the one before, and per local day."""
    previous = period.previous()
    assert period.start and period.end and previous.start and previous.end
    now = ref_range(db, user_id, period.start, period.end)
    then = ref_range(db, user_id, previous.start, previous.end)
    days: dict[date, dict[tuple[str, str], list[Decimal]]] = {}
    totals: dict[tuple[str, str], list[Decimal]] = {}
    for item in now:
        key = (str(item["status"]), str(item["currency"]))
        day = datetime.fromisoformat(str(item["createdAt"])).astimezone(TZ).date()
        for bucket in (totals, days.setdefault(day, {})):
            entry = bucket.setdefault(key, [Decimal(0), Decimal(0)])
            entry[0] += 1
            entry[1] += Decimal(item["amount"])
    before: dict[tuple[str, str], int] = {}
    for item in then:
        key = (str(item["status"]), str(item["currency"]))
        before[key] = before.get(key, 0) + 1
    return {"count": len(now), "previous_count": len(then), "totals": totals, "days": days}


def ref_page(db: Dynamo, user_id: str) -> list[dict[str, Any]]:
    """One raw Query of page size + 1 whole payments, newest first."""
    answer = db.client.query(
        TableName=db.table,
        KeyConditionExpression="#u = :u",
        ExpressionAttributeNames={"#u": "userId"},
        ExpressionAttributeValues={":u": {"S": user_id}},
        ScanIndexForward=False,
        Limit=PAGE_SIZE + 1,
    )
    return list(answer.get("Items", []))


# What the list indexes projected before the row facts: every attempt with its history, the
# link and every refund, in place of the `rowFacts` map.
_PREVIOUS_ROW = (*(a for a in LIST_ATTRIBUTES if a != ROW_FACTS), "attempts", "link", "refunds")


def row_sizes(db: Dynamo, user_id: str) -> str:
    """What a list page's rows weigh as the list reads them (its projection), as the previous
    version's list read them and as whole payments, by DynamoDB's item-size rules."""

    def page(names: tuple[str, ...] | None) -> list[int]:
        expr = Expr()
        kwargs: dict[str, Any] = {}
        if names is not None:
            kwargs["ProjectionExpression"] = ", ".join(
                expr.name(n) for n in ("userId", "paymentId", *names)
            )
        answer = db.client.query(
            TableName=db.table,
            KeyConditionExpression=f"{expr.name('userId')} = {expr.value(user_id)}",
            ScanIndexForward=False,
            Limit=PAGE_SIZE + 1,
            **kwargs,
            **expr.kwargs(),
        )
        return [item_size(deserialize(i)) for i in answer.get("Items", [])]

    def weight(sizes: list[int]) -> str:
        return f"median {statistics.median(sizes):,.0f} bytes a row, {sum(sizes) / 1024:.1f} KB"

    return (
        f"list page of {PAGE_SIZE + 1} rows as read: {weight(page(LIST_ATTRIBUTES))}; as the "
        f"previous list indexes read them (attempts, link, refunds): {weight(page(_PREVIOUS_ROW))};"
        f" whole payments: {weight(page(None))}"
    )


def ref_search(
    db: Dynamo, user_id: str, matches: list[Callable[[dict[str, Any]], bool]]
) -> list[list[str]]:
    """Read every payment and keep the matches of each search (ids, newest first): the starting
    way reads the whole history whatever the text, so one read answers every search."""
    found: list[list[str]] = [[] for _ in matches]
    for item in ref_history(db, user_id):
        for ids, match in zip(found, matches, strict=True):
            if match(item):
                ids.append(str(item["paymentId"]))
    return found


# --- the app's way (its public read functions) ---------------------------------------------


def app_search(db: Dynamo, user_id: str, query: str, cursor: str | None = None) -> Any:
    """`selectors.payment_search` with whatever it accepts today (the read budget is gone
    once search is indexed)."""
    accepted = inspect.signature(selectors.payment_search).parameters
    kwargs: dict[str, Any] = {
        "user_id": user_id,
        "query": query,
        "filters": PaymentFilters(cursor=cursor),
        "page_size": PAGE_SIZE,
        "db": db,
    }
    if "budget" in accepted:
        from django.conf import settings

        kwargs["budget"] = settings.PAYMENTS_SEARCH_BUDGET
    return selectors.payment_search(**{k: v for k, v in kwargs.items() if k in accepted})


def search_until(
    counter: Counter, db: Dynamo, user_id: str, query: str, wanted: str, limit: int = 500
) -> tuple[int, float, Work, bool]:
    """Follow "search further back" until `wanted` shows: (requests, ms, work, found)."""
    cursor: str | None = None
    total = Work()
    elapsed = 0.0
    for clicks in range(1, limit + 1):
        with counter.measure() as work:
            t0 = time.perf_counter()
            result = app_search(db, user_id, query, cursor)
            elapsed += (time.perf_counter() - t0) * 1000
        total.requests += work.requests
        total.items_read += work.items_read
        if any(p.payment_id == wanted for p in result.payments):
            return clicks, elapsed, total, True
        cursor = result.next_cursor
        if not cursor:
            break
    return clicks, elapsed, total, False


def stats_period(days: int) -> DateRange:
    last = (bench_data.END.astimezone(TZ) - timedelta(days=1)).date()
    return DateRange.of_days("custom", last - timedelta(days=days - 1), last, TZ)


def stats_agree(summary: Any, ref: dict[str, Any]) -> str:
    """Whether the app's statistics equal the reference's brute-force count."""
    try:
        app_count, app_before = summary.now.count, summary.then.count
        by_currency = {c: t.count for c, t in summary.now.created.items()}
    except AttributeError:
        return "not compared (summary shape changed)"
    ref_currency: dict[str, int] = {}
    for (_, currency), (count, _) in ref["totals"].items():
        ref_currency[currency] = ref_currency.get(currency, 0) + int(count)
    if (app_count, app_before, by_currency) == (ref["count"], ref["previous_count"], ref_currency):
        return "equal to the brute-force count"
    return (
        f"DIFFER: app {app_count}/{app_before} {by_currency}, "
        f"brute force {ref['count']}/{ref['previous_count']} {ref_currency}"
    )


# --- one size --------------------------------------------------------------------------------


def bench_size(
    endpoint: str, folder: Path | None, size: int, repeat: int, ref_repeat: int
) -> list[Row]:
    loaded = bench_data.ensure_loaded(endpoint, size, folder)
    db = bench_data.bench_db(endpoint, loaded.table, loaded.meta_table)
    # The starting way's raw boto3 calls, with botocore's own answer parser as it had them (the
    # app's client decodes item answers faster: `payments/dynamo/answers.py`).
    ref_db = bench_data.bench_db(endpoint, loaded.table, loaded.meta_table, stock_boto3=True)
    counter = Counter(db, ref_db)
    user = loaded.user_id
    rows: list[Row] = []
    print(
        f"\nN = {size:,} payments of one merchant over {bench_data.DAYS} days "
        f"(loaded in {loaded.load_seconds:.0f} s; planted match {loaded.depth:,} back)",
        flush=True,
    )

    for days in (30, 90):
        period = stats_period(days)
        app, ref = interleaved(
            counter,
            partial(selectors.payment_stats_summary, user_id=user, date_range=period, tz=TZ, db=db),
            partial(ref_stats, ref_db, user, period),
            repeat,
            ref_repeat,
        )
        row = Row(f"statistics page, {days} days (totals + previous + chart)", app, ref)
        target = STATS_TARGETS.get((size, days))
        ratio = ref.median / app.median
        row.verdict = (
            ("PASS" if ratio >= target else "FAIL") + f" (≥ {target:.0f}× asked)" if target else ""
        )
        row.note = stats_agree(app.answer, ref.answer)
        rows.append(row)

    filters = {
        "list, newest first": PaymentFilters(),
        "filter 1 status": PaymentFilters(statuses=[PaymentStatus.FAILED]),
        "filter 3 statuses": PaymentFilters(
            statuses=[PaymentStatus.FAILED, PaymentStatus.PENDING, PaymentStatus.SETTLED]
        ),
    }
    for name, chosen in filters.items():
        app, ref = interleaved(
            counter,
            partial(
                selectors.payment_list, user_id=user, filters=chosen, page_size=PAGE_SIZE, db=db
            ),
            lambda: ref_page(ref_db, user),
            repeat,
            repeat,
        )
        row = Row(name, app, ref, note=f"{len(app.answer.payments)} shown")
        row.verdict = (
            "PASS" if app.median <= LIST_TARGET * ref.median else "FAIL"
        ) + f" (≤ {LIST_TARGET:.0f}× one raw Query)"
        rows.append(row)

    print(row_sizes(db, user), flush=True)

    app, ref = interleaved(
        counter,
        lambda: selectors.payment_get_for_merchant(
            user_id=user, payment_id=loaded.sample_id, db=db
        ),
        lambda: db.client.get_item(
            TableName=db.table,
            Key={"userId": {"S": user}, "paymentId": {"S": loaded.sample_id}},
            ConsistentRead=True,
        ),
        repeat,
        repeat,
    )
    rows.append(Row("open one payment", app, ref))

    amount = bench_data.SHARED_AMOUNT
    searches: list[tuple[str, str, Callable[[dict[str, Any]], bool], int | None]] = [
        (
            "search reference word 'booking'",
            "booking",
            lambda i: "booking" in str(i["reference"]).lower(),
            None,
        ),
        (
            f"search amount {amount} ({bench_data.SHARED_COUNT} payments)",
            str(amount),
            lambda i: Decimal(i["amount"]) == amount,
            bench_data.SHARED_COUNT,
        ),
        (
            f"search payer '{bench_data.PLANTED_PAYER.split()[-1]}' ({loaded.depth:,} back)",
            bench_data.PLANTED_PAYER.split()[-1],
            lambda i: "quartermaine" in str(i.get("payerName", "")).lower(),
            1,
        ),
    ]
    # The starting way's search is one read of the whole history (filtered by each row's text):
    # timed `ref_slow` times and shared by the three rows, so 100k stays minutes, not an hour.
    ref_all = Side()
    for _ in range(max(1, min(ref_repeat, 3))):
        with counter.measure() as work:
            t0 = time.perf_counter()
            ref_all.answer = ref_search(ref_db, user, [match for _, _, match, _ in searches])
            ref_all.timings.append((time.perf_counter() - t0) * 1000)
        ref_all.work = work
    for (name, query, _, expected), ref_ids in zip(searches, ref_all.answer, strict=True):
        app, _ = interleaved(counter, partial(app_search, db, user, query), None, repeat, 0)
        ref = Side(timings=ref_all.timings, work=ref_all.work, answer=ref_ids)
        shown = len(app.answer.payments)
        want = expected if expected is not None else min(PAGE_SIZE, len(ref.answer))
        items_ok = app.work.items_read <= PAGE_ITEMS_FACTOR * (PAGE_SIZE + 1)
        found_ok = shown >= want
        row = Row(name, app, ref, note=f"first request shows {shown} of {len(ref.answer)}")
        row.verdict = (
            "PASS" if items_ok and found_ok else "FAIL"
        ) + f" (≤ {PAGE_ITEMS_FACTOR}×(page+1) items, first page complete)"
        rows.append(row)

    for label, query in (
        ("reference word", bench_data.PLANTED_WORD),
        ("amount", str(bench_data.PLANTED_AMOUNT)),
        ("payer", bench_data.PLANTED_PAYER),
    ):
        clicks, ms, work, found = search_until(counter, db, user, query, loaded.planted_id)
        ref_side = Side(timings=[], work=Work())
        rows.append(
            Row(
                f"find by {label}, {loaded.depth:,} back",
                Side(timings=[ms], work=work),
                ref_side,
                verdict=("PASS" if found and clicks == 1 else "FAIL") + " (one request)",
                note=(
                    f"found after {clicks} request(s)"
                    if found
                    else f"not found in {clicks} request(s)"
                ),
            )
        )
    if folder is None:  # uncached data is not kept
        dynamo.tables_drop(db)
    return rows


# --- write units ------------------------------------------------------------------------------

STARTING_WRITE_UNITS = (3, 4)  # the starting table: per create, per status change


def write_units(endpoint: str) -> list[str]:
    """Write units of a create and of each status change, measured: one realistic payment
    written by the real write path into scratch tables, with DynamoDB's own
    ReturnConsumedCapacity=INDEXES on every write (DynamoDB Local reports it per table and
    index, as AWS does). Also the data layer's own figures when its function exists."""
    import random

    name = f"BenchWriteUnits-{os.getpid()}"
    db = bench_data.bench_db(endpoint, name, f"{name}Meta")
    dynamo.tables_ensure(db, wait_seconds=120)
    units: list[tuple[str, float]] = []

    def ask(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"):
            params["ReturnConsumedCapacity"] = "INDEXES"

    def record(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity")
        if consumed is None:
            return
        tables = consumed if isinstance(consumed, list) else [consumed]
        units.append((model.name, sum(float(t.get("CapacityUnits", 0)) for t in tables)))

    db.client.meta.events.register("provide-client-params.dynamodb", ask)
    db.client.meta.events.register("after-call.dynamodb", record)
    rng = random.Random(7)
    created = bench_data.END - timedelta(days=1)
    story = ("AR", "F", "AR", "AUTHORIZING", "EXECUTED", "fulfilled", "SETTLED")
    bench_data._write_story(dynamo, db, rng, 0, created, -1, set(), story=story)
    # The same writes priced from item sizes under each design (scripts/write_units.py).
    computed = write_units_report(db)
    dynamo.tables_drop(db)
    transactions = [u for name, u in units if name == "TransactWriteItems"]
    create, changes = transactions[0], transactions[2:]  # then the link, then the observations
    lines = [
        f"write units (measured, ReturnConsumedCapacity): create {create:g}; status change "
        f"median {statistics.median(changes):g} (min {min(changes):g}, max {max(changes):g}, "
        f"{len(changes)} changes of one realistic payment); starting table: "
        f"{STARTING_WRITE_UNITS[0]} and {STARTING_WRITE_UNITS[1]}"
    ]
    lines += ["", *computed]
    return lines


# --- output -----------------------------------------------------------------------------------


def print_rows(size: int, rows: list[Row]) -> None:
    print(
        f"\n| N={size:,}: pattern | app ms | requests / items | starting way ms | "
        "requests / items | × faster | verdict | note |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref_ms = f"{r.ref.median:.1f}" if r.ref.timings else "–"
        ref_work = f"{r.ref.work.requests} / {r.ref.work.items_read:,}" if r.ref.timings else "–"
        ratio = f"{r.ref.median / r.app.median:.1f}" if r.ref.timings else "–"
        print(
            f"| {r.name} | {r.app.median:.1f} | {r.app.work.requests} / "
            f"{r.app.work.items_read:,} | {ref_ms} | {ref_work} | {ratio} | {r.verdict} | "
            f"{r.note} |",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated")
    parser.add_argument("--repeat", type=int, default=15, help="interleaved runs per pattern")
    parser.add_argument(
        "--ref-repeat", type=int, default=5, help="runs of the whole-history reference reads"
    )
    parser.add_argument("--no-cache", action="store_true", help="load into an in-memory DB")
    parser.add_argument(
        "--endpoint", default=None, help="a running DynamoDB to load into (implies --no-cache)"
    )
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    print(
        f"machine: {bench_data.machine()}; "
        f"medians of {args.repeat} interleaved runs, page {PAGE_SIZE}"
    )
    failures = 0
    with bench_data.dynamodb(cache=not args.no_cache, endpoint=args.endpoint) as (endpoint, folder):
        print(f"DynamoDB Local at {endpoint}, data {folder or 'in memory'}", flush=True)
        for size in sizes:
            rows = bench_size(
                endpoint, folder, size, args.repeat, min(args.ref_repeat, args.repeat)
            )
            print_rows(size, rows)
            failures += sum(r.verdict.startswith("FAIL") for r in rows)
        print("\n" + "\n".join(write_units(endpoint)))
    print(f"\n{failures} target(s) FAILED" if failures else "\nevery target PASSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
