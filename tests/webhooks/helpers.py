"""Helpers for webhook tests: payments with links, and signed deliveries to the endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.test import Client
from django.urls import reverse

from payments import dynamo
from payments.domain import Payment, PaymentStatus, Totals
from payments.dynamo import Dynamo
from tests.factories import ALICE
from tests.truelayer.fakes import WebhookSigner


def payment_with_link(
    repo: Dynamo, n: int = 1, *, amount: str = "10.00", currency: str = "GBP"
) -> Payment:
    payment = dynamo.payment_create(
        repo, user_id=ALICE, amount=Decimal(amount), currency=currency, reference=f"INV {n}"
    )
    return dynamo.payment_link_set(
        repo,
        user_id=ALICE,
        payment_id=payment.payment_id,
        link_id=f"link-{payment.payment_id}",
        link_url=f"https://payment.truelayer-sandbox.com/link/{payment.payment_id}",
        response={"id": f"link-{payment.payment_id}"},
    )


def post(client: Client, signer: WebhookSigner, body: bytes, **sign: str) -> tuple[int, str]:
    headers = signer.sign(body, path=reverse("payments:webhook"), **sign)
    response = client.post(
        reverse("payments:webhook"),
        data=body,
        content_type=headers.pop("Content-Type"),
        headers=headers,
    )
    return response.status_code, response.content.decode()


def brute_force_totals(repo: Dynamo) -> dict[tuple[PaymentStatus, str], Totals]:
    totals: dict[tuple[PaymentStatus, str], Totals] = {}
    for payment in dynamo.payment_iter(repo, user_id=ALICE):
        key = (payment.status, payment.currency)
        totals[key] = totals.get(key, Totals()) + Totals(1, payment.amount)
    return totals


def stats_totals(repo: Dynamo) -> dict[tuple[PaymentStatus, str], Totals]:
    now = datetime.now(UTC)
    stats = dynamo.stats_for_range(
        repo, user_id=ALICE, start=now - timedelta(days=2), end=now + timedelta(days=1)
    )
    return {key: value for key, value in stats.totals.items() if value.count}
