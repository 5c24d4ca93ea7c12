"""The shared pools that run one page's independent reads at once (dynamo/concurrent.py)."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from payments.dynamo import concurrent
from payments.dynamo.concurrent import run_concurrently

REQUEST = contextvars.ContextVar("request", default="none")


def test_results_keep_the_order_of_the_calls_and_run_at_once() -> None:
    barrier = threading.Barrier(3, timeout=5)  # passes only if all three run at the same time

    def call(i: int) -> int:
        barrier.wait()
        return i

    assert run_concurrently([lambda i=i: call(i) for i in range(3)]) == [0, 1, 2]  # type: ignore[misc]


def test_each_call_sees_the_callers_context() -> None:
    REQUEST.set("req-42")
    assert run_concurrently([REQUEST.get, REQUEST.get]) == ["req-42", "req-42"]


def test_the_first_failure_is_raised_after_every_call_ended() -> None:
    ended = []

    def slow() -> int:
        time.sleep(0.05)
        ended.append("slow")
        return 1

    def fails() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        run_concurrently([fails, slow])
    assert ended == ["slow"]


def test_nested_reads_never_deadlock_even_with_every_thread_busy() -> None:
    # More outer calls than a pool has threads, each running inner calls at once and those
    # running more: were nested calls sent to their own pool, every thread would wait for a
    # task queued behind it.
    def leaf() -> str:
        return threading.current_thread().name

    def inner() -> list[str]:
        return run_concurrently([leaf, leaf, leaf])

    def outer() -> list[list[str]]:
        return run_concurrently([inner, inner])

    calls = [outer] * (concurrent.WORKERS * 2)
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(run_concurrently(calls)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert done, "nested run_concurrently calls deadlocked"
    (results,) = done
    assert len(results) == concurrent.WORKERS * 2  # type: ignore[arg-type]
    # Level 0 runs on the first pool, level 1 on the second, deeper calls in their own thread.
    names = {name for pair in results for leaves in pair for name in leaves}  # type: ignore[attr-defined]
    assert names and all(name.startswith("dynamo-read-1") for name in names)
