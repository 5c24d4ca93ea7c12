"""Shared helpers for the dashboard view tests (the signed-in `alice` is in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from payments.errors import DatabaseUnavailable

HTMX: dict[str, str] = {"HX-Request": "true"}


def database_down(*args: Any, **kwargs: Any) -> Any:
    raise DatabaseUnavailable()
