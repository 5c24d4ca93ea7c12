"""CSV export: exactly the filtered payments, streamed, with zone-labelled ISO times."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import Client

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from tests.factories import ALICE, BOB, make_payments
from tests.views.conftest import database_down

S = PaymentStatus


def rows(response: HttpResponseBase) -> list[list[str]]:
    """The header and the rows; the closing count line is checked and left out."""
    assert isinstance(response, StreamingHttpResponse)
    raw = b"".join(cast("Iterator[bytes]", response.streaming_content))
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    n = len(table) - 2
    assert table[-1] == [f"# {n} payment{'s' if n != 1 else ''}"]
    return table[:-1]


def test_export_streams_exactly_the_filtered_payments(alice: Client, repo: Dynamo) -> None:
    made = make_payments(repo, ALICE, 6, statuses=(S.PENDING, S.FAILED), currencies=("GBP", "EUR"))
    make_payments(repo, BOB, 3, statuses=(S.FAILED,))
    response = alice.get("/export.csv?status=failed&currency=EUR")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = rows(response)
    header, body = table[0], table[1:]
    assert header[:6] == [
        "Payment ID",
        "Created (Europe/London)",
        "Updated (Europe/London)",
        "Status",
        "Amount",
        "Currency",
    ]
    expected = [
        p.payment_id for p in reversed(made) if p.status == S.FAILED and p.currency == "EUR"
    ]
    assert [r[0] for r in body] == expected
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", body[0][1])
    assert body[0][4] == "15.00" and body[0][5] == "EUR"


def test_export_ignores_the_page_cursor(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 3)
    assert len(rows(alice.get("/export.csv?cursor=anything"))) == 4


def test_export_with_a_bad_filter_shows_the_message(alice: Client, repo: Dynamo) -> None:
    response = alice.get("/export.csv?status=nope")
    assert response.status_code == 400
    assert "Unknown status" in response.content.decode()


def test_failing_database_shows_the_dependency_page_with_503(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamo, "payment_iter", database_down)
    assert alice.get("/export.csv").status_code == 503


def test_export_of_a_search_has_exactly_its_rows_and_states_their_count(
    alice: Client, repo: Dynamo
) -> None:
    made = make_payments(repo, ALICE, 6, reference="ACME {i}", statuses=(S.PENDING, S.FAILED))
    make_payments(repo, ALICE, 3, reference="OTHER {i}", statuses=(S.FAILED,))
    response = alice.get("/export.csv?q=acme&status=failed")
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(cast("Iterator[bytes]", response.streaming_content)).decode()
    table = list(csv.reader(io.StringIO(text)))
    expected = [p.payment_id for p in reversed(made) if p.status == S.FAILED]
    assert [r[0] for r in table[1:-1]] == expected
    assert table[-1] == ["# 3 payments"]


def test_export_of_a_search_that_finds_nothing_says_zero(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 2)
    assert rows(alice.get("/export.csv?q=nothing")) == [rows(alice.get("/export.csv"))[0]]


def test_export_with_a_search_too_short_shows_the_message(alice: Client, repo: Dynamo) -> None:
    response = alice.get("/export.csv?q=a")
    assert response.status_code == 400
    assert "at least 2" in response.content.decode()


def test_export_in_the_chosen_time_zone_says_so_in_the_headers(alice: Client, repo: Dynamo) -> None:
    (made,) = make_payments(repo, ALICE, 1)
    header, body = rows(alice.get("/export.csv?tz=America/New_York"))
    record = dict(zip(header, body, strict=True))
    expected = made.created_at.astimezone(ZoneInfo("America/New_York"))
    assert record["Created (America/New_York)"] == expected.strftime("%Y-%m-%d %H:%M:%S")
    assert "Link expires (America/New_York)" in header


def test_export_with_an_unknown_time_zone_is_a_clear_400(alice: Client, repo: Dynamo) -> None:
    response = alice.get("/export.csv?tz=Mars/Olympus_Mons")
    assert response.status_code == 400
    assert "Unknown time zone" in response.content.decode()


def test_list_export_control_carries_the_filters_and_offers_zones(
    alice: Client, repo: Dynamo
) -> None:
    page = alice.get("/?status=failed&status=settled&currency=GBP&q=xy").content.decode()
    form = page[page.index('class="export-form"') :]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="status" value="failed">' in form
    assert '<input type="hidden" name="status" value="settled">' in form
    assert '<input type="hidden" name="currency" value="GBP">' in form
    assert '<input type="hidden" name="q" value="xy">' in form  # the export keeps the search
    assert '<option value="Europe/London">' in form and '<option value="UTC">' in form
