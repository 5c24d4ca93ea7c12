"""Every request has an id: taken from the load balancer, or made; in the response and logs."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from payments_dashboard.request_id import RequestIdFilter


def test_the_load_balancers_request_id_is_kept_and_sent_back(client: Client, db: None) -> None:
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="3f2c9a1b7e")

    assert response["X-Request-ID"] == "3f2c9a1b7e"


def test_without_one_a_new_id_is_made_for_each_request(client: Client, db: None) -> None:
    first = client.get("/accounts/login/")["X-Request-ID"]
    second = client.get("/accounts/login/")["X-Request-ID"]

    assert len(first) == 32 and first != second


def test_a_strange_incoming_id_is_replaced_not_logged(client: Client, db: None) -> None:
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="evil\nFAKE LOG LINE")

    assert "evil" not in response["X-Request-ID"]


def test_log_lines_during_a_request_carry_its_id(
    client: Client, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-42")

    ids = [getattr(r, "request_id", None) for r in caplog.records if r.name == "django.request"]
    assert ids == ["req-42"]
