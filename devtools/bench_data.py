"""One merchant's realistic history on DynamoDB Local, for `make bench` and `make load`.

N payments over 365 days, each written by the real data layer (`payment_create`,
`payment_link_set`, `payment_response_store`, `payment_observe`) into a `CaptureClient`, then
sent with BatchWriteItem: the payment items and everything the data layer writes beside them
(statistics aggregates, owner items, ...) exactly as it computes them, at thousands of payments
a second instead of one transaction each. Items are realistic: TrueLayer's raw link answer
(about 1.5 kB) kept as the refresh stores it, two attempts (the first failed), a history of
about six entries.

Some payments are planted for the searches: one `DEPTH` payments back (50,000 at 100k, half
the history below) with a reference word, an amount and a payer nobody else has, and 20
spread over the history sharing one amount.

The loaded data is cached: DynamoDB Local keeps it under `.data/bench/<fingerprint>/`, where
the fingerprint covers the table specs and the source of the code that shapes items, so a
change to the schema or the write path reloads, and nothing else does.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import itertools
import json
import multiprocessing
import os
import platform
import random
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from queue import Queue
from typing import Any

from devtools import dynamodb_local
from devtools.bulk_load import key_schema_reader
from devtools.capture_client import CaptureClient, Key, merge_counters
from devtools.dynamodb_local import REPO_ROOT
from payments.dynamo.items import serialize

USER = "auth0|bench-merchant"
END = datetime(2026, 11, 1, tzinfo=UTC)  # fixed, so the data (and its cache) do not drift
DAYS = 365
MAX_DEPTH = 50_000
SHARED_AMOUNT = Decimal("777.77")  # 20 payments spread over the history have it
SHARED_COUNT = 20
PLANTED_WORD = "Zephyr"
PLANTED_AMOUNT = Decimal("9876.54")  # every other amount is below 500
PLANTED_PAYER = "Ottoline Quartermaine"
# DynamoDB Local's -dbPath is SQLite on disk; BENCH_CACHE_DIR=/dev/shm/bench keeps the cache in
# memory (until a reboot), which loads faster.
CACHE_DIR = Path(os.environ.get("BENCH_CACHE_DIR") or REPO_ROOT / ".data" / "bench")
# What shapes an item: the code that writes it (and this loader's stories, below).
_SHAPING_CODE = ("payments/dynamo", "payments/lifecycle", "payments/domain.py")
# Modules of payments/dynamo that only read (how answers are parsed, listing, search, lookups,
# running reads at once): a change to them cannot change a stored item, so it keeps the cache.
_READ_ONLY_CODE = frozenset(
    {"answers.py", "listing.py", "search.py", "lookups.py", "write_units.py", "concurrent.py"}
)

_WORDS = ["Invoice", "Order", "Renewal", "Deposit", "Booking", "Member"]
_FIRST = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Leo", "Ivy", "Arthur"]
_LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts"]
_BANKS = ["ob-lloyds", "ob-hsbc", "ob-natwest", "ob-barclays", "ob-monzo", "ob-revolut"]


@dataclass(frozen=True)
class Loaded:
    """A loaded merchant: where it is and what was planted in it."""

    size: int
    table: str
    meta_table: str
    user_id: str
    depth: int  # how many payments back the planted one is
    planted_id: str
    planted_created_at: str
    sample_id: str  # a payment to open (detail page)
    load_seconds: float


@contextmanager
def dynamodb(cache: bool = True, endpoint: str | None = None) -> Iterator[tuple[str, Path | None]]:
    """DynamoDB Local for the benchmark: persistent under the cache folder of this code's
    fingerprint (other fingerprints' folders are removed), or in memory; or, given `endpoint`,
    that running DynamoDB (no cache: the smoke test uses the test session's)."""
    if endpoint is not None:
        yield endpoint, None
        return
    folder: Path | None = None
    if cache:
        folder = CACHE_DIR / fingerprint()
        if CACHE_DIR.exists():
            for other in CACHE_DIR.iterdir():
                if other != folder and other.is_dir():
                    shutil.rmtree(other, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
    # The starting way's reads of 100,000 whole payments: more heap than DynamoDB Local's 512 MB.
    os.environ.setdefault("DYNAMODB_LOCAL_HEAP", "2g")
    # Rollback journal: hours of bulk writes starve write-ahead-log checkpoints.
    server = dynamodb_local.start_on_free_port(
        folder, log_path=(folder or CACHE_DIR) / "dynamodb.log", write_ahead_log=False
    )
    try:
        yield server.endpoint_url, folder
    finally:
        server.stop()


def fingerprint() -> str:
    """Changes whenever the tables or the code that shapes items change."""
    from payments.dynamo import schema

    digest = hashlib.sha256()
    for spec in (schema.PAYMENTS_TABLE, schema.META_TABLE):
        digest.update(json.dumps(spec.create_table_kwargs("T"), sort_keys=True).encode())
    for name in _SHAPING_CODE:
        path = REPO_ROOT / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.parent.name == "dynamo" and file.name in _READ_ONLY_CODE:
                continue
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    # This loader's data: its stories and the code that writes them (not the rest of this
    # module, so a change to how the benchmark runs keeps the cache).
    digest.update(repr((_STORIES, END, DAYS, MAX_DEPTH, SHARED_AMOUNT, SHARED_COUNT)).encode())
    digest.update(repr((PLANTED_WORD, PLANTED_AMOUNT, PLANTED_PAYER, USER)).encode())
    for function in (_write_story, _link_answer, _load_share):
        digest.update(inspect.getsource(function).encode())
    return digest.hexdigest()[:16]


def ensure_loaded(endpoint: str, size: int, folder: Path | None) -> Loaded:
    """The merchant with `size` payments: from the cache when this fingerprint loaded it
    before, else loaded now (and remembered)."""
    from payments import dynamo

    marker = folder / f"loaded-{size}.json" if folder else None
    if marker is not None and marker.exists():
        loaded = Loaded(**json.loads(marker.read_text()))
        db = bench_db(endpoint, loaded.table, loaded.meta_table)
        if not any(r.problems for r in dynamo.tables_ensure(db, wait_seconds=120)):
            return loaded
    # Uncached data may share a DynamoDB with other runs: a table name of its own.
    table = f"Bench{size}" if folder is not None else f"Bench{size}-{os.getpid()}"
    db = bench_db(endpoint, table, f"{table}Meta")
    from payments.errors import RepositoryError

    with contextlib.suppress(RepositoryError):  # absent on a first load
        dynamo.tables_drop(db)
    dynamo.tables_ensure(db, wait_seconds=300)
    loaded = load(db, size)
    if marker is not None:
        marker.write_text(json.dumps(asdict(loaded)))
    return loaded


def bench_db(endpoint: str, table: str, meta_table: str, *, stock_boto3: bool = False) -> Any:
    """A data-layer handle on the benchmark's tables, with patient timeouts. `stock_boto3`:
    with botocore's own answer parser, as the starting app's raw boto3 calls had it."""
    from payments import dynamo

    # Patient timeouts: the reference reads of the whole history page through megabytes.
    client = dynamo.make_client(
        endpoint_url=endpoint, region="eu-west-2", timeout=60, fast_answers=not stock_boto3
    )
    return dynamo.Dynamo(client, table=table, meta_table=meta_table)


def load(db: Any, size: int, *, processes: int = 2) -> Loaded:
    """Write `size` payments of `USER` through the real data layer into CaptureClients (one per
    process, each a contiguous share of the history) and send the items with BatchWriteItem;
    the statistics counters the shares built are summed, then sent."""
    t0 = time.perf_counter()
    bounds = [size * k // processes for k in range(processes + 1)]
    jobs = [
        (db.endpoint, db.table, db.meta_table, size, a, b) for a, b in itertools.pairwise(bounds)
    ]
    if processes > 1:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            shares = pool.starmap(_load_share, jobs)
    else:
        shares = [_load_share(*job) for job in jobs]
    counters = merge_counters([(share.counters, share.mixed) for share in shares])
    items = [(key[0], serialize(item)) for key, item in counters.items()]
    for first in range(0, len(items), 25):
        batch: dict[str, list[dict[str, Any]]] = {}
        for table, item in items[first : first + 25]:
            batch.setdefault(table, []).append({"PutRequest": {"Item": item}})
        _batch_write(db, batch)
    sent = sum(share.sent for share in shares) + len(items)
    elapsed = time.perf_counter() - t0
    print(
        f"  loaded {size:,} payments ({sent:,} items) by BatchWriteItem in {elapsed:.0f} s",
        flush=True,
    )
    found = {name: value for share in shares for name, value in share.found.items()}
    return Loaded(
        size=size,
        table=db.table,
        meta_table=db.meta_table,
        user_id=USER,
        depth=_depth(size),
        planted_id=found["planted_id"],
        planted_created_at=found["planted_created_at"],
        sample_id=found["sample_id"],
        load_seconds=round(elapsed, 1),
    )


def _depth(size: int) -> int:
    return min(MAX_DEPTH, size // 2)


@dataclass
class _Share:
    counters: dict[Key, dict[str, Any]]
    mixed: set[Key]
    sent: int
    found: dict[str, str]


def _load_share(
    endpoint: str, table: str, meta_table: str, size: int, first: int, stop: int
) -> _Share:
    """Payments `first` to `stop - 1`: written through the data layer into a CaptureClient,
    each payment's finished items sent at once (writer threads), counters kept for the merge."""
    from dataclasses import replace

    from payments import dynamo

    db = bench_db(endpoint, table, meta_table)
    lock = threading.Lock()
    capture = CaptureClient(key_schema_reader(db), db.client.meta)
    fake = replace(db, client=capture, control=None)
    queue: Queue[tuple[str, dict[str, Any]] | None] = Queue(maxsize=5_000)
    sent = [0]
    errors: list[BaseException] = []

    def writer() -> None:
        batch: dict[str, list[dict[str, Any]]] = {}
        try:
            while True:
                entry = queue.get()
                if entry is not None:
                    batch.setdefault(entry[0], []).append({"PutRequest": {"Item": entry[1]}})
                if sum(map(len, batch.values())) >= 25 or (entry is None and batch):
                    _batch_write(db, batch)
                    with lock:
                        sent[0] += sum(map(len, batch.values()))
                    batch = {}
                if entry is None:
                    return
        except BaseException as error:  # noqa: BLE001 - re-raised by the share
            errors.append(error)
            while queue.get() is not None:  # keep the producer from blocking
                pass

    depth = _depth(size)
    start = END - timedelta(days=DAYS)
    planted_index = size - 1 - depth
    shared = {size * k // SHARED_COUNT + size // (2 * SHARED_COUNT) for k in range(SHARED_COUNT)}
    found: dict[str, str] = {}
    t0 = time.perf_counter()
    writers = 3
    with ThreadPoolExecutor(writers) as pool:
        futures = [pool.submit(writer) for _ in range(writers)]
        try:
            for i in range(first, stop):
                rng = random.Random(size * 1_000_003 + i)  # the same data however it is split
                created = start + timedelta(seconds=DAYS * 86400 * i // size + rng.randint(0, 59))
                payment = _write_story(dynamo, fake, rng, i, created, planted_index, shared)
                if i == planted_index:
                    found["planted_id"] = payment.payment_id
                    found["planted_created_at"] = payment.created_at.isoformat()
                if i == size - 30:
                    found["sample_id"] = payment.payment_id
                for entry in capture.take_finished():
                    queue.put(entry)
                if errors:
                    break
                done = i - first
                if done and done % 5_000 == 0:
                    rate = done / (time.perf_counter() - t0)
                    print(f"    {done:,} of {stop - first:,} ({rate:,.0f}/s)", file=sys.stderr)
        finally:
            for _ in futures:
                queue.put(None)  # every writer stops, even when writing a story failed
        for future in futures:
            future.result()
    if errors:
        raise errors[0]
    return _Share(capture.take_counters(), capture.mixed, sent[0], found)


def _batch_write(db: Any, batch: dict[str, list[dict[str, Any]]]) -> None:
    """BatchWriteItem of ≤ 25 puts, resending what DynamoDB left unprocessed."""
    pending: dict[str, Any] = dict(batch)
    for attempt in range(50):
        answer = db.client.batch_write_item(RequestItems=pending)
        pending = answer.get("UnprocessedItems") or {}
        if not pending:
            return
        time.sleep(min(0.05 * 2**attempt, 1))
    raise RuntimeError("BatchWriteItem kept leaving items unprocessed")


# The payers' stories: attempt steps, or the link closing ("fulfilled" / "expired"). Most have
# two attempts, the first failed, as a payer who retried after their bank refused.
_STORIES: list[tuple[int, tuple[str, ...]]] = [
    (40, ("AR", "F", "AR", "AUTHORIZING", "EXECUTED", "fulfilled", "SETTLED")),
    (20, ("AR", "F", "AR", "AUTHORIZING", "EXECUTED", "fulfilled")),
    (20, ("AR", "F", "AR", "AUTHORIZING", "F", "expired")),
    (10, ("AR", "F", "AR", "AUTHORIZING")),
    (10, ()),
]
_STEP_NAMES = {"AR": "AUTHORIZATION_REQUIRED", "F": "FAILED"}
_STORY_CHOICES = [story for weight, story in _STORIES for _ in range(weight)]


def _write_story(
    dynamo: Any,
    db: Any,
    rng: random.Random,
    i: int,
    created: datetime,
    planted_index: int,
    shared: set[int],
    *,
    story: tuple[str, ...] | None = None,
) -> Any:
    """Payment number `i`: created, its link stored with TrueLayer's answers, then its payer's
    story (`story`, else a random one) observed step by step, all through the data layer."""
    from payments.lifecycle import AttemptSeen, AttemptStatus, LinkDisabled

    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    payer_name, word = f"{first} {last}", rng.choice(_WORDS)
    amount = Decimal(rng.randint(100, 50_000)) / 100
    if i == planted_index:
        payer_name, word, amount = PLANTED_PAYER, PLANTED_WORD, PLANTED_AMOUNT
    elif i in shared:
        amount = SHARED_AMOUNT
    currency = "GBP" if i % 5 else "EUR"
    payment = dynamo.payment_create(
        db,
        user_id=USER,
        amount=amount,
        currency=currency,
        reference=f"{word} {i:06d}",
        payer_name=payer_name,
        payer_email=f"{payer_name.lower().replace(' ', '.')}@example.org",
        expires_at=created + timedelta(hours=24),
        now=created,
    )
    link_id = f"bench-link-{payment.payment_id}"
    url = f"https://payment.truelayer-sandbox.com/payment-link/{link_id}"
    dynamo.payment_link_set(
        db,
        user_id=USER,
        payment_id=payment.payment_id,
        link_id=link_id,
        link_url=url,
        response={"id": link_id, "uri": url},
    )
    dynamo.payment_response_store(
        db,
        user_id=USER,
        payment_id=payment.payment_id,
        name="get_payment_link",
        response=_link_answer(link_id, url, payment, created),
    )
    attempt = 0
    bank = rng.choice(_BANKS)
    for offset, step in enumerate(story or rng.choice(_STORY_CHOICES), start=1):
        at = created + timedelta(seconds=40 * offset)
        if step in ("fulfilled", "expired"):
            seen: Any = LinkDisabled(step, at)
        else:
            status = AttemptStatus[_STEP_NAMES.get(step, step)]
            attempt += status is AttemptStatus.AUTHORIZATION_REQUIRED
            failed = status is AttemptStatus.FAILED
            seen = AttemptSeen(
                f"bench-{payment.payment_id}-{attempt}",
                status,
                at,
                created_at=at if status is AttemptStatus.AUTHORIZATION_REQUIRED else None,
                failure_stage="authorizing" if failed else "",
                failure_reason="provider_rejected" if failed else "",
                provider_id=bank,
            )
        dynamo.payment_observe(
            db, user_id=USER, payment_id=payment.payment_id, observation=seen, source="webhook"
        )
    return payment


def _link_answer(link_id: str, url: str, payment: Any, created: datetime) -> dict[str, Any]:
    """TrueLayer's GET /v3/payment-links/{id} answer, at its real size."""
    return {
        "id": link_id,
        "type": "single_payment",
        "uri": url,
        "status": "enabled",
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "expires_at": (created + timedelta(hours=24)).isoformat().replace("+00:00", "Z"),
        "reference": payment.reference,
        "return_uri": "https://dashboard.example.com/payments/return/",
        "payment_configuration": {
            "amount_in_minor": int(payment.amount * 100),
            "currency": payment.currency,
            "payment_method": {
                "type": "bank_transfer",
                "provider_selection": {
                    "type": "user_selected",
                    "filter": {
                        "countries": ["GB"],
                        "release_channel": "general_availability",
                        "customer_segments": ["retail"],
                        "excludes": {"provider_ids": ["ob-exclude-this-bank"]},
                    },
                    "scheme_selection": {"type": "instant_preferred", "allow_remitter_fee": False},
                },
                "beneficiary": {
                    "type": "merchant_account",
                    "merchant_account_id": "AB8FA060-3F1B-4AE8-9692-4AA3131020D0",
                    "statement_reference": "DASHBOARD",
                },
            },
            "user": {
                "id": f"f61c0ec7-0f83-414e-8e5f-aace86e0ed35-{payment.payment_id[-6:]}",
                "name": payment.payer_name,
                "email": payment.payer_email,
            },
            "risk_assessment": {"segment": "retail"},
            "metadata": {"dashboard_payment_id": payment.payment_id, "source": "payment-link"},
        },
        "product_items": [
            {"name": "Annual membership", "price_in_minor": 4500, "quantity": 1, "url": url},
            {"name": "Booking fee", "price_in_minor": 250, "quantity": 2, "url": url},
        ],
        "metadata": {"merchant_order": payment.reference, "channel": "dashboard"},
    }


def machine() -> str:
    """What the figures were measured on (and how busy it was)."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, load average {load:.1f}, "
        f"Python {platform.python_version()}"
    )
