"""The list as a merchant reads it (issue 12): counts and totals, status chip counts, the payer
column, pages named in the URL, controls rendered from the URL, the one live request."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.test import Client

from payments import dynamo
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from payments.lifecycle import AttemptSeen, AttemptStatus
from tests.factories import ALICE, BOB, T0, make_payments
from tests.views.conftest import HTMX

S = PaymentStatus


def html(response: HttpResponseBase) -> str:
    assert isinstance(response, HttpResponse)
    return response.content.decode()


def count_line(page: str) -> str:
    match = re.search(r'<p class="results-count"[^>]*>(.*?)</p>', page, re.S)
    assert match, "no count line"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def chip_count(page: str, status: str) -> str:
    match = re.search(rf'<span class="chip-label" id="count-{status}"([^>]*)>', page)
    assert match, f"no count for {status}"
    count = re.search(r'data-count="([^"]*)"', match.group(1))
    return count.group(1) if count else ""


def test_count_and_totals_line_for_all_payments(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 3)  # £10, £11, £12
    assert count_line(html(alice.get("/"))) == "1–3 of 3 payments · £33.00"


def test_count_and_totals_follow_status_currency_and_date_filters(
    alice: Client, repo: Dynamo
) -> None:
    make_payments(
        repo, ALICE, 4, currencies=("GBP", "EUR"), statuses=(S.PENDING, S.PENDING, S.FAILED)
    )  # 0: £10 pending, 1: €11 pending, 2: £12 failed, 3: €13 pending
    assert count_line(html(alice.get("/"))) == "1–4 of 4 payments · €24.00 · £22.00"
    assert count_line(html(alice.get("/?status=pending"))) == "1–3 of 3 payments · €24.00 · £10.00"
    assert count_line(html(alice.get("/?status=pending&currency=EUR"))) == (
        "1–2 of 2 payments · €24.00"
    )
    day = "/?range=custom&start=2026-01-01&end=2026-01-01"
    assert count_line(html(alice.get(day))) == "1–4 of 4 payments · €24.00 · £22.00"
    other_day = "/?range=custom&start=2026-01-02&end=2026-01-05"
    assert count_line(html(alice.get(other_day))) == "0 payments"


def test_count_is_the_merchants_own(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, BOB, 5)
    make_payments(repo, ALICE, 1)
    assert count_line(html(alice.get("/"))) == "1–1 of 1 payment · £10.00"


def test_status_chips_show_their_counts_under_the_other_filters(
    alice: Client, repo: Dynamo
) -> None:
    make_payments(
        repo, ALICE, 4, currencies=("GBP", "EUR"), statuses=(S.PENDING, S.PENDING, S.FAILED)
    )
    page = html(alice.get("/?status=failed"))
    # The chips count what each status would show with the other filters (not the status one).
    assert chip_count(page, "pending") == "3" and chip_count(page, "failed") == "1"
    assert chip_count(page, "settled") == "0"
    eur = html(alice.get("/?currency=EUR"))
    assert chip_count(eur, "pending") == "2" and chip_count(eur, "failed") == "0"


def test_filtering_with_htmx_updates_chip_counts_and_summary_out_of_band(
    alice: Client, repo: Dynamo
) -> None:
    make_payments(repo, ALICE, 2, currencies=("GBP", "EUR"))
    fragment = html(alice.get("/?currency=EUR", headers=HTMX))
    assert 'id="count-pending" data-count="1" hx-swap-oob="true">Pending<' in fragment
    assert re.search(r'id="filters-active" hx-swap-oob="true">EUR<', fragment)
    # The full page has them in place once (no duplicate ids).
    page = html(alice.get("/?currency=EUR"))
    assert page.count('id="count-pending"') == 1 and page.count('id="filters-active"') == 1
    assert "hx-swap-oob" not in page


def test_search_says_found_so_far_instead_of_a_count(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 3, reference="HAY {i}")
    assert count_line(html(alice.get("/?q=hay"))) == "3 found"
    assert chip_count(html(alice.get("/?q=hay")), "pending") == ""


def test_search_with_more_to_read_says_so_far(
    alice: Client, repo: Dynamo, settings: object
) -> None:
    make_payments(repo, ALICE, 30, reference="HAY {i}")
    settings.PAYMENTS_SEARCH_BUDGET = 2  # type: ignore[attr-defined]
    # Status is checked on the payments the search entries name: more entries than one read
    # takes, none of them failed, and a budget of two: the search stops with more to read.
    line = count_line(html(alice.get("/?q=hay&status=failed")))
    assert line.startswith("0 found so far")


def test_payer_column_shows_name_and_email(alice: Client, repo: Dynamo) -> None:
    dynamo.payment_create(
        repo,
        user_id=ALICE,
        amount=Decimal("5.00"),
        currency="GBP",
        reference="INV P",
        payer_name="Ada Lovelace",
        payer_email="ada@example.com",
        now=T0,
    )
    make_payments(repo, ALICE, 1)
    page = html(alice.get("/"))
    assert '<th scope="col">Payer</th>' in page
    assert "Ada Lovelace" in page and "ada@example.com" in page
    assert "No payer given" in page


def test_each_row_has_one_link_in_its_first_cell(alice: Client, repo: Dynamo) -> None:
    made = make_payments(repo, ALICE, 2)
    page = html(alice.get("/"))
    rows = re.findall(r'<tr class="payment-row">(.*?)</tr>', page, re.S)
    assert len(rows) == 2
    for row in rows:
        first_cell = re.search(r"<td[^>]*>(.*?)</td>", row, re.S)
        assert first_cell and 'class="row-link"' in first_cell.group(1)
        assert row.count("<a ") == 1 and "onclick" not in row
    assert f'href="/payments/{made[0].payment_id}/"' in page


def test_load_more_names_the_pages_in_the_url_and_they_come_back(
    alice: Client, repo: Dynamo, settings: object
) -> None:
    settings.PAYMENTS_PAGE_SIZE = 2  # type: ignore[attr-defined]
    make_payments(repo, ALICE, 5)
    first = html(alice.get("/?currency=GBP"))
    assert 'hx-replace-url="/?currency=GBP&amp;pages=2"' in first
    more = re.search(r'hx-get="/\?([^"]+)"', first)
    assert more and "cursor=" in more.group(1) and "pages=2" in more.group(1)
    second = html(alice.get("/?" + more.group(1).replace("&amp;", "&"), headers=HTMX))
    assert second.count('class="payment-row"') == 2
    assert 'hx-replace-url="/?currency=GBP&amp;pages=3"' in second
    # The count line is updated out of band: 4 rows are shown now.
    assert "1–4 of 5 payments" in " ".join(re.sub(r"<[^>]+>", " ", second).split())
    # Back or reload on `pages=2`: the first two pages at once, and Load more goes on from there.
    restored = html(alice.get("/?currency=GBP&pages=2"))
    assert restored.count('class="payment-row"') == 4
    assert count_line(restored) == "1–4 of 5 payments · £60.00"
    assert 'hx-replace-url="/?currency=GBP&amp;pages=3"' in restored


def test_pages_out_of_range_or_garbage_are_harmless(alice: Client, repo: Dynamo) -> None:
    make_payments(repo, ALICE, 2)
    for pages in ("0", "-3", "abc", "999999999999"):
        response = alice.get(f"/?pages={pages}")
        assert response.status_code == 200
        assert html(response).count('class="payment-row"') == 2


def test_controls_are_rendered_from_the_url_and_not_cached_by_htmx_history(
    alice: Client, repo: Dynamo
) -> None:
    page = html(alice.get("/?status=failed&status=settled&currency=EUR&range=7d&q=abc"))
    assert 'value="failed" checked' in page and 'value="settled" checked' in page
    assert 'value="pending" checked' not in page
    assert '<option value="EUR" selected>' in page
    assert 'value="abc"' in page
    # htmx fetches the page of the URL on Back/Forward instead of a snapshot of the DOM.
    assert 'hx-history="false"' in page and 'autocomplete="off"' in page


def test_filters_fold_behind_a_summary_of_what_is_active(alice: Client, repo: Dynamo) -> None:
    page = html(alice.get("/?status=failed&currency=EUR"))
    assert "<details" in page and "data-fold-on-phone" in page
    assert re.search(r'id="filters-active">Failed, EUR<', page)
    assert re.search(r'id="filters-active">all payments<', html(alice.get("/")))


def test_live_request_answers_only_the_rows_that_moved_out_of_band(
    alice: Client, repo: Dynamo
) -> None:
    moving, still = make_payments(repo, ALICE, 2)
    shown = {p.payment_id: p.version for p in (moving, still)}
    dynamo.payment_observe(
        repo,
        user_id=ALICE,
        payment_id=moving.payment_id,
        observation=AttemptSeen("tl-live-1", AttemptStatus.AUTHORIZING, T0),
        source="test",
    )
    query = "&".join(f"v={pid}:v{version}" for pid, version in shown.items())
    response = alice.get(f"/live/?{query}", headers=HTMX)
    body = html(response)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert f'id="live-{moving.payment_id}" hx-swap-oob="true"' in body and "Authorising" in body
    assert still.payment_id not in body


def test_live_request_with_nothing_changed_is_204(alice: Client, repo: Dynamo) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    response = alice.get(f"/live/?v={payment.payment_id}:v{payment.version}", headers=HTMX)
    assert response.status_code == 204


def test_live_row_that_reaches_a_final_status_stops_being_asked_about(
    alice: Client, repo: Dynamo
) -> None:
    (payment,) = make_payments(repo, ALICE, 1, statuses=(S.SETTLED,))
    body = html(alice.get(f"/live/?v={payment.payment_id}:v0", headers=HTMX))
    assert "Settled" in body and 'name="v"' not in body


def test_live_request_ignores_other_merchants_and_garbage(alice: Client, repo: Dynamo) -> None:
    (theirs,) = make_payments(repo, BOB, 1, statuses=(S.SETTLED,))
    response = alice.get(f"/live/?v={theirs.payment_id}:v0&v=:&v=x&v={'A' * 300}:v1")
    assert response.status_code == 204


def test_anonymous_live_request_is_sent_to_sign_in(client: Client, db: None) -> None:
    response = client.get("/live/?v=x:v1", headers=HTMX)
    assert "/accounts/login/" in response["HX-Redirect"]


def test_one_live_request_per_list_page_whatever_the_rows(alice: Client, repo: Dynamo) -> None:
    made = make_payments(repo, ALICE, 6, start=datetime(2026, 3, 1, tzinfo=UTC))
    page = html(alice.get("/"))
    assert page.count("data-live-poll") == 1
    assert page.count('hx-trigger="every') == 1
    assert all(f"{p.payment_id}:v{p.version}" in page for p in made)
