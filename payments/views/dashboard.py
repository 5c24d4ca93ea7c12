"""The dashboard: payments list (filters, search, pages), detail, live status, statistics and
CSV export.

Each page is one template whose swappable parts are partials; an HTMX request gets only the part
it asked for, any other request (including htmx restoring history) the whole page, so every URL
works on its own and without JavaScript. Reads go through `payments.selectors`, each scoped to
the signed-in merchant; another merchant's payment simply is not found (404).
"""

from __future__ import annotations

import itertools
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from accounts.merchant import AuthenticatedHttpRequest, merchant_id, merchant_required
from payments import charts, selectors
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

POLL_ROW = "every 5s"
POLL_DETAIL = "every 3s"
SEARCHED_FIELDS = (
    "payment id, TrueLayer payment id, payment link id (exact), reference (contains) "
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


@require_GET
@merchant_required
def payment_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Payments newest first, filtered, or the results of a search (filters then narrow what the
    search found). An HTMX request gets the results (or, for "Load more", only new rows)."""
    form = PaymentFilterForm(request.GET)
    search_form = SearchForm({"q": request.GET.get("q", ""), "cursor": request.GET.get("cursor")})
    errors: list[str] = []
    if not form.is_valid():
        errors += form_errors(form)
    if not search_form.is_valid():
        errors += form_errors(search_form)
    query = str(search_form.cleaned_data.get("q") or "") if not search_form.errors else ""
    result = selectors.PaymentListResult([])
    filters = form.filters() if not form.errors else PaymentFilters()
    if not errors:
        user_id = merchant_id(request)
        try:
            if query:
                result = selectors.payment_search(
                    user_id=user_id,
                    query=query,
                    filters=filters,
                    page_size=page_size(),
                    budget=settings.PAYMENTS_SEARCH_BUDGET,
                )
            else:
                result = selectors.payment_list(
                    user_id=user_id, filters=filters, page_size=page_size()
                )
        except InvalidCursor as error:
            errors.append(error.message)
        except PaymentValidationError as error:
            errors.append(error.message)
    more_params = _query_without(request.GET, "cursor")
    if result.next_cursor:
        more_params["cursor"] = result.next_cursor
    context = {
        "filters": filters,
        "values": _form_values(request.GET),
        "errors": errors,
        "query": query,
        "result": result,
        "is_more": bool(filters.cursor),
        "more_query": more_params.urlencode() if result.next_cursor else "",
        "export_query": _query_without(request.GET, "cursor", "q").urlencode(),
        # The export control is a form (it has a time-zone select): the filters ride along.
        "export_params": [
            (name, value)
            for name, values in _query_without(request.GET, "cursor", "q", "tz").lists()
            for value in values
        ],
        "export_zones": zone_choices(merchant_zone_name()),
        "first_page_query": _query_without(request.GET, "cursor").urlencode(),
        "filtered": filters.active or bool(query),
        "status_choices": list(PaymentStatus),
        "range_choices": RANGE_CHOICES,
        "currencies": SUPPORTED_CURRENCIES,
        "zone_name": merchant_zone_name(),
        "searched_fields": SEARCHED_FIELDS,
        "search_budget": settings.PAYMENTS_SEARCH_BUDGET,
        "poll_trigger": POLL_ROW,
    }
    partial = "rows" if request.htmx.target == "load-more" else "results"
    return _render(
        request, "payments/list.html", context, partial=partial, status=400 if errors else 200
    )


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
        # The status moved: the Details card (TrueLayer id, updated time) moves with it.
        response = HttpResponse(
            render_to_string("payments/detail.html#status-panel", context, request)
            + render_to_string("payments/detail.html#facts", {**context, "oob": True}, request)
        )
    else:
        context["poll_trigger"] = POLL_ROW
        response = render(request, "payments/_live_status.html", context)
    response["Cache-Control"] = "no-store"
    return response


# --- statistics ----------------------------------------------------------------------------


@require_GET
@merchant_required
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
                    "svg": charts.daily_amounts_svg(days, c),
                    "rows": charts.day_rows(days, c),
                }
                for c in (charts.currencies_in(days) or ["GBP"])
            ],
            "series": charts.SERIES,
        }
    )
    return _render(request, "payments/stats.html", context, partial="stats-results")


# --- export --------------------------------------------------------------------------------


@require_GET
@merchant_required
def payment_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A CSV of exactly the payments the list's filters match, streamed as it is read."""
    form = PaymentFilterForm(_query_without(request.GET, "cursor", "q"))
    if not form.is_valid():
        return payment_list(request)  # the list page with the errors, status 400
    filters = form.filters()
    zone_name: str = form.cleaned_data["tz"]
    payments = selectors.payment_export_rows(user_id=merchant_id(request), filters=filters)
    # Read the first page now: a database that is down gives the error page, not a cut file.
    first = list(itertools.islice(payments, 1))
    response = StreamingHttpResponse(
        csv_lines(itertools.chain(first, payments), zone_name=zone_name),
        content_type="text/csv; charset=utf-8",
    )
    stamp = utc_now().astimezone(ZoneInfo(zone_name))
    response["Content-Disposition"] = f'attachment; filename="{export_filename(stamp)}"'
    response["Cache-Control"] = "no-store"
    # `merchant_required` is typed for HttpResponse; Django serves a streaming one the same way.
    return cast("HttpResponse", response)
