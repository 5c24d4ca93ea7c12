"""Fixtures for the hardening tests: DEBUG on and off, a signed-in merchant, a TrueLayer
webhook signer whose JWKS is served (faked) at the allow-listed sandbox `jku`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from django.core.cache import cache
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.factories import ALICE, sign_in
from tests.truelayer.fakes import LINKS_URL, SANDBOX_JKU, WebhookSigner, link_created
from tests.truelayer.fakes import truelayer as truelayer  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: pytest.FixtureRequest, settings: SettingsWrapper) -> bool:
    """Every test runs with DEBUG off (production) and on (`make run`)."""
    settings.DEBUG = request.param
    return bool(request.param)


@pytest.fixture
def alice(client: Client, db: None) -> Client:
    """The merchant ALICE, signed in; exceptions in views fail the test (no traceback)."""
    sign_in(client, ALICE)
    return client


@pytest.fixture
def signer(truelayer: responses.RequestsMock) -> WebhookSigner:
    """TrueLayer's sandbox webhook key; also answers link creation for the new-payment form."""
    signer = WebhookSigner()
    truelayer.add(responses.GET, SANDBOX_JKU, json=signer.jwks())
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    return signer
