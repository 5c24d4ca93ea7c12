"""Write many payments fast through the real write path: the data layer's calls run against a
`CaptureClient` (in memory), and what they wrote is sent in bulk.

`make seed` uses it: each demo payment is created and moved through its story by the same
services as a real one (`services.payment_create`, `dynamo.payment_observe`), so its items are
exactly what the app writes; only the transport changes. Instead of about eleven requests a
payment (GetItem, conditional TransactWriteItems, ...), a batch of payments costs one
BatchWriteItem per 25 items and one UpdateItem per statistics item it touched (a day's and a
month's sums in one ADD each, added to what DynamoDB already holds).

What a bulk load gives up, and why it is fine for demo data: conditions are not checked (the
payments are new, with new ULIDs, written by one process) and a batch is not one transaction
(a failure part-way leaves some of that batch's items written: the error says so).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, cast

from devtools.capture_client import CaptureClient
from payments import dynamo
from payments.dynamo import schema
from payments.dynamo.batch import batch_put


def key_schema_reader(db: dynamo.Dynamo) -> Callable[[str], tuple[str, ...]]:
    """A table's key attribute names (hash, then range), from the schema the data layer creates
    its two tables with (no request: a DynamoDB that is down fails at the first send, as a
    `payments.errors` error)."""
    specs = {db.table: schema.PAYMENTS_TABLE, db.meta_table: schema.META_TABLE}

    def key_schema(name: str) -> tuple[str, ...]:
        spec = specs[name]
        return (spec.hash_key, spec.range_key)

    return key_schema


class BulkWriter:
    """`writer.db` is a data-layer handle whose writes are captured; `flush()` sends them.

    Call `payment_done()` after each payment's last write (its items are finished: they leave
    the capture, so its reads stay small), `flush()` every few hundred payments, and `close()`
    at the end (or use it as a context manager). A flush sends in the background while the
    next batch is written: the next `flush()` or `close()` waits for it, and raises its error
    (`payments.errors`)."""

    def __init__(self, db: dynamo.Dynamo, *, threads: int = 4) -> None:
        self._real = db
        self._capture = CaptureClient(key_schema_reader(db), db.client.meta)
        # The capture duck-types the few client methods the write path calls.
        self.db = replace(db, client=cast(Any, self._capture), control=None)
        self._finished: dict[str, list[dict[str, Any]]] = {}
        self._senders = ThreadPoolExecutor(threads)
        self._background = ThreadPoolExecutor(1)
        self._sending: Future[None] | None = None
        self._metrics = dynamo.Metrics()
        self.items_sent = 0

    @property
    def requests(self) -> int:
        """DynamoDB requests sent so far."""
        return self._metrics.requests

    def __enter__(self) -> BulkWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.close()
            return
        # Writing failed part-way: what the failed batch captured is not sent (a payment may be
        # half written in memory); the send under way finishes.
        try:
            self.wait()
        finally:
            self._shutdown()

    def payment_done(self) -> None:
        """Set aside the items of the payment just written, to be sent by the next `flush()`."""
        for table, item in self._capture.take_finished():
            self._finished.setdefault(table, []).append(item)

    def flush(self) -> None:
        """Wait for the previous send, then start sending every finished item (BatchWriteItem,
        25 at a time, on a few threads) and, after them, the statistics sums."""
        self.wait()
        self.payment_done()
        by_table, self._finished = self._finished, {}
        chunks = [
            (table, items[first : first + 25])
            for table, items in by_table.items()
            for first in range(0, len(items), 25)
        ]
        counters = self._capture.take_counter_changes()
        if any(table != self._real.meta_table for table, _ in counters):
            raise RuntimeError("BulkWriter: only statistics items may be counters")
        self.items_sent += sum(len(chunk) for _, chunk in chunks)
        self._sending = self._background.submit(self._send, chunks, list(counters.values()))

    def wait(self) -> None:
        """Wait for the send under way (if any); raise its error."""
        sending, self._sending = self._sending, None
        if sending is not None:
            sending.result()

    def close(self) -> None:
        """Send what is left and wait for it."""
        try:
            self.flush()
            self.wait()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self._background.shutdown()
        self._senders.shutdown()

    # Named functions of this module (not the data layer's, submitted directly): the test
    # suite's IAM recorder tells this dev tool's calls from the app's by its frames.
    def _send(
        self, chunks: list[tuple[str, list[dict[str, Any]]]], counters: list[dict[str, Any]]
    ) -> None:
        # Items first, then the sums: statistics never count a payment not yet written.
        for done in [self._senders.submit(self._put, table, chunk) for table, chunk in chunks]:
            done.result()
        for done in [self._senders.submit(self._add, item) for item in counters]:
            done.result()

    def _put(self, table: str, chunk: list[dict[str, Any]]) -> None:
        batch_put(self._real, self._metrics, table=table, items=chunk)

    def _add(self, item: dict[str, Any]) -> None:
        moves = {k: v for k, v in item.items() if k not in ("pk", "sk")}
        dynamo.stats_counters_add(self._real, key=item, moves=moves, metrics=self._metrics)
