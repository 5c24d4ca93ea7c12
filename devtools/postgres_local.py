"""A throwaway PostgreSQL for the production-shape tests: Debian's `postgresql` package, a
fresh cluster in a temporary folder, on a free local port, gone when it stops.

* The binaries are Debian's (`/usr/lib/postgresql/<version>/bin`); `install()` runs
  `apt-get install postgresql` when they are missing and we are root (the Makefile's
  `postgres-deps`, which `make test` runs, does the same).
* `initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user that
  the package creates, and the server runs as that user.
* It listens on 127.0.0.1 only, with password (scram-sha-256) authentication over TCP, like a
  real database server; its Unix socket lives in the data folder, not in /var/run.
* Durability is switched off (`fsync=off`): the data is thrown away anyway, and the tests run
  on 2 shared cores.

Command line (a PostgreSQL to try `DATABASE_URL` by hand; Ctrl-C stops and deletes it)::

    python -m devtools.postgres_local install
    python -m devtools.postgres_local start [--port 5433]
"""

from __future__ import annotations

import argparse
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.dynamodb_local import free_port, port_in_use

DEBIAN_ROOT = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"
DATABASE = "dashboard"
ROLE = "dashboard"


def _load_libc() -> Any:
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None


# Loaded here, in the parent: after the switch to the `postgres` user the child may not be
# allowed to read this Python's files (a root-owned pyenv), so it must import nothing.
_LIBC = _load_libc() if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child before exec (after the user switch, so it sticks): SIGTERM when the
    process that started it dies, so no postgres outlives a killed test run."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class PostgresError(RuntimeError):
    """PostgreSQL could not be installed, started or reached."""


def bin_dir(root: Path = DEBIAN_ROOT) -> Path | None:
    """The newest installed `/usr/lib/postgresql/<version>/bin` holding initdb, or None."""
    candidates = [p / "bin" for p in root.glob("*") if (p / "bin" / "initdb").exists()]
    candidates.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return candidates[-1] if candidates else None


def install() -> Path:
    """Debian's `postgresql` package unless it is there; returns its bin folder."""
    found = bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise PostgresError(
            "PostgreSQL is not installed: run `sudo apt-get install -y postgresql` "
            "(or `make postgres-deps` as root)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = " | ".join(result.stderr.strip().splitlines()[-3:])
            raise PostgresError(f"`{' '.join(command)}` failed: {tail}")
    found = bin_dir()
    if found is None:
        raise PostgresError("apt-get installed postgresql but no initdb was found")
    return found


def _run_as() -> str | None:
    """The user the cluster runs as: `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresError(
            f"running as root but there is no `{SERVICE_USER}` user to own the cluster "
            "(Debian's postgresql package creates it)"
        ) from None
    return SERVICE_USER


@dataclass
class LocalPostgres:
    """A running throwaway cluster. `url` is what `DATABASE_URL` should be."""

    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    password: str

    @property
    def url(self) -> str:
        return f"postgres://{ROLE}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def log_path(self) -> Path:
        return self.folder / "postgres.log"

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """Fast shutdown (SIGINT: disconnects clients), SIGKILL if it hangs; deletes the data."""
        if self.process.poll() is None:
            for sig, wait in ((signal.SIGINT, timeout), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        shutil.rmtree(self.folder, ignore_errors=True)


def _tail(path: Path, lines: int = 5) -> str:
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").strip().splitlines()
    return " | ".join(line.strip() for line in text[-lines:] if line.strip())


def start(port: int | None = None, *, wait_timeout: float = 60.0) -> LocalPostgres:
    """initdb a fresh cluster in a temporary folder, start it on 127.0.0.1:`port` (a free one
    by default), create the `dashboard` role and database, and return once it accepts them."""
    binaries = install()
    user = _run_as()
    port = port or free_port()
    if port_in_use(port):
        raise PostgresError(f"port {port} is already in use")
    folder = Path(tempfile.mkdtemp(prefix="dashboard-postgres-"))
    data = folder / "data"
    password = secrets.token_urlsafe(24)
    pwfile = folder / "password"
    pwfile.write_text(password + "\n")
    if user is not None:
        entry = pwd.getpwnam(user)
        for path in (folder, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    try:
        initdb = subprocess.run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                ROLE,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            user=user,
            group=user,
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        pwfile.unlink()
        if initdb.returncode != 0:
            raise PostgresError(f"initdb failed: {initdb.stderr.strip()[-500:]}")
        log = (folder / "postgres.log").open("ab")
        try:
            process = subprocess.Popen(
                [
                    str(binaries / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={folder}",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=50",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=user,
                group=user,
                cwd=folder,
                start_new_session=True,
                # Runs after the switch to `user`, so the death signal survives it.
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        server = LocalPostgres(process, port, folder, password)
        _wait_and_create_database(server, wait_timeout)
        return server
    except BaseException:
        if "server" in locals():
            server.stop()
        else:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _wait_and_create_database(server: LocalPostgres, timeout: float) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    admin = f"postgres://{ROLE}:{server.password}@127.0.0.1:{server.port}/postgres"
    while True:
        if not server.running():
            raise PostgresError(
                f"postgres exited with code {server.process.returncode}: {_tail(server.log_path)}"
            )
        try:
            with psycopg.connect(admin, connect_timeout=2, autocommit=True) as connection:
                connection.execute(f"CREATE DATABASE {DATABASE}")
            return
        except psycopg.OperationalError as error:
            if time.monotonic() >= deadline:
                raise PostgresError(f"PostgreSQL did not accept connections: {error}") from None
            time.sleep(0.2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.postgres_local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="apt-get install postgresql when it is missing (root)")
    start_parser = commands.add_parser("start", help="a throwaway cluster in the foreground")
    start_parser.add_argument("--port", type=int, default=None, help="default: a free port")
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            print(f"PostgreSQL binaries: {install()}")
            return 0
        server = start(args.port)
    except PostgresError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"DATABASE_URL={server.url}\n(data in {server.folder}; Ctrl-C stops and deletes it)")
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
