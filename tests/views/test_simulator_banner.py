"""The "simulator mode" banner: on every page while the simulator stands in for TrueLayer,
never otherwise (and never with DEBUG off, as in production)."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from payments.dynamo import Dynamo
from tests.factories import ALICE, make_payments

BANNER = 'data-testid="simulator-mode-banner"'
PAGES = ["/", "/payments/new/", "/stats/"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_says_simulator_mode(
    alice: Client, repo: Dynamo, simulator_on: None, path: str
) -> None:
    page = alice.get(path).content.decode()
    assert BANNER in page and "Simulator mode" in page


def test_the_detail_page_says_it(alice: Client, repo: Dynamo, simulator_on: None) -> None:
    (payment,) = make_payments(repo, ALICE, 1)
    assert BANNER in alice.get(f"/payments/{payment.payment_id}/").content.decode()


def test_sign_in_page_says_it_too(client: Client, simulator_on: None) -> None:
    assert BANNER in client.get("/accounts/login/").content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_no_banner_with_truelayer(alice: Client, repo: Dynamo, path: str) -> None:
    assert BANNER not in alice.get(path).content.decode()


def test_no_banner_with_debug_off_whatever_the_provider(
    alice: Client, repo: Dynamo, simulator_on: None, settings: SettingsWrapper
) -> None:
    settings.DEBUG = False
    assert BANNER not in alice.get("/").content.decode()
