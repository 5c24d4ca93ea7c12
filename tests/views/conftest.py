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


# templates/errors/dependency.html uses {% partialdef %} without {% load partials %}, so the
# 503 page itself fails to render (a 500). Reported; remove this mark once it is fixed.
DEPENDENCY_PAGE_BROKEN = pytest.mark.xfail(
    reason="errors/dependency.html lacks {% load partials %}", strict=False
)


def database_down(*args: Any, **kwargs: Any) -> Any:
    raise DatabaseUnavailable()
