"""The payments list: page and fragments, filters, cursor pages, search and empty states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.test import Client

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from tests.factories import ALICE, BOB, make_payments
from tests.views.conftest import HTMX, database_down

S = PaymentStatus


def html(response: HttpResponseBase) -> str:
    assert isinstance(response, HttpResponse)
    return response.content.decode()


def test_anonymous_visitor_is_sent_to_sign_in(client: Client, db: None) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_list_shows_newest_first_with_money_time_zone_status_and_short_id(
    alice: Client, repo: Dynamo
) -> None:
    made = make_payments(repo, ALICE, 3, statuses=(S.PENDING, S.SETTLED, S.FAILED))
    page = html(alice.get("/"))
    assert "<html" in page
    positions = [page.index(f"INV {i}") for i in (2, 1, 0)]
    assert positions == sorted(positions), "newest first"
    assert "£12.00" in page
    assert "Europe/London" in page
    assert "1 Jan 2026, 09:00" in page  # 09:00 UTC is 09:00 in London in winter
    assert "Settled" in page and "Failed" in page
    assert f'data-copy="{made[0].payment_id}"' in page
    assert "…" + made[0].payment_id[-6:] in page


def test_htmx_request_gets_only_the_results_fragment(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 2)
    response = alice.get("/?status=pending", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in html(response)
    assert 'id="results"' in html(response)
    assert "HX-Request" in response["Vary"]


def test_history_restore_request_gets_the_full_page(alice: Client, repo: Dynamo) -> None:
    response = alice.get("/?status=pending", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in html(response)


def test_filters_by_several_statuses(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 6, statuses=(S.PENDING, S.SETTLED, S.FAILED))
    page = html(alice.get("/?status=settled&status=failed"))
    assert "INV 1" in page and "INV 2" in page and "INV 4" in page and "INV 5" in page
    assert "INV 0<" not in page and "INV 3<" not in page
    assert 'value="settled" checked' in page and 'value="failed" checked' in page


def test_filters_by_currency_and_custom_date_range(alice: Client, repo: Dynamo) -> None:
    make_payments(
        repo,
        ALICE,
        4,
        currencies=("GBP", "EUR"),
        step=timedelta(days=1),
        start=datetime(2026, 1, 1, 12, tzinfo=UTC),
    )
    page = html(alice.get("/?currency=eur&range=custom&start=2026-01-02&end=2026-01-03"))
    assert "INV 1" in page  # EUR on 2 Jan
    assert "INV 3" not in page  # EUR on 4 Jan: outside the range
    assert "INV 0" not in page and "INV 2" not in page  # GBP


def test_dates_without_a_preset_are_a_custom_range(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 3, step=timedelta(days=1))
    page = html(alice.get("/?start=2026-01-02&end=2026-01-02"))
    assert "INV 1" in page and "INV 0" not in page and "INV 2" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=paid", "Unknown status &#x27;paid&#x27;"),
        ("range=custom&start=2026-02-01&end=2026-01-01", "The end date is before the start date"),
        ("range=custom&start=2026-13-45", "Enter the start date like 1 Mar 2025"),
        ("range=fortnight", "Unknown date range"),
        ("currency=USD", "Unsupported currency"),
        ("cursor=not-a-real-cursor", "That page link is not valid"),
        ("q=%C2%A312.505", "is not an amount we can search for"),
    ],
)
def test_bad_filter_value_gives_the_page_with_a_clear_message(
    alice: Client, repo: Dynamo, query: str, message: str
) -> None:
    response = alice.get(f"/?{query}")
    assert response.status_code == 400
    assert message in html(response)
    assert "<html" in html(response)
    fragment = alice.get(f"/?{query}", headers=HTMX)
    assert fragment.status_code == 400 and message in html(fragment)


def test_load_more_continues_with_the_cursor_and_appends_rows(
    alice: Client, repo: Dynamo, settings: object
) -> None:
    settings.PAYMENTS_PAGE_SIZE = 2  # type: ignore[attr-defined]
    make_payments(repo, ALICE, 5)
    first = alice.get("/")
    assert 'id="load-more"' in html(first)
    cursor_link = html(first).split('hx-get="/?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    more = alice.get(f"/?{cursor_link}", headers={**HTMX, "HX-Target": "load-more"})
    assert more.status_code == 200
    body = html(more)
    assert "<table" not in body and "<html" not in body  # only rows to append
    assert "INV 2" in body and "INV 1" in body and "INV 4" not in body
    assert 'id="load-more"' in body  # one more page left


def test_cursor_from_another_merchant_is_refused_with_a_message(
    client: Client, db: None, repo: Dynamo, settings: object
) -> None:
    from tests.factories import sign_in

    settings.PAYMENTS_PAGE_SIZE = 1  # type: ignore[attr-defined]
    make_payments(repo, BOB, 3)
    make_payments(repo, ALICE, 3)
    bob_cursor = dynamo.payment_list(repo, user_id=BOB, page_size=1).next_cursor
    assert bob_cursor is not None
    sign_in(client, ALICE)
    response = client.get("/", {"cursor": bob_cursor})
    assert response.status_code == 400
    assert "That page link is not valid" in html(response)


def test_search_finds_by_reference_amount_and_id_but_never_another_merchants(
    alice: Client, repo: Dynamo
) -> None:
    mine = make_payments(repo, ALICE, 3, reference="ACME {i}")
    theirs = make_payments(repo, BOB, 3, reference="ACME {i}")
    page = html(alice.get("/?q=acme"))
    assert page.count('class="row-link"') == 3
    assert theirs[0].payment_id not in page
    by_amount = html(alice.get("/?q=11.00"))
    assert by_amount.count('class="row-link"') == 1 and mine[1].payment_id in by_amount
    by_id = html(alice.get(f"/?q={mine[2].payment_id}"))
    assert mine[2].payment_id in by_id
    other = html(alice.get(f"/?q={theirs[2].payment_id}"))
    assert 'class="row-link"' not in other
    assert f"/payments/{theirs[2].payment_id}/" not in other
    assert "No payments match" in other


def test_search_says_which_fields_it_searches_and_has_a_loading_indicator(
    alice: Client, repo: Dynamo
) -> None:
    page = html(alice.get("/"))
    assert "Searches payment id (whole or as shown in the list), TrueLayer payment" in page
    assert "payer email" in page
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert 'hx-indicator="#search-indicator"' in page


def test_a_match_far_back_is_on_the_first_page_of_results(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 1, reference="NEEDLE {i}")
    make_payments(repo, ALICE, 30, reference="HAY {i}", start=datetime(2026, 2, 1, tzinfo=UTC))
    page = html(alice.get("/?q=needle"))
    assert "NEEDLE 0" in page and page.count('class="row-link"') == 1
    assert "Search further back" not in page and "Load more" not in page


def test_search_by_payer_email_and_the_short_id_shown_in_a_row(alice: Client, repo: Dynamo) -> None:
    payment = dynamo.payment_create(
        repo,
        user_id=ALICE,
        amount="7",
        currency="GBP",
        reference="Lunch",
        payer_name="Zoë Brown",
        payer_email="zoe@example.com",
    )
    make_payments(repo, ALICE, 3)
    for query in ("zoe@example.com", "brown", payment.payment_id[-6:]):
        page = html(alice.get("/", {"q": query}))
        assert page.count('class="row-link"') == 1 and payment.payment_id in page, query


def test_search_whose_filters_drop_what_it_reads_offers_to_search_further_back(
    alice: Client, repo: Dynamo, settings: object
) -> None:
    settings.PAYMENTS_SEARCH_BUDGET = 3  # type: ignore[attr-defined]
    settings.PAYMENTS_PAGE_SIZE = 2  # type: ignore[attr-defined]
    make_payments(repo, ALICE, 1, reference="NEEDLE {i}", statuses=(S.FAILED,))
    make_payments(repo, ALICE, 5, reference="NEEDLE X{i}", start=datetime(2026, 2, 1, tzinfo=UTC))
    page = html(alice.get("/?q=needle&status=failed"))
    assert "This search stopped after reading" in page
    assert "Search further back" in page
    link = page.split('hx-get="/?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    further = html(alice.get(f"/?{link}", headers={**HTMX, "HX-Target": "load-more"}))
    while "NEEDLE 0" not in further and 'hx-get="/?' in further:
        link = further.split('hx-get="/?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        further = html(alice.get(f"/?{link}", headers={**HTMX, "HX-Target": "load-more"}))
    assert "NEEDLE 0" in further


def test_search_is_narrowed_by_the_filters(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 4, reference="ACME {i}", statuses=(S.PENDING, S.FAILED))
    page = html(alice.get("/?q=acme&status=failed"))
    assert page.count('class="row-link"') == 2


def test_no_payments_yet_offers_to_create_one(alice: Client, repo: Dynamo) -> None:
    page = html(alice.get("/"))
    assert "No payments yet" in page
    assert 'href="/payments/new/"' in page


def test_nothing_matching_the_filters_offers_to_clear_them(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 2)
    page = html(alice.get("/?status=settled"))
    assert "No payments match these filters" in page
    assert "Clear filters" in page


def test_one_poller_asks_for_the_unfinished_rows_and_final_ones_are_left_out(
    alice: Client, repo: Dynamo
) -> None:
    pending, settled = make_payments(repo, ALICE, 2, statuses=(S.PENDING, S.SETTLED))
    page = html(alice.get("/"))
    # One live request for the whole page (not one per row), naming each unfinished row with
    # the version it shows: any change (status, attempt, badge) answers anew.
    assert page.count("data-live-poll") == 1 and 'hx-get="/live/"' in page
    assert f'name="v" value="{pending.payment_id}:v{pending.version}"' in page
    assert f"{settled.payment_id}:v" not in page
    assert f"/payments/{pending.payment_id}/status/" not in page


def test_export_control_carries_the_current_filters_and_search(alice: Client, repo: Dynamo) -> None:
    page = html(alice.get("/?status=failed&currency=GBP&q=xy"))
    assert '<form class="export-form" method="get" action="/export.csv">' in page
    assert '<input type="hidden" name="status" value="failed">' in page
    assert '<input type="hidden" name="currency" value="GBP">' in page
    assert '<input type="hidden" name="q" value="xy">' in page


def test_failing_database_shows_the_dependency_page_with_503(
    alice: Client, repo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamo, "payment_list", database_down)
    response = alice.get("/")
    assert response.status_code == 503
    assert "cannot be reached" in html(response)
    assert "Traceback" not in html(response)


def test_amounts_are_shown_exactly(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 1, amount=Decimal("1234.5"), currencies=("EUR",))
    assert "€1,234.50" in html(alice.get("/"))


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("3 Mar 2026", "3 Mar 2026"), ("2026-03-03", "3 Mar 2026"), ("03/03/2026", "3 Mar 2026")],
)
def test_custom_dates_are_read_and_shown_in_the_pages_date_format(
    alice: Client, repo: Dynamo, typed: str, shown: str
) -> None:
    response = alice.get("/", {"range": "custom", "start": typed, "end": typed})
    assert response.status_code == 200
    page = html(response)
    assert f'id="start" name="start" value="{shown}"' in page
    assert 'aria-describedby="date-format"' in page and "e.g. 3 Mar 2025" in page
