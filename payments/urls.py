from __future__ import annotations

from django.urls import URLPattern, path

from payments.views import create, dashboard, refunds, webhooks

app_name = "payments"
urlpatterns: list[URLPattern] = [
    # TrueLayer links and webhooks. `new` must stay before "payments/<str:payment_id>/".
    path("payments/new/", create.payment_new, name="new"),
    path("payments/<str:payment_id>/retry-link/", create.payment_retry_link, name="retry_link"),
    path("payments/<str:payment_id>/refresh/", create.payment_refresh, name="refresh"),
    path("payments/<str:payment_id>/refund/", refunds.payment_refund, name="refund"),
    path("payments/<str:payment_id>/cancel/", refunds.payment_cancel, name="cancel"),
    path(
        "payments/<str:payment_id>/refunds/<str:refund_id>/retry/",
        refunds.refund_retry,
        name="refund_retry",
    ),
    path("webhooks/truelayer/", webhooks.truelayer_webhook, name="webhook"),
    # Also without the slash: APPEND_SLASH would answer a POST with a redirect that drops its
    # body (or a 500 with DEBUG on), and a signature covers the path that was really used.
    path("webhooks/truelayer", webhooks.truelayer_webhook),
    # The dashboard (list is the home page).
    path("", dashboard.payment_list, name="list"),
    path("live/", dashboard.payment_list_live, name="live"),
    path("stats/", dashboard.payment_stats, name="stats"),
    path("export.csv", dashboard.payment_export, name="export"),
    path("payments/<str:payment_id>/", dashboard.payment_detail, name="detail"),
    path("payments/<str:payment_id>/status/", dashboard.payment_status, name="status"),
]
