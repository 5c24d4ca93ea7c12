"""The production shape on one machine: one PostgreSQL, one DynamoDB Local, fake Auth0 and
TrueLayer over HTTPS, and two gunicorn app servers (A and B) with the production settings.

Started once per test module that asks for `stack` (a few seconds), stopped at its end. When a
part cannot start the tests are skipped with the reason, and fail in CI (CI=true).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from devtools import app_servers, postgres_local
from devtools.app_servers import AppServer
from devtools.dynamodb_local import DUMMY_AWS_ENV, free_port
from devtools.tls import TLSFiles, make_tls
from payments import dynamo
from payments.domain import Payment
from payments.dynamo import Dynamo
from tests.conftest import skip_or_fail
from tests.production.fake_providers import (
    AUTH0_CLIENT_ID,
    AUTH0_CLIENT_SECRET,
    FakeProviders,
    start_fakes,
)

_CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_TOKEN_RE = re.compile(r'name="submission_token" value="([0-9a-f]{32})"')


@dataclass
class Stack:
    """Everything the two-server tests talk to."""

    a: AppServer
    b: AppServer
    fake: FakeProviders
    tls: TLSFiles
    env: dict[str, str]
    database_url: str
    repository: Dynamo

    def browser(self) -> Browser:
        return Browser(self)

    # What the servers stored, read straight from DynamoDB (the only data-layer calls here).
    def payment(self, user_id: str, payment_id: str) -> Payment | None:
        return dynamo.payment_get(self.repository, user_id=user_id, payment_id=payment_id)

    def payments_matching(self, user_id: str, text: str) -> list[Payment]:
        return dynamo.payment_search(self.repository, user_id=user_id, query=text).items

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """One statement on the app servers' shared PostgreSQL."""
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            cursor = connection.execute(query)
            return cursor.fetchall() if cursor.description else []

    def manage(self, *args: str) -> str:
        """`manage.py <args>` with the app servers' environment (a scheduled job's view)."""
        return app_servers.manage(self.env, *args)


class Browser:
    """One merchant's browser: one cookie jar, whichever server the load balancer picks."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.session = requests.Session()
        # As a browser does: a GET whose reused keep-alive connection was closed before any
        # answer is sent again, and a refused connection is tried again; POSTs are not resent.
        retry = Retry(total=2, connect=2, read=2, status=0, redirect=0, backoff_factor=0.1)
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        # Per request: a session-wide `verify` loses to REQUESTS_CA_BUNDLE in the environment.
        self.verify = str(stack.tls.ca)

    def get(self, server: AppServer, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(
            server.url + path, timeout=30, allow_redirects=False, verify=self.verify, **kwargs
        )

    def post(
        self,
        server: AppServer,
        path: str,
        data: dict[str, str],
        *,
        page_from: AppServer | None = None,
    ) -> requests.Response:
        """A form POST; `page_from` is the server the form page came from (its Origin)."""
        origin = (page_from or server).url
        return self.session.post(
            server.url + path,
            data=data,
            headers={"Origin": origin, "Referer": origin + path},
            timeout=30,
            allow_redirects=False,
            verify=self.verify,
        )

    def form(self, server: AppServer, path: str) -> dict[str, str]:
        """The hidden fields of the form at `path` (CSRF token, submission token)."""
        page = self.get(server, path)
        assert page.status_code == 200, (page.status_code, page.text[:500])
        fields = {"csrfmiddlewaretoken": _first(_CSRF_RE, page.text)}
        token = _TOKEN_RE.search(page.text)
        if token:
            fields["submission_token"] = token.group(1)
        return fields

    def sign_in(self, start_on: AppServer, finish_on: AppServer, sub: str) -> requests.Response:
        """Press "Sign in" on one server; Auth0 sends the browser back to the other."""
        fields = self.form(start_on, "/accounts/login/")
        started = self.post(start_on, "/login/auth0/", fields)
        assert started.status_code == 302, started.text[:500]
        assert started.headers["Location"].startswith(f"{self.stack.fake.url}/authorize?")
        params = parse_qs(urlsplit(started.headers["Location"]).query)
        code = self.stack.fake.issue_code(sub)
        return self.get(finish_on, f"/complete/auth0/?code={code}&state={params['state'][0]}")

    def new_payment_form(self, server: AppServer, reference: str, amount: str) -> dict[str, str]:
        return {
            **self.form(server, "/payments/new/"),
            "amount": amount,
            "currency": "GBP",
            "reference": reference,
        }


def _first(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    assert match, f"{pattern.pattern} not found in the page"
    return match.group(1)


def _server_env(
    *,
    database_url: str,
    dynamodb_endpoint: str,
    fake: FakeProviders,
    tls: TLSFiles,
    origins: list[str],
    tables: tuple[str, str],
    static_root: str,
) -> dict[str, str]:
    """Production settings: debug off, a generated secret key, every provider local."""
    return {
        **app_servers.base_environment(),
        **app_servers.production_settings(Path(static_root).parent),
        "DJANGO_STATIC_ROOT": static_root,
        # Behind a real load balancer this is the one public origin.
        "DJANGO_CSRF_TRUSTED_ORIGINS": ",".join(origins),
        "DATABASE_URL": database_url,
        "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint,
        "DYNAMODB_TABLE": tables[0],
        "DYNAMODB_META_TABLE": tables[1],
        "AUTH0_DOMAIN": fake.auth0_domain,
        "AUTH0_CLIENT_ID": AUTH0_CLIENT_ID,
        "AUTH0_CLIENT_SECRET": AUTH0_CLIENT_SECRET,
        "TRUELAYER_MODE": "sandbox",
        "TRUELAYER_CLIENT_ID": settings.TRUELAYER_CLIENT_ID,
        "TRUELAYER_CLIENT_SECRET": settings.TRUELAYER_CLIENT_SECRET,
        "TRUELAYER_SIGNING_KEY_ID": settings.TRUELAYER_SIGNING_KEY_ID,
        "TRUELAYER_SIGNING_PRIVATE_KEY": settings.TRUELAYER_SIGNING_PRIVATE_KEY,
        "TRUELAYER_MERCHANT_ACCOUNT_ID": settings.TRUELAYER_MERCHANT_ACCOUNT_ID,
        "TRUELAYER_AUTH_URL": fake.url,
        "TRUELAYER_API_URL": fake.url,
        "TRUELAYER_WEBHOOK_JKU_ALLOWLIST": fake.jku,
        "TRUELAYER_RETRY_BASE_SECONDS": "0.1",
        # The app's `requests` (Auth0, TrueLayer) trust the fakes' test CA.
        "REQUESTS_CA_BUNDLE": str(tls.ca),
        "LOG_LEVEL": "INFO",
        # Every open payment is due a check at once (the reconciliation test).
        "RECONCILE_STALE_AFTER_MINUTES": "0",
    }


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed two-server test shows the end of each server's log (tracebacks, access log)."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack, Stack):
        for server in (stack.a, stack.b):
            tail = "\n".join(server.log().splitlines()[-40:])
            report.sections.append((f"server {server.name} log", tail))
    return report


@pytest.fixture(scope="module")
def stack(
    dynamodb_local_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("production")
    tls = make_tls(folder / "tls")
    fakes = start_fakes(tls)
    started: list[Any] = [fakes]
    try:
        try:
            postgres = postgres_local.start()
        except postgres_local.PostgresError as error:
            skip_or_fail(f"PostgreSQL could not start: {error}")
        started.append(postgres)
        suffix = uuid.uuid4().hex[:8]
        tables = (f"ProdPayments-{suffix}", f"ProdPaymentsMeta-{suffix}")
        ports = [free_port(), free_port()]
        env = _server_env(
            database_url=postgres.url,
            dynamodb_endpoint=dynamodb_local_endpoint,
            fake=fakes.fake,
            tls=tls,
            origins=[f"https://127.0.0.1:{port}" for port in ports],
            tables=tables,
            static_root=str(folder / "static"),
        )
        try:
            app_servers.prepare(env)
            servers = []
            for name, port in zip("AB", ports, strict=True):
                servers.append(
                    app_servers.start(name, env, tls, folder / f"server-{name}.log", port=port)
                )
                started.append(servers[-1])
        except app_servers.AppServerError as error:
            skip_or_fail(str(error))
        repository = Dynamo(
            dynamo.make_client(
                endpoint_url=dynamodb_local_endpoint, region=DUMMY_AWS_ENV["AWS_REGION"]
            ),
            table=tables[0],
            meta_table=tables[1],
        )
        yield Stack(servers[0], servers[1], fakes.fake, tls, env, postgres.url, repository)
    finally:
        for part in reversed(started):
            part.stop()
