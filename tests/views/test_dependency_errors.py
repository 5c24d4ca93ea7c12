from __future__ import annotations

import pytest
from django.test import Client

from payments import dynamo
from payments.dynamo import Dynamo
from payments.errors import (
    Conflict,
    DuplicateSubmission,
    InvalidCursor,
    RepositoryError,
    Throttled,
)
from tests.views.conftest import HTMX, database_down


def test_database_down_on_a_page_shows_what_is_wrong_with_503(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamo, "payment_list", database_down)
    response = alice.get("/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "<html" in body and "cannot be reached" in body and "Traceback" not in body


def test_database_down_on_an_htmx_request_swaps_only_the_message_into_the_notices(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamo, "payment_list", database_down)
    response = alice.get("/?status=failed", headers=HTMX)
    assert response.status_code == 503
    assert response["HX-Retarget"] == "#messages"
    assert response["HX-Reswap"] == "innerHTML"
    body = response.content.decode()
    assert "<html" not in body and "cannot be reached" in body


def test_throttling_asks_the_browser_to_retry_shortly(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(*args: object, **kwargs: object) -> None:
        raise Throttled()

    monkeypatch.setattr(dynamo, "payment_list", busy)
    response = alice.get("/")
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert "busy" in response.content.decode()


@pytest.mark.parametrize(
    ("error", "status", "title"),
    [
        (Conflict(), 409, "Changed at the same time"),
        (InvalidCursor(), 400, "Page link not valid"),
        (DuplicateSubmission("01ABC"), 409, "Already created"),
    ],
)
def test_the_error_page_names_what_happened(
    alice: Client,
    repo: Dynamo,
    monkeypatch: pytest.MonkeyPatch,
    error: RepositoryError,
    status: int,
    title: str,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(dynamo, "stats_period", fail)
    response = alice.get("/stats/")
    assert response.status_code == status
    body = response.content.decode()
    assert title in body and error.message in body
    assert "unavailable" not in body.lower()
