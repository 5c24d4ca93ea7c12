"""Shared helpers for the dashboard view tests: a signed-in merchant with a client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from payments.errors import DatabaseUnavailable
from tests.factories import ALICE, sign_in

HTMX: dict[str, str] = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alice(client: Client, db: None) -> Client:
    """The test client, signed in as the merchant ALICE."""
    sign_in(client, ALICE)
    return client


def database_down(*args: Any, **kwargs: Any) -> Any:
    raise DatabaseUnavailable()
