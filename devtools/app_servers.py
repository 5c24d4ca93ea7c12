"""N gunicorn app servers with the production settings, as a load balancer would see them.

Used by the production-shape tests (tests/production/): every server gets the same environment
(`DJANGO_DEBUG=0`, one secret key, one `DATABASE_URL`, one DynamoDB), so whatever one server
writes the others read. `prepare()` runs what an operator runs once per release (`migrate`,
`createcachetable`, `init_dynamodb`); `start()` starts one server and returns when its
`/healthz` answers 200.

By hand (Auth0 and TrueLayer settings from this shell's environment; a throwaway PostgreSQL,
an in-memory DynamoDB Local unless DYNAMODB_ENDPOINT_URL is set; Ctrl-C stops everything)::

    python -m devtools.app_servers --servers 2

The servers speak HTTPS themselves (`--certfile`/`--keyfile`): with debug off the session and
CSRF cookies are `Secure`, so a client only sends them over HTTPS, as a browser behind a TLS
load balancer does.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.dynamodb_local import REPO_ROOT, free_port, spawn, stop_process
from devtools.tls import TLSFiles

GUNICORN_WORKERS = 1
GUNICORN_THREADS = 2


class AppServerError(RuntimeError):
    """An app server (or a release step) could not start."""


@dataclass
class AppServer:
    """One running gunicorn (master plus its worker)."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """Graceful: gunicorn stops accepting, finishes the requests it has, then exits."""
        return stop_process(self.process, timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def manage(env: Mapping[str, str], *args: str, timeout: float = 180) -> str:
    """`python manage.py <args>` with `env`; returns its output, raises with it on failure."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AppServerError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout + result.stderr


def prepare(env: Mapping[str, str]) -> None:
    """The once-per-release steps, in the order an operator runs them."""
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    # CreateTable with six indexes can take DynamoDB Local longer than the app's 2 s request
    # timeout on a busy machine; a timed-out CreateTable retried by botocore then fails with
    # "preexisting table". Table administration gets a patient timeout.
    manage({**env, "DYNAMODB_TIMEOUT_SECONDS": "30"}, "init_dynamodb")


def _healthy(url: str, ca: Path) -> bool:
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=3, context=context) as answer:
            return int(answer.status) == 200
    except (OSError, urllib.error.URLError):
        return False


def start(
    name: str,
    env: Mapping[str, str],
    tls: TLSFiles,
    log_path: Path,
    *,
    port: int | None = None,
    wait_timeout: float = 60.0,
    workers: int = GUNICORN_WORKERS,
    threads: int = GUNICORN_THREADS,
    access_log: bool = True,
) -> AppServer:
    """Starts gunicorn (1 worker, 2 threads unless told) on 127.0.0.1:`port` and waits for
    `/healthz`."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "payments_dashboard.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--timeout",
        "30",
        "--graceful-timeout",
        "10",
        # Idle keep-alive connections are closed by the client side (a load balancer: an AWS
        # ALB after 60 s), not by gunicorn after its default 2 s: when gunicorn closes a
        # connection just as a request is sent on it, that request fails unanswered.
        "--keep-alive",
        "75",
        "--certfile",
        str(tls.cert),
        "--keyfile",
        str(tls.key),
        *(["--access-logfile", "-"] if access_log else []),
        "--name",
        f"dashboard-{name}",
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = spawn(command, log=log, env=dict(env), cwd=REPO_ROOT)
    server = AppServer(name, process, port, log_path)
    deadline = time.monotonic() + wait_timeout
    while not _healthy(server.url, tls.ca):
        if not server.running() or time.monotonic() > deadline:
            server.stop()
            tail = "\n".join(server.log().splitlines()[-30:])
            raise AppServerError(f"app server {name} did not become healthy:\n{tail}")
        time.sleep(0.2)
    return server


def production_settings(folder: Path) -> dict[str, str]:
    """The production settings module with debug off, on loopback, with a fresh secret key,
    static files and SQLite (users and sessions) under `folder`, and DynamoDB Local's dummy
    credentials: what `make load` and `make profile` run the app with."""
    import secrets

    from devtools.dynamodb_local import DUMMY_AWS_ENV

    return {
        **DUMMY_AWS_ENV,
        "AWS_EC2_METADATA_DISABLED": "true",
        "DJANGO_SETTINGS_MODULE": "payments_dashboard.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_ROOT": str(folder / "static"),
        "DATA_DIR": str(folder / "data"),
    }


def base_environment() -> dict[str, str]:
    """The parent's environment without anything that would change the app's settings."""
    prefixes = (
        "DJANGO_",
        "AUTH0_",
        "TRUELAYER_",
        "DYNAMODB_",
        "DATABASE_",
        "DATA_DIR",
        "AWS_",
        "PAYMENTS_",
        "HEALTHZ_",
        "MERCHANT_",
        "LOG_LEVEL",
    )
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


# --- command line ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """N app servers with the production settings of this shell's environment, on a throwaway
    PostgreSQL and (unless DYNAMODB_ENDPOINT_URL is set) an in-memory DynamoDB Local."""
    import argparse
    import secrets
    import tempfile

    from devtools import dynamodb_local, postgres_local
    from devtools.tls import make_tls

    parser = argparse.ArgumentParser(
        prog="python -m devtools.app_servers", description=main.__doc__
    )
    parser.add_argument("--servers", type=int, default=2, help="how many (default 2)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="dashboard-servers-"))
    stoppable: list[Any] = []
    try:
        postgres = postgres_local.start()
        stoppable.append(postgres)
        endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL", "")
        if not endpoint:
            dynamodb = dynamodb_local.start_on_free_port(None, log_path=folder / "dynamodb.log")
            stoppable.append(dynamodb)
            endpoint = dynamodb.endpoint_url
        tls = make_tls(folder / "tls")
        ports = [free_port() for _ in range(args.servers)]
        env = {
            **os.environ,
            **dynamodb_local.DUMMY_AWS_ENV,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_CSRF_TRUSTED_ORIGINS": ",".join(f"https://127.0.0.1:{p}" for p in ports),
            "DJANGO_STATIC_ROOT": str(folder / "static"),
            "DATABASE_URL": postgres.url,
            "DYNAMODB_ENDPOINT_URL": endpoint,
        }
        prepare(env)
        for number, port in enumerate(ports, start=1):
            server = start(f"{number}", env, tls, folder / f"server-{number}.log", port=port)
            stoppable.append(server)
            print(f"server {number}: {server.url}  (log {server.log_path})")
        print(f"PostgreSQL: {postgres.url}\nDynamoDB: {endpoint}\nCA: {tls.ca}\nCtrl-C stops all.")
        while all(s.running() for s in stoppable if isinstance(s, AppServer)):
            time.sleep(1)
        print("an app server stopped; see its log", file=sys.stderr)
        return 1
    except (AppServerError, postgres_local.PostgresError, dynamodb_local.DynamoDBLocalError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for part in reversed(stoppable):
            part.stop()


if __name__ == "__main__":
    raise SystemExit(main())
