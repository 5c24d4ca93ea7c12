from __future__ import annotations

import pytest
from django.test import Client

from payments.errors import Throttled
from payments.repository import PaymentRepository
from tests.views.conftest import HTMX, database_down


def test_database_down_on_a_page_shows_what_is_wrong_with_503(
    alice: Client, repo: PaymentRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PaymentRepository, "list_payments", database_down)
    response = alice.get("/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "<html" in body and "cannot be reached" in body and "Traceback" not in body


def test_database_down_on_an_htmx_request_swaps_only_the_message_into_the_notices(
    alice: Client, repo: PaymentRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PaymentRepository, "list_payments", database_down)
    response = alice.get("/?status=failed", headers=HTMX)
    assert response.status_code == 503
    assert response["HX-Retarget"] == "#messages"
    assert response["HX-Reswap"] == "innerHTML"
    body = response.content.decode()
    assert "<html" not in body and "cannot be reached" in body


def test_throttling_asks_the_browser_to_retry_shortly(
    alice: Client, repo: PaymentRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(*args: object, **kwargs: object) -> None:
        raise Throttled()

    monkeypatch.setattr(PaymentRepository, "list_payments", busy)
    response = alice.get("/")
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert "busy" in response.content.decode()
