"""payment_create and payment_retry_link: DynamoDB first, then TrueLayer, then DynamoDB; a
failure anywhere leaves a payment that says why and can be retried without a second link."""

from __future__ import annotations

import json
from decimal import Decimal
from unittest import mock

import pytest
import requests
import responses

from payments import dynamo, services
from payments.domain import Payment, PaymentStatus
from payments.dynamo import Dynamo
from payments.errors import DatabaseUnavailable, DuplicateSubmission
from tests.factories import ALICE, BOB, reach
from tests.truelayer.fakes import LINKS_URL, link_created, link_posts, problem


def create(repo: Dynamo, **overrides: object) -> Payment:
    fields: dict[str, object] = {
        "user_id": ALICE,
        "amount": Decimal("12.50"),
        "currency": "GBP",
        "reference": "INV-1",
    }
    fields.update(overrides)
    return services.payment_create(db=repo, **fields)  # type: ignore[arg-type]


def test_payment_is_stored_pending_with_its_link_and_raw_response(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created("link-9"))

    payment = create(repo)

    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.PENDING
    assert stored.payment_link_id == "link-9"
    assert stored.payment_link_url == "https://payment.truelayer-sandbox.com/link/link-9"
    assert stored.provider_responses["create_link"] == link_created("link-9")
    assert stored.link_error is None
    body = json.loads(link_posts(truelayer)[0].request.body or b"")
    assert body["payment_configuration"]["amount_in_minor"] == 1250
    assert body["payment_configuration"]["metadata"] == {"payment_id": payment.payment_id}


@pytest.mark.parametrize(
    ("failure", "title", "trace_id"),
    [
        (
            {"json": problem(503, "Service Unavailable", "t-503"), "status": 503},
            "Service Unavailable",
            "t-503",
        ),
        (
            {"json": problem(429, "Too Many Requests", "t-429"), "status": 429},
            "Too Many Requests",
            "t-429",
        ),
        (
            {"json": problem(400, "Invalid Parameters", "t-400"), "status": 400},
            "Invalid Parameters",
            "t-400",
        ),
        ({"body": requests.Timeout()}, "TrueLayer did not answer in time", ""),
    ],
    ids=["5xx", "429", "problem-json", "timeout"],
)
def test_link_failure_is_stored_on_the_payment_with_title_and_trace_id(
    repo: Dynamo,
    truelayer: responses.RequestsMock,
    failure: dict[str, object],
    title: str,
    trace_id: str,
) -> None:
    truelayer.add(responses.POST, LINKS_URL, **failure)  # type: ignore[arg-type]

    payment = create(repo)

    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.PENDING
    assert stored.payment_link_url == ""
    assert stored.link_error is not None
    assert stored.link_error.title == title
    assert stored.link_error.trace_id == trace_id


def test_retry_after_a_failure_uses_the_same_key_and_bytes_and_stores_the_link(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=problem(503, "Service Unavailable"), status=503)
    payment = create(repo)
    assert payment.link_error is not None
    truelayer.replace(responses.POST, LINKS_URL, json=link_created("link-2"))

    retried = services.payment_retry_link(user_id=ALICE, payment_id=payment.payment_id, db=repo)

    assert retried.payment_link_id == "link-2"
    assert retried.link_error is None
    calls = link_posts(truelayer)
    assert len(calls) == 5  # 4 attempts first time, then one
    assert len({c.request.headers["Idempotency-Key"] for c in calls}) == 1
    assert len({c.request.body for c in calls}) == 1


def test_database_failure_after_the_link_was_created_loses_nothing(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created("link-3"))
    with (
        mock.patch.object(dynamo, "payment_link_set", side_effect=DatabaseUnavailable()),
        pytest.raises(DatabaseUnavailable),
    ):
        create(repo)
    (stored,) = dynamo.payment_list(repo, user_id=ALICE).items
    assert stored.status is PaymentStatus.PENDING
    assert stored.payment_link_url == ""

    # TrueLayer answers the same key and bytes with the same link; now it is recorded.
    retried = services.payment_retry_link(user_id=ALICE, payment_id=stored.payment_id, db=repo)

    assert retried.payment_link_id == "link-3"
    first, second = link_posts(truelayer)
    assert first.request.headers["Idempotency-Key"] == second.request.headers["Idempotency-Key"]
    assert first.request.body == second.request.body


def test_database_failure_before_anything_is_stored_sends_nothing_to_truelayer(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    with (
        mock.patch.object(dynamo, "payment_create", side_effect=DatabaseUnavailable()),
        pytest.raises(DatabaseUnavailable),
    ):
        create(repo)
    assert not link_posts(truelayer)


def test_same_submission_token_twice_creates_one_payment_and_one_link(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    first = create(repo, submission_token="a" * 32)
    with pytest.raises(DuplicateSubmission) as duplicate:
        create(repo, submission_token="a" * 32)
    assert duplicate.value.payment_id == first.payment_id
    assert len(dynamo.payment_list(repo, user_id=ALICE).items) == 1
    assert len(link_posts(truelayer)) == 1


def test_retry_of_a_payment_with_a_link_sends_nothing(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    payment = create(repo)
    services.payment_retry_link(user_id=ALICE, payment_id=payment.payment_id, db=repo)
    assert len(link_posts(truelayer)) == 1


def test_retry_of_another_merchants_payment_is_not_found(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=problem(400, "Invalid Parameters"), status=400)
    payment = create(repo)
    with pytest.raises(services.PaymentNotFound):
        services.payment_retry_link(user_id=BOB, payment_id=payment.payment_id, db=repo)


def test_retry_of_a_final_payment_without_a_link_sends_nothing(
    repo: Dynamo, truelayer: responses.RequestsMock
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=problem(400, "Invalid Parameters"), status=400)
    payment = create(repo)
    reach(repo, payment, PaymentStatus.EXPIRED)
    calls_before = len(link_posts(truelayer))
    services.payment_retry_link(user_id=ALICE, payment_id=payment.payment_id, db=repo)
    assert len(link_posts(truelayer)) == calls_before
