"""payments_reconcile and `manage.py reconcile_payments`: open payments that are due are asked
about at TrueLayer and corrected; unchanged ones are postponed; final ones are never read; two
runs at once change each payment once; the DynamoDB work follows the open payments only."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
import requests
import responses
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import dynamo, services
from payments.domain import Payment, PaymentStatus, utc_now
from payments.dynamo import Dynamo
from tests.factories import ALICE, reach
from tests.truelayer.fakes import API
from tests.webhooks.helpers import payment_with_link

S = PaymentStatus
LATER = timedelta(hours=1)  # past RECONCILE_STALE_AFTER_MINUTES (30): every open payment is due


def answer(
    mock: responses.RequestsMock,
    payment: Payment,
    attempts: list[dict[str, Any]],
    link_status: str = "enabled",
) -> None:
    link_url = f"{API}/v3/payment-links/{payment.payment_link_id}"
    mock.upsert(
        responses.GET, link_url, json={"id": payment.payment_link_id, "status": link_status}
    )
    mock.upsert(responses.GET, f"{link_url}/payments", json={"items": attempts})
    for attempt in attempts:  # a paid attempt's refunds are read too: none here
        mock.upsert(responses.GET, f"{API}/v3/payments/{attempt['id']}/refunds", json={"items": []})


def reconcile(repo: Dynamo, now: datetime) -> services.ReconcileReport:
    return services.payments_reconcile(db=repo, now=now)


def test_a_stale_open_payment_is_corrected_with_a_reconciliation_entry(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    # The webhooks were lost: TrueLayer knows the payment was executed.
    answer(truelayer, payment, [{"id": "tl-1", "status": "executed"}])

    report = reconcile(repo, utc_now() + LATER)

    assert report.checked == 1
    assert report.changed == [(payment.payment_id, "payment executed")]
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is S.EXECUTED
    assert stored.history[-1].source == services.RECONCILIATION_SOURCE
    assert "corrected from TrueLayer" in stored.history[-1].source


def test_a_payment_that_is_not_due_yet_is_not_asked_about(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    answer(truelayer, payment, [{"id": "tl-1", "status": "executed"}])

    assert reconcile(repo, utc_now()).checked == 0


def test_an_unchanged_payment_is_postponed_and_not_found_on_the_next_run(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    answer(truelayer, payment, [{"id": "tl-1", "status": "authorizing"}])
    now = utc_now() + LATER
    assert reconcile(repo, now).changed  # authorizing: changed but still open
    reached = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)

    second = reconcile(repo, now + LATER)  # TrueLayer says the same: postponed
    assert (second.checked, second.changed) == (1, [])

    third = reconcile(repo, now + LATER)
    assert third.checked == 0
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == reached
    # Due again after the stale age.
    assert reconcile(repo, now + 3 * LATER).checked == 1


def test_a_final_payment_is_not_in_the_queue(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    settled = reach(repo, payment_with_link(repo), S.SETTLED)
    expired = reach(repo, payment_with_link(repo, 2), S.EXPIRED)
    open_one = payment_with_link(repo, 3)
    answer(truelayer, open_one, [])

    due = dynamo.open_due(repo, now=utc_now() + LATER)

    assert due == [(ALICE, open_one.payment_id)]
    assert {settled.payment_id, expired.payment_id}.isdisjoint(p for _, p in due)


def test_a_payment_that_becomes_final_leaves_the_queue(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    payment = payment_with_link(repo)
    answer(truelayer, payment, [], link_status="disabled")
    now = utc_now() + LATER

    assert reconcile(repo, now).changed == [(payment.payment_id, "link disabled (unknown)")]
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is S.EXPIRED
    assert dynamo.open_due(repo, now=now + 10 * LATER) == []


class CountingClient:
    """A boto3 client stand-in that counts every DynamoDB request and item read."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.requests = 0
        self.items_read = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method) or name.startswith("_") or name == "meta":
            return method

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.requests += 1
            result = method(*args, **kwargs)
            if isinstance(result, dict):
                self.items_read += len(result.get("Items", [])) + ("Item" in result)
            return result

        return counted


def measured(repo: Dynamo, run: Callable[[Dynamo], object]) -> tuple[int, int]:
    counting = CountingClient(repo.client)
    run(Dynamo(cast(Any, counting), repo.table, repo.meta_table))
    return counting.requests, counting.items_read


def test_dynamodb_work_of_a_run_follows_the_open_payments_not_the_history(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    now = utc_now() + LATER

    def history_with(final: int, open_: int) -> None:
        for i in range(final):
            reach(repo, payment_with_link(repo, i), S.SETTLED if i % 2 else S.FAILED)
        for i in range(open_):
            payment = payment_with_link(repo, 100 + i)
            answer(
                truelayer, payment, [{"id": f"tl-{payment.payment_id}", "status": "authorizing"}]
            )

    def run(db: Dynamo) -> object:
        return services.payments_reconcile(db=db, now=now)

    history_with(final=4, open_=2)
    # First run moves the open ones to `authorizing`; what is measured is a steady-state run.
    reconcile(repo, now)
    now += LATER
    small = measured(repo, run)

    history_with(final=20, open_=0)
    now += LATER
    big_history = measured(repo, run)

    history_with(final=0, open_=2)
    reconcile(repo, now)
    now += LATER
    more_open = measured(repo, run)

    assert big_history == small  # 20 more final payments cost nothing
    assert more_open[0] > small[0] and more_open[1] > small[1]


def test_command_prints_what_it_checked_and_changed_and_exits_0(
    repo: Dynamo, truelayer: responses.RequestsMock, settings: SettingsWrapper
) -> None:
    settings.RECONCILE_STALE_AFTER_MINUTES = 0  # due at once
    payment = payment_with_link(repo)
    untouched = payment_with_link(repo, 2)
    answer(truelayer, payment, [{"id": "tl-1", "status": "executed"}])
    answer(truelayer, untouched, [])
    out = io.StringIO()

    call_command("reconcile_payments", stdout=out)  # raises (exit 1) on failure

    text = out.getvalue()
    assert f"  {payment.payment_id}: payment executed" in text
    assert "Checked 2 open payment(s) with TrueLayer; 1 corrected." in text


def test_command_with_truelayer_unreachable_fails_with_one_line(
    repo: Dynamo, truelayer: responses.RequestsMock, settings: SettingsWrapper
) -> None:
    settings.RECONCILE_STALE_AFTER_MINUTES = 0
    settings.TRUELAYER_MAX_ATTEMPTS = 1
    payment = payment_with_link(repo)
    link_url = f"{API}/v3/payment-links/{payment.payment_link_id}"
    truelayer.add(responses.GET, link_url, body=requests.ConnectionError("no route to host"))

    with pytest.raises(CommandError) as failed:
        call_command("reconcile_payments", stdout=io.StringIO())

    message = str(failed.value)
    assert message.startswith("TrueLayer cannot be reached")
    assert "\n" not in message
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored == payment


def test_one_payment_truelayer_does_not_answer_for_does_not_hold_up_the_others(
    repo: Dynamo, truelayer: responses.RequestsMock, settings: SettingsWrapper
) -> None:
    settings.TRUELAYER_MAX_ATTEMPTS = 1
    silent, fine = payment_with_link(repo, 1), payment_with_link(repo, 2)
    silent_url = f"{API}/v3/payment-links/{silent.payment_link_id}"
    truelayer.add(responses.GET, silent_url, body=requests.ConnectionError("reset"))
    answer(truelayer, fine, [{"id": "tl-fine", "status": "executed"}])

    report = reconcile(repo, utc_now() + LATER)

    assert report.unreachable == [silent.payment_id]
    assert report.changed == [(fine.payment_id, "payment executed")]
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=silent.payment_id)
    assert stored == silent


def test_two_concurrent_runs_change_each_payment_once(
    dynamodb_local_repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    repo = dynamodb_local_repo
    payments = [payment_with_link(repo, i) for i in range(6)]
    for payment in payments:
        answer(truelayer, payment, [{"id": f"tl-{payment.payment_id}", "status": "executed"}])
    now = utc_now() + LATER
    barrier = threading.Barrier(2)
    reports: list[services.ReconcileReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            reports.append(reconcile(repo, now))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    changed = [payment_id for report in reports for payment_id, _ in report.changed]
    assert sorted(changed) == sorted(p.payment_id for p in payments)
    for payment in payments:
        stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
        assert stored is not None and stored.status is S.EXECUTED
        sources = [h.source for h in stored.history]
        assert sources.count(services.RECONCILIATION_SOURCE) == 1
