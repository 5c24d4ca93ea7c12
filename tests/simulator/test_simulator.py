"""The simulator: a local hosted payment page whose webhooks, signed with its own key, go
through the real verifier and handler. Only in simulator mode with DEBUG on."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from payments import dynamo, services
from payments.domain import PaymentStatus
from payments.dynamo import Dynamo
from simulator.lifecycle import ACTIONS
from simulator.models import SimulatedPayment, SimulatedWebhook
from tests.factories import ALICE
from tests.simulator.conftest import new_payment


def link_path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_link_opens_a_labelled_page_with_amount_and_reference(
    repo: Dynamo, simulator_on: None, client: Client
) -> None:
    payment = new_payment(repo)
    assert payment.payment_link_url.startswith("http://testserver/simulator/pay/")

    page = client.get(link_path(payment.payment_link_url)).content.decode()

    assert "SIMULATOR" in page
    assert "25.00 EUR" in page
    assert "INV-SIM" in page


def test_authorising_delivers_signed_webhooks_that_execute_the_payment(
    repo: Dynamo, simulator_on: None, client: Client
) -> None:
    payment = new_payment(repo)
    link_id = payment.payment_link_id

    # payment_authorized is opt-in at TrueLayer: this payer's app has it switched on.
    response = client.post(
        reverse("simulator:authorise", args=[link_id]), {"send_authorized": "1"}, follow=True
    )

    assert "refused" not in response.content.decode()
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.EXECUTED
    assert stored.truelayer_payment_id.startswith("sim-pay-")
    assert [h.source for h in stored.history][1:] == [
        "TrueLayer webhook (payment_link_payment_created)",
        "TrueLayer webhook (payment_authorized)",
        "TrueLayer webhook (payment_executed)",
        "TrueLayer webhook (payment_link_disabled)",
    ]
    assert stored.lifecycle.link.disabled_reason == "fulfilled"

    client.post(reverse("simulator:settle", args=[link_id]))
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.SETTLED


def test_a_failed_attempt_leaves_the_link_open_and_a_second_attempt_can_pay(
    repo: Dynamo, simulator_on: None, client: Client
) -> None:
    payment = new_payment(repo)
    link_id = payment.payment_link_id
    client.post(reverse("simulator:fail", args=[link_id]), {"failure_reason": "insufficient_funds"})
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None
    assert stored.status is PaymentStatus.ATTEMPT_FAILED  # the payer can try again
    assert stored.failure_reason == "insufficient_funds"

    client.post(reverse("simulator:authorise", args=[link_id]))
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.EXECUTED
    assert [a.status.value for a in stored.attempts] == ["failed", "executed"]


def test_a_failed_attempt_then_the_link_expiring_fails_the_payment(
    repo: Dynamo, simulator_on: None, client: Client
) -> None:
    payment = new_payment(repo)
    link_id = payment.payment_link_id
    client.post(reverse("simulator:fail", args=[link_id]), {"failure_reason": "provider_error"})
    client.post(reverse("simulator:expire", args=[link_id]))
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.FAILED


def test_expiring_the_link_marks_the_payment_expired(
    repo: Dynamo, simulator_on: None, client: Client
) -> None:
    payment = new_payment(repo)
    client.post(reverse("simulator:expire", args=[payment.payment_link_id]))
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.EXPIRED


def test_refresh_status_asks_the_simulator_and_applies_what_it_says(
    repo: Dynamo, simulator_on: None, client: Client, settings: SettingsWrapper
) -> None:
    payment = new_payment(repo)
    # The webhooks get lost (e.g. refused): only the refresh can tell us.
    settings.TRUELAYER_WEBHOOK_JKU_ALLOWLIST = []
    client.post(reverse("simulator:authorise", args=[payment.payment_link_id]))
    stored = dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id)
    assert stored is not None and stored.status is PaymentStatus.PENDING

    refreshed = services.payment_refresh_status(
        user_id=ALICE, payment_id=payment.payment_id, db=repo
    ).payment

    assert refreshed.status is PaymentStatus.EXECUTED
    assert refreshed.truelayer_payment_id.startswith("sim-pay-")
    assert refreshed.history[-1].source == services.REFRESH_SOURCE


def test_same_payment_gets_the_same_simulated_link_on_retry(
    repo: Dynamo, simulator_on: None
) -> None:
    from payments.truelayer.provider import PaymentLinkRequest
    from simulator.provider import SimulatorProvider

    payment = new_payment(repo)
    again = SimulatorProvider().create_payment_link(PaymentLinkRequest.for_payment(payment))
    assert again.link_id == payment.payment_link_id


def test_simulator_pages_are_not_found_with_debug_off(
    repo: Dynamo, simulator_on: None, client: Client, settings: SettingsWrapper
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


def test_settings_name_the_provider_class(simulator_on: None, settings: SettingsWrapper) -> None:
    from payments.truelayer.provider import TrueLayerProvider, get_provider
    from simulator.provider import SimulatorProvider

    assert type(get_provider()) is SimulatorProvider
    settings.TRUELAYER_PROVIDER = "payments.truelayer.provider.TrueLayerProvider"
    assert type(get_provider()) is TrueLayerProvider


def test_the_simulator_provider_is_refused_with_debug_off_even_if_settings_name_it(
    simulator_on: None, settings: SettingsWrapper
) -> None:
    from payments.truelayer.client import TrueLayerError
    from payments.truelayer.provider import get_provider

    settings.DEBUG = False
    with pytest.raises(TrueLayerError, match="disabled when DEBUG is off"):
        get_provider()


def test_simulator_webhooks_are_refused_with_debug_off_even_if_settings_allow_its_jku(
    repo: Dynamo, simulator_on: None, client: Client, settings: SettingsWrapper
) -> None:
    from simulator.delivery import signed_request

    payment = new_payment(repo)
    settings.DEBUG = False
    event = {
        "type": "payment_link_payment_created",
        "event_version": 1,
        "event_id": "evt-debug-off",
        "payment_link_id": payment.payment_link_id,
        "payment": {"id": "sim-pay-x", "created_at": "2026-01-01T10:00:00Z"},
    }
    path, headers, body = signed_request(event)

    response = client.post(
        path, data=body, content_type=headers.pop("Content-Type"), headers=headers
    )

    assert response.status_code == 401
    assert dynamo.payment_get(repo, user_id=ALICE, payment_id=payment.payment_id) == payment
