"""20 and 100 "New payment" forms submitted at once by one merchant, against the app served by
gunicorn as the Dockerfile runs it (3 worker processes) with threads, on a SQLite file and
DynamoDB Local: every payment is created with its (simulator) link, and no answer is a 5xx.
(runserver can't take this test: its listen backlog of 10 resets the 100 connections.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from devtools.dynamodb_local import free_port
from payments import dynamo
from payments.dynamo import Dynamo

ROOT = Path(__file__).resolve().parents[2]
MERCHANT = "dev|concurrent"


def _env(tmp: Path, repo: Dynamo, endpoint: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AUTH0_", "TRUELAYER_", "DJANGO_", "DYNAMODB_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="payments_dashboard.settings",
        DJANGO_DEBUG="1",  # the simulator makes the links; no Auth0: the development sign-in
        DATA_DIR=str(tmp),
        DYNAMODB_ENDPOINT_URL=endpoint,
        DYNAMODB_TABLE=repo.table,
        DYNAMODB_META_TABLE=repo.meta_table,
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def app_url(
    tmp_path: Path, dynamodb_local_repo: Dynamo, dynamodb_local_endpoint: str
) -> Iterator[str]:
    env = _env(tmp_path, dynamodb_local_repo, dynamodb_local_endpoint)
    for step in (["migrate", "--noinput"], ["createcachetable"]):
        subprocess.run(
            [sys.executable, "manage.py", *step],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "payments_dashboard.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--threads",
            "16",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/accounts/login/", timeout=10)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _token(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def _signed_in(url: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{url}/accounts/dev-login/", timeout=30).text
    answer = session.post(
        f"{url}/accounts/dev-login/",
        data={"merchant_id": MERCHANT, "csrfmiddlewaretoken": _token(page, "csrfmiddlewaretoken")},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


@pytest.mark.parametrize("n", [20, 100])
def test_concurrent_new_payments_all_succeed_with_their_links(
    app_url: str, dynamodb_local_repo: Dynamo, n: int
) -> None:
    signed_in = _signed_in(app_url)
    forms = []
    for _ in range(n):  # each tab has its own form (and form token)
        page = signed_in.get(f"{app_url}/payments/new/", timeout=30).text
        forms.append((_token(page, "csrfmiddlewaretoken"), _token(page, "submission_token")))
    start = threading.Barrier(n)

    def submit(i: int) -> requests.Response:
        session = requests.Session()
        session.cookies.update(signed_in.cookies)
        csrf, submission = forms[i]
        data = {
            "csrfmiddlewaretoken": csrf,
            "submission_token": submission,
            "amount": f"{i + 1}.00",
            "currency": "GBP",
            "reference": f"CONC {i}",
        }
        start.wait()
        return session.post(
            f"{app_url}/payments/new/", data=data, allow_redirects=False, timeout=120
        )

    with ThreadPoolExecutor(max_workers=n) as pool:
        answers = list(pool.map(submit, range(n)))

    statuses = [a.status_code for a in answers]
    assert statuses == [302] * n, [a.text[:300] for a in answers if a.status_code != 302][:3]
    ids = {a.headers["Location"].rstrip("/").rsplit("/", 1)[-1] for a in answers}
    assert len(ids) == n
    for payment_id in ids:
        payment = dynamo.payment_get(dynamodb_local_repo, user_id=MERCHANT, payment_id=payment_id)
        assert payment is not None and payment.link_error is None
        assert "/simulator/pay/" in payment.payment_link_url
