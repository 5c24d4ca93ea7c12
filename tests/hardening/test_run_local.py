"""`make run` keeps the local database up: a DynamoDB Local that dies is restarted (and says
so), one that keeps dying is given up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from devtools.dynamodb_local import LocalServer, stop_process
from devtools.run_local import EngineSupervisor


@pytest.fixture
def started() -> Iterator[list[LocalServer]]:
    servers: list[LocalServer] = []
    yield servers
    for server in servers:
        stop_process(server.process, timeout=5)


def fake_engine(servers: list[LocalServer]) -> LocalServer:
    """A long-running child standing in for the java process."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )
    server = LocalServer(process, 8765, "DynamoDB Local", None, None)
    servers.append(server)
    return server


def kill(server: LocalServer) -> None:
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def test_a_killed_engine_is_restarted_and_the_console_says_so(
    started: list[LocalServer], capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor = EngineSupervisor(start=lambda: fake_engine(started), engine=fake_engine(started))
    assert supervisor.check() and supervisor.engine is started[0]

    kill(started[0])
    assert supervisor.check()

    assert len(started) == 2 and supervisor.engine is started[1]
    assert supervisor.engine.running()
    out = capsys.readouterr().out
    assert "DynamoDB Local exited unexpectedly (code -9)" in out
    assert "Restarting it" in out and "DynamoDB Local is back" in out


def test_an_engine_that_keeps_dying_is_given_up(
    started: list[LocalServer], capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor = EngineSupervisor(
        start=lambda: fake_engine(started), engine=fake_engine(started), max_restarts=2
    )
    for _ in range(2):
        kill(supervisor.engine)
        assert supervisor.check()
    kill(supervisor.engine)
    assert not supervisor.check()
    assert "died 2 times in 60 s" in capsys.readouterr().out


def test_when_ready_it_says_where_how_to_sign_in_and_how_to_get_sample_data() -> None:
    from devtools.run_local import ready_lines

    text = "\n".join(ready_lines("127.0.0.1:8000", {}))
    assert "http://127.0.0.1:8000/" in text
    assert "sign in as any id, e.g. dev|alice" in text
    assert "make seed" in text
    with_auth0 = "\n".join(ready_lines("127.0.0.1:8000", {"AUTH0_DOMAIN": "x.eu.auth0.com"}))
    assert "Auth0" in with_auth0 and "dev|alice" not in with_auth0
