"""axe-core (npm, pinned in package.json, installed by `make browser-deps`) finds no violation on
any page, at desktop (1280 px) and phone (390 px) widths: the list (plain and filtered), the
detail page while open, paid and failed, "New payment" (empty and after a failed submit), the
refund form, statistics, sign-in, the simulator's payer page, and the 403 and 404 pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import dynamo
from payments.domain import PaymentStatus
from tests.browser.conftest import create_payment
from tests.conftest import skip_or_fail
from tests.factories import ALICE, make_payments

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 A and AA, and axe's best practices (landmarks, one h1, ...).
RULESETS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
S = PaymentStatus


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (axe injected from node_modules)."""
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self') refuses
        # an injected <script>, rightly, and does not apply here.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    found: list[dict[str, Any]] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: '"
        " + n.failureSummary.split('\\n').slice(1, 3).join(' '))})))",
        RULESETS,
    )
    return found


@pytest.mark.parametrize("width", [1280, 390])
def test_no_axe_violations_on_any_page(
    simulator_page: Page, live_app: str, settings: SettingsWrapper, width: int
) -> None:
    if not AXE.exists():
        skip_or_fail(f"{AXE} is missing: run `make browser-deps` (npm ci)")
    page = simulator_page
    page.set_viewport_size({"width": width, "height": 900})
    repo = dynamo.dynamo_from_settings()
    now = datetime.now(UTC)
    make_payments(
        repo,
        ALICE,
        6,
        start=now - timedelta(days=3),
        statuses=(S.SETTLED, S.FAILED, S.PENDING, S.EXPIRED, S.AUTHORIZING, S.EXECUTED),
    )
    found: dict[str, list[dict[str, Any]]] = {}

    def check(name: str) -> None:
        found[name] = violations(page)

    page.goto(f"{live_app}/payments/new/")
    check("new payment")
    page.get_by_label("Reference").fill("INV(1)")
    page.get_by_role("button", name="Create payment link").click()
    expect(page.locator("#error-summary")).to_be_focused()
    check("new payment, failed submit")

    link = create_payment(page, live_app, "42.10", "AXE-1")
    detail = page.url
    check("detail, open with its link")
    page.goto(link)
    check("simulator payer page")
    page.get_by_role("button", name="Pay now").click()
    page.get_by_role("button", name="Authorise payment").click()
    expect(page.get_by_test_id("payment-status")).to_have_text("executed")
    page.goto(detail)
    check("detail, paid")
    page.goto(f"{detail}refund/")
    check("refund form")

    failed = next(p for p in dynamo.payment_iter(repo, user_id=ALICE) if p.status is S.FAILED)
    page.goto(f"{live_app}/payments/{failed.payment_id}/")
    check("detail, failed")
    page.goto(f"{live_app}/")
    check("list")
    today = now.date()
    page.goto(f"{live_app}/?status=failed&range=custom&start={today:%Y-%m-%d}&end=nope")
    check("list, bad filter")
    page.goto(f"{live_app}/stats/")
    check("statistics")

    # As in production (DEBUG off): Django's own error pages give way to ours.
    settings.DEBUG = False
    page.goto(f"{live_app}/payments/01AAAAAAAAAAAAAAAAAAAAAAAA/")
    check("404")
    page.evaluate(
        "() => { const f = document.createElement('form'); f.method = 'post';"
        " f.action = '/payments/new/'; document.body.appendChild(f); f.submit(); }"
    )
    page.wait_for_url(f"{live_app}/payments/new/")
    check("403 (CSRF)")
    page.context.clear_cookies()
    page.goto(f"{live_app}/accounts/login/")
    check("sign in")

    problems = {name: v for name, v in found.items() if v}
    assert problems == {}, json.dumps(problems, indent=1)
    assert django_settings.DEBUG is False  # (the live server saw the same settings)
