"""Independent reads of one page, run at once: the time of the slowest, not the sum.

boto3 clients are thread-safe. The threads are kept for the life of the process: starting
two threads per page cost ~1 ms of every list page, as much as the rows' template (`make
profile`). Each call runs in a copy of the caller's context, so its log lines keep the
request id (a ContextVar).

A read run here may itself run reads at once (the list's header counts beside its rows, the
rows being one Query per status). Nested calls go to the next pool, and calls nested deeper
run one after the other in their thread: a task never waits for a task of its own pool, so
the pools cannot deadlock however busy they are.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# Threads per pool. One page runs at most one read per status (PaymentStatus has 9) and a few
# statistics reads; more threads than that would only queue on DynamoDB's connection pool.
WORKERS = 10
LEVELS = 2

_here = threading.local()
_pools: list[ThreadPoolExecutor] = []
_pools_lock = threading.Lock()


def _mark(level: int) -> None:
    _here.level = level


def _pool(level: int) -> ThreadPoolExecutor:
    """The pool whose threads run calls made at `level` (made on first use: a process forked
    by gunicorn after import starts with no threads)."""
    with _pools_lock:
        while len(_pools) <= level:
            made = len(_pools)
            _pools.append(
                ThreadPoolExecutor(
                    max_workers=WORKERS,
                    thread_name_prefix=f"dynamo-read-{made}",
                    initializer=functools.partial(_mark, made + 1),
                )
            )
        return _pools[level]


def run_concurrently(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run `calls` at once; their results in the order of `calls`. The first failure (in that
    order) is raised once every call has ended."""
    level = getattr(_here, "level", 0)
    if len(calls) <= 1 or level >= LEVELS:
        return [call() for call in calls]
    pool = _pool(level)
    futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
    for future in futures:
        future.exception()  # wait for all: none keeps running on after the page has failed
    return [future.result() for future in futures]
