"""`/ping/`: the signed-in no-op the HTTP load script measures every page against."""

from __future__ import annotations

from django.test import Client


def test_ping_answers_a_signed_in_merchant_without_reading_payments(
    alice: Client, monkeypatch
) -> None:
    def no_database(*args: object, **kwargs: object) -> None:
        raise AssertionError("the floor must not touch DynamoDB")

    monkeypatch.setattr("payments.dynamo.get_dynamo", no_database)
    response = alice.get("/ping/")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_ping_sends_a_visitor_to_sign_in(client: Client) -> None:
    response = client.get("/ping/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_ping_refuses_a_post(alice: Client) -> None:
    assert alice.post("/ping/").status_code == 405
