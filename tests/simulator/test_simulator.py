"""The simulator: a local hosted payment page whose webhooks, signed with its own key, go
through the real verifier and handler. Only in simulator mode with DEBUG on."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import services
from payments.domain import PaymentStatus
from payments.repository import PaymentRepository
from simulator.lifecycle import ACTIONS
from simulator.models import SimulatedPayment, SimulatedWebhook
from tests.factories import ALICE
from tests.simulator.conftest import new_payment


def link_path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_link_opens_a_labelled_page_with_amount_and_reference(
    repo: PaymentRepository, simulator_on: None, client: Client
) -> None:
    payment = new_payment(repo)
    assert payment.payment_link_url.startswith("http://testserver/simulator/pay/")

    page = client.get(link_path(payment.payment_link_url)).content.decode()

    assert "SIMULATOR" in page
    assert "25.00 EUR" in page
    assert "INV-SIM" in page


def test_authorising_delivers_signed_webhooks_that_execute_the_payment(
    repo: PaymentRepository, simulator_on: None, client: Client
) -> None:
    payment = new_payment(repo)
    link_id = payment.payment_link_id

    # payment_authorized is opt-in at TrueLayer: this payer's app has it switched on.
    response = client.post(
        reverse("simulator:authorise", args=[link_id]), {"send_authorized": "1"}, follow=True
    )

    assert "refused" not in response.content.decode()
    stored = repo.get_payment(user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.EXECUTED
    assert stored.truelayer_payment_id.startswith("sim-pay-")
    assert [h.source for h in stored.history][1:] == [
        "webhook payment_link_payment_created",
        "webhook payment_authorized",
        "webhook payment_executed",
    ]

    client.post(reverse("simulator:settle", args=[link_id]))
    stored = repo.get_payment(user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.SETTLED


def test_failing_with_a_reason_fails_the_payment_with_that_reason(
    repo: PaymentRepository, simulator_on: None, client: Client
) -> None:
    payment = new_payment(repo)
    client.post(
        reverse("simulator:fail", args=[payment.payment_link_id]),
        {"failure_reason": "insufficient_funds"},
    )
    stored = repo.get_payment(user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.FAILED
    assert stored.failure_reason == "insufficient_funds"


def test_expiring_the_link_marks_the_payment_expired(
    repo: PaymentRepository, simulator_on: None, client: Client
) -> None:
    payment = new_payment(repo)
    client.post(reverse("simulator:expire", args=[payment.payment_link_id]))
    stored = repo.get_payment(user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.EXPIRED


def test_refresh_status_asks_the_simulator_and_applies_what_it_says(
    repo: PaymentRepository, simulator_on: None, client: Client, settings: SettingsWrapper
) -> None:
    payment = new_payment(repo)
    # The webhooks get lost (e.g. refused): only the refresh can tell us.
    settings.TRUELAYER_WEBHOOK_JKU_ALLOWLIST = []
    client.post(reverse("simulator:authorise", args=[payment.payment_link_id]))
    stored = repo.get_payment(user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.PENDING

    refreshed = services.payment_refresh_status(
        user_id=ALICE, payment_id=payment.payment_id, repo=repo
    )

    assert refreshed.status is PaymentStatus.EXECUTED
    assert refreshed.truelayer_payment_id.startswith("sim-pay-")
    assert refreshed.history[-1].source == "refresh from TrueLayer"


def test_same_payment_gets_the_same_simulated_link_on_retry(
    repo: PaymentRepository, simulator_on: None
) -> None:
    from payments.truelayer.provider import PaymentLinkRequest
    from simulator.provider import SimulatorProvider

    payment = new_payment(repo)
    again = SimulatorProvider().create_payment_link(PaymentLinkRequest.for_payment(payment))
    assert again.link_id == payment.payment_link_id


def test_simulator_pages_are_not_found_with_debug_off(
    repo: PaymentRepository, simulator_on: None, client: Client, settings: SettingsWrapper
) -> None:
    payment = new_payment(repo)
    settings.DEBUG = False
    assert client.get(link_path(payment.payment_link_url)).status_code == 404
    for action in sorted(ACTIONS):
        url = reverse(f"simulator:{action}", args=[payment.payment_link_id])
        assert client.post(url, {"failure_reason": "provider_error"}).status_code == 404, action
    assert client.get(reverse("simulator:jwks")).status_code == 404
    assert not SimulatedPayment.objects.exists() and not SimulatedWebhook.objects.exists()


def test_simulator_pages_are_not_found_in_sandbox_mode(client: Client, db: None) -> None:
    assert client.get(reverse("simulator:pay", args=["sim-link-x"])).status_code == 404
