"""`make run` reconciles in the background: a run every minute, its corrections on the console."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest

from devtools import run_local


class FakeRun:
    def __init__(self, output: str, code: int = 0) -> None:
        self.output, self.returncode, self.finished = output, code, False

    def poll(self) -> int | None:
        return self.returncode if self.finished else None

    def communicate(self) -> tuple[str, str]:
        return self.output, ""


def test_reconcile_runs_on_schedule_and_reports_only_corrections(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = [
        FakeRun("Checked 0 open payment(s) with TrueLayer; 0 corrected.\n"),
        FakeRun(
            "  01ABC: payment executed\nChecked 1 open payment(s) with TrueLayer; 1 corrected.\n"
        ),
    ]
    started: list[list[str]] = []

    def popen(args: list[str], **kwargs: Any) -> FakeRun:
        started.append(args)
        return runs[len(started) - 1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    clock = {"now": 1000.0}
    monkeypatch.setattr(time, "monotonic", lambda: clock["now"])
    reconciler = run_local.Reconciler(env={}, every_seconds=60, next_run=1000.0)

    reconciler.tick()  # due: the first run starts
    assert started[0][-1] == "reconcile_payments"
    reconciler.tick()  # still running: no second one
    assert len(started) == 1
    runs[0].finished = True
    clock["now"] += 61
    reconciler.tick()  # the first ends quietly (nothing corrected); the second starts
    assert len(started) == 2
    runs[1].finished = True
    reconciler.tick()
    console = capsys.readouterr().out
    assert "0 corrected" not in console
    assert "reconcile_payments: 01ABC: payment executed" in console
