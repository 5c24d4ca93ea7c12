from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.truelayer.fakes import truelayer as truelayer  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Tokens and JWKS are cached in Django's cache: every test starts without them."""
    cache.clear()
