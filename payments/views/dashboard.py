"""The dashboard: payments list (filters, search, pages), detail, live status, statistics and
CSV export.

Each page is one template whose swappable parts are partials; an HTMX request gets only the part
it asked for, any other request (including htmx restoring history) the whole page, so every URL
works on its own and without JavaScript. Reads go through `payments.selectors`, each scoped to
the signed-in merchant; another merchant's payment simply is not found (404).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Iterator
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from accounts.merchant import (
    AuthenticatedHttpRequest,
    merchant_id,
    merchant_required,
    role_required,
)
from accounts.models import Role
from payments import charts, presentation, selectors
from payments.domain import (
    SUPPORTED_CURRENCIES,
    DateRange,
    Payment,
    PaymentFilters,
    PaymentStatus,
    PaymentValidationError,
    parse_status,
    utc_now,
)
from payments.errors import InvalidCursor
from payments.export import csv_lines, export_filename, zone_choices
from payments.formatting import merchant_zone, merchant_zone_name
from payments.forms import (
    RANGE_CHOICES,
    PaymentFilterForm,
    SearchForm,
    StatsForm,
    display_day,
    form_errors,
    page_size,
)

# One poller per page: the list asks for all its unfinished rows at once, the detail page for
# its payment; app.js holds both back while the tab is hidden or nothing can change.
POLL_LIST = "every 5s"
POLL_DETAIL = "every 3s"
# "Load more" names how many pages are shown (`pages=3`), so Back and reload show them again.
MAX_PAGES = 20
# Rows one live request asks about (one GetItem each): 20 pages of 25; ids beyond are ignored.
MAX_LIVE_ROWS = 500
SEARCHED_FIELDS = (
    "payment id (whole or as shown in the list), TrueLayer payment or link id, words of the "
    "reference or payer name and their beginnings, payer email (whole, alice@ or @example.com) "
    "or amount (e.g. 12.50)"
)


def _render(
    request: AuthenticatedHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or only `partial` for an HTMX request that is not restoring history."""
    if partial and request.htmx and not request.htmx.history_restore_request:
        template = f"{template}#{partial}"
    response = render(request, template, context, status=status)
    # The same URL answers a page or a fragment: caches must tell them apart (back button).
    patch_vary_headers(response, ("HX-Request",))
    return response


def _get_payment_or_404(request: AuthenticatedHttpRequest, payment_id: str) -> Payment:
    """The one place a payment is looked up by id: only the signed-in merchant's own."""
    payment = selectors.payment_get_for_merchant(
        user_id=merchant_id(request), payment_id=payment_id
    )
    if payment is None:
        raise Http404("No payment with that id.")
    return payment


# --- list and search -----------------------------------------------------------------------


def _query_without(params: QueryDict, *names: str) -> QueryDict:
    copy = params.copy()
    for name in names:
        copy.pop(name, None)
    return copy


def _whole_number(raw: str, limit: int = 100_000) -> int:
    """A non-negative whole number from the URL, at most `limit`; anything else is 0."""
    return min(int(raw), limit) if raw.isdigit() else 0


def _pages(params: QueryDict) -> int:
    """How many pages of the list the URL names (`pages`), 1 to MAX_PAGES; anything else is 1."""
    return max(1, _whole_number(params.get("pages", ""), MAX_PAGES))


@require_GET
@merchant_required
@role_required(Role.VIEWER)
def payment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Payments newest first, filtered, or the results of a search (filters then narrow what the
    search found). An HTMX request gets the results (or, for "Load more", only new rows).

    `pages=N` without a cursor shows the first N pages at once: "Load more" puts it in the URL,
    so Back from a payment or a reload shows the same rows again. With a cursor it is the number
    of the page being loaded."""
    form = PaymentFilterForm(request.GET)
    search_form = SearchForm({"q": request.GET.get("q", ""), "cursor": request.GET.get("cursor")})
    errors: list[str] = []
    if not form.is_valid():
        errors += form_errors(form)
    if not search_form.is_valid():
        errors += form_errors(search_form)
    query = str(search_form.cleaned_data.get("q") or "") if not search_form.errors else ""
    result = selectors.PaymentListResult([])
    counts: selectors.PaymentCounts | None = None
    filters = form.filters() if not form.errors else PaymentFilters()
    pages = _pages(request.GET)
    # The first request names all the pages it shows; a "Load more" request one more page.
    shown_pages = 1 if filters.cursor else pages
    if not errors:
        user_id = merchant_id(request)
        try:
            if query:

                def read(f: PaymentFilters) -> selectors.PaymentListResult:
                    return selectors.payment_search(
                        user_id=user_id,
                        query=query,
                        filters=f,
                        page_size=page_size(),
                        budget=settings.PAYMENTS_SEARCH_BUDGET,
                    )

                result = _read_pages(read, filters, shown_pages)
            else:

                def read(f: PaymentFilters) -> selectors.PaymentListResult:
                    return selectors.payment_list(user_id=user_id, filters=f, page_size=page_size())

                # The header's counts (statistics items) and the rows: independent, read at once.
                counts, result = selectors.read_concurrently(
                    functools.partial(selectors.payment_counts, user_id=user_id, filters=filters),
                    functools.partial(_read_pages, read, filters, shown_pages),
                )
        except InvalidCursor as error:
            errors.append(error.message)
        except PaymentValidationError as error:
            errors.append(error.message)
    base_params = _query_without(request.GET, "cursor", "pages", "shown")
    more_params = base_params.copy()
    restore_params = base_params.copy()
    # Rows shown before this answer's first one (a "Load more" request says how many).
    offset = _whole_number(request.GET.get("shown", "")) if filters.cursor else 0
    if result.next_cursor:
        more_params["pages"] = str(pages + 1)
        more_params["shown"] = str(offset + len(result.payments))
        more_params["cursor"] = result.next_cursor
        restore_params["pages"] = str(pages + 1)
    context = {
        "filters": filters,
        "values": _form_values(request.GET),
        "errors": errors,
        "query": query,
        "result": result,
        "rows": presentation.list_rows(result.payments),
        "counts": counts,
        "shown_from": 1 if result.payments else 0,
        "shown_to": offset + len(result.payments),
        "is_more": bool(filters.cursor),
        "more_query": more_params.urlencode() if result.next_cursor else "",
        "restore_query": restore_params.urlencode(),
        # The export control is a form (it has a time-zone select): the filters and the search
        # ride along, so the file holds exactly what the list shows.
        "export_params": [
            (name, value)
            for name, values in _query_without(
                request.GET, "cursor", "pages", "shown", "tz"
            ).lists()
            for value in values
        ],
        "export_zones": zone_choices(merchant_zone_name()),
        "first_page_query": base_params.urlencode(),
        "filtered": filters.active or bool(query),
        "status_choices": list(PaymentStatus),
        "range_choices": RANGE_CHOICES,
        "currencies": SUPPORTED_CURRENCIES,
        "zone_name": merchant_zone_name(),
        "searched_fields": SEARCHED_FIELDS,
        "search_budget": settings.PAYMENTS_SEARCH_BUDGET,
        "poll_trigger": POLL_LIST,
        "filter_summary": _filter_summary(filters, query),
        # Out-of-band parts (counts, summary) only in fragments: the full page has them in place.
        "fragment": bool(request.htmx and not request.htmx.history_restore_request),
    }
    partial = "rows" if request.htmx.target == "load-more" else "results"
    return _render(
        request, "payments/list.html", context, partial=partial, status=400 if errors else 200
    )


def _read_pages(
    read: Callable[[PaymentFilters], selectors.PaymentListResult],
    filters: PaymentFilters,
    pages: int,
) -> selectors.PaymentListResult:
    """`pages` pages read one after the other (each one page's work), as one result."""
    payments: list[Payment] = []
    searched = 0
    result = selectors.PaymentListResult([])
    for _ in range(pages):
        result = read(filters)
        payments += result.payments
        searched += result.searched
        if not result.next_cursor:
            break
        filters = dataclasses.replace(filters, cursor=result.next_cursor)
    return selectors.PaymentListResult(
        payments, result.next_cursor, result.budget_exhausted, searched
    )


def _filter_summary(filters: PaymentFilters, query: str) -> str:
    """What is active, in a few words, for the collapsed filters on a phone."""
    parts = [s.label for s in filters.statuses]
    if filters.currency:
        parts.append(filters.currency)
    if filters.date_range.is_set:
        parts.append(filters.date_range.label)
    if query:
        parts.append(f"“{query}”")
    return ", ".join(parts) if parts else "all payments"


@require_GET
@merchant_required
@role_required(Role.VIEWER)
def payment_list_live(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The list's one live-update request: `v=<payment id>:<version>` for every row on the page
    that can still change. Answers the rows whose payment moved, each swapped into place out of
    band (`hx-swap-oob`), or 204 when none did."""
    shown: dict[str, str] = {}
    for value in request.GET.getlist("v")[:MAX_LIVE_ROWS]:
        payment_id, _, version = value.partition(":")
        if payment_id:
            shown[payment_id] = version
    user_id = merchant_id(request)
    # One BatchGetItem per 100 rows of keys and versions only; another merchant's id or a
    # deleted payment is not found, so not answered. The rows of those that moved (rarely any)
    # are read in a second one.
    versions = selectors.payment_versions_for_merchant(user_id=user_id, payment_ids=list(shown))
    moved = [pid for pid, version in versions.items() if shown[pid] != f"v{version}"]
    changed = (
        selectors.payment_rows_for_merchant(user_id=user_id, payment_ids=moved) if moved else []
    )
    if not changed:
        response = HttpResponse(status=204)
    else:
        response = HttpResponse("".join(presentation.live_status(p, oob=True) for p in changed))
    response["Cache-Control"] = "no-store"
    return response


def _form_values(params: QueryDict) -> dict[str, Any]:
    """What the merchant typed, to show back in the form as it was (valid or not)."""
    return {
        "q": params.get("q", ""),
        "status": params.getlist("status"),
        "range": params.get("range", ""),
        "start": display_day(params.get("start", "")),
        "end": display_day(params.get("end", "")),
        "currency": params.get("currency", ""),
        "tz": params.get("tz", ""),
    }


# --- detail and live status ----------------------------------------------------------------


@require_GET
@merchant_required
@role_required(Role.VIEWER)
def payment_detail(request: AuthenticatedHttpRequest, payment_id: str) -> HttpResponse:
    payment = _get_payment_or_404(request, payment_id)
    context = {
        "payment": payment,
        "zone_name": merchant_zone_name(),
        "poll_trigger": POLL_DETAIL,
        "history": list(reversed(payment.history)),
    }
    return _render(request, "payments/detail.html", context, partial="status-panel")


@require_GET
@merchant_required
@role_required(Role.VIEWER)
def payment_status(request: AuthenticatedHttpRequest, payment_id: str) -> HttpResponse:
    """The live status of a payment, polled while it is not final. `part=detail` answers the
    detail page's status panel, otherwise a list row's badge. When `shown` (the status the page
    shows) is still current the answer is 204: nothing to swap, polling goes on. A final
    status's fragment has no trigger, so polling stops there."""
    payment = _get_payment_or_404(request, payment_id)
    shown = request.GET.get("shown", "")
    if shown and not payment.is_final:
        # `v<version>`: the page shows this exact write (attempts, badges, log included);
        # a bare status (older pages) compares the status only.
        if shown == f"v{payment.version}":
            return HttpResponse(status=204)
        try:
            if parse_status(shown) == payment.status:
                return HttpResponse(status=204)
        except PaymentValidationError:
            pass
    context = {
        "payment": payment,
        "zone_name": merchant_zone_name(),
        "history": list(reversed(payment.history)),
    }
    if request.GET.get("part") == "detail":
        context["poll_trigger"] = POLL_DETAIL
        # The status moved: the Details card (TrueLayer id, updated time) and the link (closed
        # once final) move with it, and a flash about the state before ("Send the link to the
        # payer") goes.
        oob = {**context, "oob": True}
        response = HttpResponse(
            render_to_string("payments/detail.html#status-panel", context, request)
            + render_to_string("payments/detail.html#facts", oob, request)
            + render_to_string("payments/detail.html#link-section", oob, request)
            + '<div id="messages" aria-live="polite" hx-swap-oob="true"></div>'
        )
    else:
        response = HttpResponse(presentation.live_status(payment))
    response["Cache-Control"] = "no-store"
    return response


# --- statistics ----------------------------------------------------------------------------


@require_GET
@merchant_required
@role_required(Role.VIEWER)
def payment_stats(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Totals for a date range by status and currency, compared with the period before it,
    and a chart of daily amounts. Reads pre-aggregated totals: cost follows the days."""
    form = StatsForm(request.GET)
    context: dict[str, Any] = {
        "values": _form_values(request.GET),
        "range_choices": RANGE_CHOICES,
        "zone_name": merchant_zone_name(),
    }
    if not form.is_valid():
        context["errors"] = form_errors(form)
        return _render(request, "payments/stats.html", context, partial="stats-results", status=400)
    date_range: DateRange = form.cleaned_data["date_range"]
    if not context["values"]["range"]:
        context["values"]["range"] = date_range.preset
    summary = selectors.payment_stats_summary(
        user_id=merchant_id(request), date_range=date_range, tz=merchant_zone()
    )
    days = summary.days
    context.update(
        {
            "date_range": date_range,
            "previous": summary.previous,
            "now": summary.now,
            "then": summary.then,
            "count_change": summary.count_change,
            "rate_change": summary.rate_change,
            "status_lines": summary.status_lines,
            "currency_lines": summary.currency_lines,
            "charts": [
                {
                    "currency": c,
                    "svg": charts.daily_amounts_svg(days, c, summary.previous_days, rows=rows),
                    "table": charts.table_rows(rows, c),
                    "wide": charts.is_wide(days),
                }
                for c in (charts.currencies_in([*days, *summary.previous_days]) or ["GBP"])
                for rows in [charts.day_rows(days, c)]
            ],
            "series": charts.SERIES,
        }
    )
    return _render(request, "payments/stats.html", context, partial="stats-results")


# --- export --------------------------------------------------------------------------------


@require_GET
@merchant_required
@role_required(Role.VIEWER)
def payment_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A CSV of exactly the payments the list shows (its filters and its search, every page),
    streamed as it is read, ending with a line that states how many rows it holds."""
    form = PaymentFilterForm(_query_without(request.GET, "cursor", "q"))
    search_form = SearchForm({"q": request.GET.get("q", "")})
    if not form.is_valid() or not search_form.is_valid():
        return payment_list(request)  # the list page with the errors, status 400
    filters = form.filters()
    zone_name: str = form.cleaned_data["tz"]
    query = str(search_form.cleaned_data.get("q") or "")
    payments = selectors.payment_export_rows(
        user_id=merchant_id(request), filters=filters, query=query
    )
    try:
        # Read the first page now: a database that is down gives the error page, not a cut
        # file, and a search the data layer refuses gives the list page with its message.
        first = list(itertools.islice(payments, 1))
    except PaymentValidationError:
        return payment_list(request)
    rows = _Counted(itertools.chain(first, payments))
    response = StreamingHttpResponse(
        itertools.chain(csv_lines(rows, zone_name=zone_name), _count_line(rows)),
        content_type="text/csv; charset=utf-8",
    )
    stamp = utc_now().astimezone(ZoneInfo(zone_name))
    response["Content-Disposition"] = f'attachment; filename="{export_filename(stamp)}"'
    response["Cache-Control"] = "no-store"
    # `merchant_required` is typed for HttpResponse; Django serves a streaming one the same way.
    return cast("HttpResponse", response)


class _Counted:
    """Payments passed through, counted, so the export can state its row count at the end (a
    streamed file cannot know it at the start)."""

    def __init__(self, payments: Iterator[Payment]) -> None:
        self._payments = payments
        self.count = 0

    def __iter__(self) -> Iterator[Payment]:
        for payment in self._payments:
            self.count += 1
            yield payment


def _count_line(rows: _Counted) -> Iterator[str]:
    """`# 3 payments`: after the last row, so it is produced once they have all been read."""
    yield f"# {rows.count} payment{'s' if rows.count != 1 else ''}\r\n"
