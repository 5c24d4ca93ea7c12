"""The TrueLayer token is fetched by one app server at a time; the others use its token."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

import pytest
import responses
from django.core.cache import cache

from payments.truelayer.client import TrueLayerClient, TrueLayerConfig
from tests.truelayer.fakes import TOKEN_URL


@pytest.fixture
def token_endpoint() -> Iterator[responses.RequestsMock]:
    cache.clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            TOKEN_URL,
            json={"access_token": "fetched-here", "expires_in": 3600, "token_type": "Bearer"},
        )
        yield mock
    cache.clear()


def test_while_another_server_fetches_this_one_waits_for_its_token(
    token_endpoint: responses.RequestsMock,
) -> None:
    client = TrueLayerClient()
    key = client.config.token_cache_key
    assert cache.add(f"{key}:fetching", True)  # another server is fetching
    threading.Timer(0.2, lambda: cache.set(key, "fetched-elsewhere", 60)).start()

    assert client._token() == "fetched-elsewhere"
    assert len(token_endpoint.calls) == 0


def test_when_the_other_fetch_never_arrives_this_server_fetches_itself(
    token_endpoint: responses.RequestsMock,
) -> None:
    client = TrueLayerClient(dataclasses.replace(TrueLayerConfig.from_settings(), timeout=0.3))
    assert cache.add(f"{client.config.token_cache_key}:fetching", True)
    started = time.monotonic()

    assert client._token() == "fetched-here"
    assert len(token_endpoint.calls) == 1
    assert time.monotonic() - started < 2


def test_the_fetcher_releases_the_lock(token_endpoint: responses.RequestsMock) -> None:
    client = TrueLayerClient()

    assert client._token() == "fetched-here"
    assert cache.get(f"{client.config.token_cache_key}:fetching") is None
    assert cache.get(client.config.token_cache_key) == "fetched-here"
