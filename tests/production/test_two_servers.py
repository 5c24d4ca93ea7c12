"""Two app servers behind one (imaginary) load balancer share everything a merchant needs.

Servers A and B run gunicorn with the production settings on one PostgreSQL (users, sessions,
the cache) and one DynamoDB Local (payments); Auth0 and TrueLayer are local fakes over HTTPS.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

import pytest
import requests

from devtools.app_servers import AppServer
from payments.domain import PaymentStatus
from tests.production.conftest import Browser, Stack

pytestmark = pytest.mark.production

MERCHANT = "auth0|prod-shape-merchant"
HTMX = {"HX-Request": "true"}
T = TypeVar("T")


def signed_in(stack: Stack, sub: str = MERCHANT) -> Browser:
    browser = stack.browser()
    back = browser.sign_in(stack.a, stack.b, sub)
    assert back.status_code == 302, back.text[:500]
    return browser


def payment_id_from(location: str) -> str:
    match = re.fullmatch(r"/payments/([0-9A-Z]{26})/", location)
    assert match, location
    return match.group(1)


def test_a_merchant_signed_in_through_a_keeps_working_through_b(stack: Stack) -> None:
    browser = stack.browser()

    back = browser.sign_in(start_on=stack.a, finish_on=stack.a, sub=MERCHANT)
    assert back.status_code == 302
    assert back.headers["Location"] == "/"

    on_b = browser.get(stack.b, "/")
    assert on_b.status_code == 200
    assert "Alice Merchant" in on_b.text
    on_a = browser.get(stack.a, "/payments/new/")
    assert on_a.status_code == 200

    # And a stranger's browser gets the sign-in page from either server.
    stranger = stack.browser()
    assert stranger.get(stack.b, "/").status_code == 302


def create_payment(
    browser: Browser, server: AppServer, reference: str, *, form_from: AppServer | None = None
) -> str:
    """Fill in "New payment" (page from `form_from`) and submit it to `server`: our id."""
    page_server = form_from or server
    form = browser.new_payment_form(page_server, reference, "12.50")
    answer = browser.post(server, "/payments/new/", form, page_from=page_server)
    assert answer.status_code == 302, answer.text[:500]
    return payment_id_from(answer.headers["Location"])


Delivery = tuple[bytes, dict[str, str]]


def payer_pays(stack: Stack, link_id: str, tl_payment_id: str) -> list[Delivery]:
    """TrueLayer's webhooks for a payer who pays the link: attempt created, then executed.
    Signed once: a retried delivery sends the same event (same `event_id`) again."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [
        stack.fake.webhook(
            "payment_link_payment_created",
            payment_link_id=link_id,
            payment={"id": tl_payment_id, "created_at": now},
        ),
        stack.fake.webhook("payment_executed", payment_id=tl_payment_id, executed_at=now),
    ]


def deliver(stack: Stack, server: AppServer, delivery: Delivery) -> None:
    body, headers = delivery
    answer = requests.post(
        server.url + "/webhooks/truelayer/",
        data=body,
        headers=headers,
        timeout=30,
        verify=str(stack.tls.ca),
    )
    assert answer.status_code == 200, answer.text[:300]


def test_a_payment_created_on_a_paid_by_a_webhook_to_b_shows_live_on_a(stack: Stack) -> None:
    browser = signed_in(stack)
    payment_id = create_payment(browser, stack.a, "TWO-SERVERS-1")
    payment = stack.payment(MERCHANT, payment_id)
    assert payment is not None and payment.payment_link_id
    badge = browser.get(stack.a, f"/payments/{payment_id}/status/?shown=pending", headers=HTMX)
    assert badge.status_code == 204  # still pending: nothing to swap

    for delivery in payer_pays(stack, payment.payment_link_id, "tl-pay-two-servers-1"):
        deliver(stack, stack.b, delivery)

    badge = browser.get(stack.a, f"/payments/{payment_id}/status/?shown=pending", headers=HTMX)
    assert badge.status_code == 200
    assert "Executed" in badge.text
    stored = stack.payment(MERCHANT, payment_id)
    assert stored is not None and stored.status is PaymentStatus.EXECUTED


def test_the_truelayer_token_is_fetched_once_for_both_servers_and_once_after_it_expires(
    stack: Stack,
) -> None:
    browser = signed_in(stack)
    stack.sql("DELETE FROM django_cache")
    with stack.fake.lock:
        stack.fake.token_requests = 0
        # The client renews 120 s before expiry: this token is cached for 4 s.
        stack.fake.token_lifetime = 124
    try:
        create_payment(browser, stack.a, "TOKEN-1")
        fetched_at = time.monotonic()
        create_payment(browser, stack.b, "TOKEN-2")
        create_payment(browser, stack.a, "TOKEN-3")
        assert stack.fake.token_requests == 1
        rows = stack.sql(
            "SELECT count(*) FROM django_cache WHERE cache_key LIKE '%truelayer:token%'"
        )
        assert rows == [(1,)]

        time.sleep(max(0.0, fetched_at + 4.5 - time.monotonic()))
        create_payment(browser, stack.b, "TOKEN-4")
        create_payment(browser, stack.a, "TOKEN-5")

        assert stack.fake.token_requests == 2
    finally:
        with stack.fake.lock:
            stack.fake.token_lifetime = 3600
    assert [len(stack.fake.links_with_reference(f"TOKEN-{n}")) for n in range(1, 6)] == [1] * 5
    assert stack.fake.refused == []


def test_servers_starting_cold_at_the_same_moment_fetch_one_token(stack: Stack) -> None:
    browser = signed_in(stack)
    forms = [browser.new_payment_form(s, f"COLD-{s.name}", "3.00") for s in (stack.a, stack.b)]
    stack.sql("DELETE FROM django_cache")
    with stack.fake.lock:
        stack.fake.token_requests = 0
        stack.fake.token_delay = 1.0  # a slow sign-in service widens the race
    barrier = threading.Barrier(2)

    def submit(server: AppServer, form: dict[str, str]) -> int:
        barrier.wait()
        return browser.post(server, "/payments/new/", form).status_code

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            codes = list(pool.map(submit, [stack.a, stack.b], forms))
    finally:
        stack.fake.token_delay = 0.0

    assert codes == [302, 302]
    assert stack.fake.token_requests == 1
    assert len(stack.fake.links_with_reference("COLD-A")) == 1
    assert len(stack.fake.links_with_reference("COLD-B")) == 1


def test_a_form_double_submitted_to_a_and_b_at_once_makes_one_payment(stack: Stack) -> None:
    browser = signed_in(stack)
    form = browser.new_payment_form(stack.a, "DOUBLE-CLICK", "30.00")
    barrier = threading.Barrier(2)

    def submit(server: AppServer) -> requests.Response:
        session = requests.Session()
        session.cookies.update(browser.session.cookies)
        barrier.wait()
        return session.post(
            server.url + "/payments/new/",
            data=form,
            headers={"Origin": stack.a.url, "Referer": stack.a.url + "/payments/new/"},
            timeout=30,
            allow_redirects=False,
            verify=str(stack.tls.ca),
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(submit, [stack.a, stack.b]))

    assert [a.status_code for a in answers] == [302, 302]
    locations = {a.headers["Location"] for a in answers}
    assert len(locations) == 1
    found = stack.payments_matching(MERCHANT, "DOUBLE-CLICK")
    assert [p.payment_id for p in found] == [payment_id_from(locations.pop())]
    assert len(stack.fake.links_with_reference("DOUBLE-CLICK")) == 1


def test_reconcile_on_both_servers_at_once_corrects_each_stale_payment_once(
    stack: Stack,
) -> None:
    browser = signed_in(stack)
    ids = [create_payment(browser, stack.a, f"STALE-{i}") for i in range(3)]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for i, payment_id in enumerate(ids):
        payment = stack.payment(MERCHANT, payment_id)
        assert payment is not None
        # Paid at TrueLayer, every webhook lost: only reconciliation can tell us.
        with stack.fake.lock:
            stack.fake.links[payment.payment_link_id].attempts.append(
                {"id": f"tl-stale-{i}", "status": "executed", "created_at": now}
            )
    barrier = threading.Barrier(2)

    def run_on(_server: AppServer) -> str:
        barrier.wait()
        return stack.manage("reconcile_payments")

    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = list(pool.map(run_on, [stack.a, stack.b]))

    assert all("Checked" in output for output in outputs), outputs
    for payment_id in ids:
        stored = stack.payment(MERCHANT, payment_id)
        assert stored is not None and stored.status is PaymentStatus.EXECUTED
        corrections = [h for h in stored.history if h.source.startswith("Reconciliation")]
        assert len(corrections) == 1, [(h.source, h.detail) for h in stored.history]
        assert corrections[0].detail == "payment executed"


# Keep last: it stops server A for the rest of this module.
def test_stopping_a_mid_traffic_loses_no_payment_and_no_event(stack: Stack) -> None:
    merchant = "auth0|prod-shape-traffic"
    browser = signed_in(stack, merchant)
    total = 12
    done: list[str] = []
    failovers: list[str] = []
    served_by_a: list[str] = []
    halfway = threading.Event()
    lock = threading.Lock()

    def with_failover(server: AppServer, call: Callable[[AppServer], T], what: str) -> T:
        """What the load balancer does when A is gone: the request goes to B."""
        try:
            result = call(server)
        except requests.ConnectionError:
            if server is stack.b:
                raise
            with lock:
                failovers.append(what)
            return call(stack.b)
        if server is stack.a:
            with lock:
                served_by_a.append(what)
        return result

    def deliver_to(target: AppServer, delivery: Delivery) -> None:
        deliver(stack, target, delivery)

    def one_payment(n: int) -> None:
        reference = f"TRAFFIC-{n:02d}"
        server = stack.a if n % 2 == 0 else stack.b
        form = browser.new_payment_form(stack.b, reference, "5.00")

        def submit(target: AppServer) -> str:
            answer = browser.post(target, "/payments/new/", form, page_from=stack.b)
            assert answer.status_code == 302, answer.text[:300]
            return payment_id_from(answer.headers["Location"])

        payment_id = with_failover(server, submit, f"create {reference}")
        payment = stack.payment(merchant, payment_id)
        assert payment is not None and payment.payment_link_id
        # TrueLayer retries a delivery that got no answer; the load balancer sends it to B.
        for k, delivery in enumerate(payer_pays(stack, payment.payment_link_id, f"tl-{reference}")):
            with_failover(
                stack.b if (n + k) % 2 == 0 else stack.a,
                functools.partial(deliver_to, delivery=delivery),
                f"webhook {k} of {reference}",
            )
        with lock:
            done.append(payment_id)
            if len(done) == total // 3:
                halfway.set()

    def traffic(numbers: range) -> None:
        for n in numbers:
            one_payment(n)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(traffic, range(0, total, 2)), pool.submit(traffic, range(1, total, 2))]
        assert halfway.wait(120), "no traffic got through"
        stack.a.stop()  # graceful, as a deploy or a scale-in does: in-flight requests finish
        for run in runs:
            run.result(timeout=300)

    assert not stack.a.running()
    with pytest.raises(requests.ConnectionError):
        browser.get(stack.a, "/")
    assert served_by_a and failovers  # A did serve, and then B took over
    assert len(set(done)) == total
    for n, payment_id in enumerate(sorted(done)):
        payment = stack.payment(merchant, payment_id)
        assert payment is not None
        assert payment.status is PaymentStatus.EXECUTED, (n, payment.status)
        statuses = [change.status for change in payment.history]
        assert statuses.count(PaymentStatus.EXECUTED) == 1
        assert statuses.count(PaymentStatus.AUTHORIZATION_REQUIRED) == 1
    for n in range(total):
        assert len(stack.fake.links_with_reference(f"TRAFFIC-{n:02d}")) == 1
    assert browser.get(stack.b, "/").status_code == 200
