"""The app refuses to start in production without Auth0 settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "DJANGO_"))}
    clean.update({"DJANGO_SECRET_KEY": "startup-test-key-" + "0123456789abcdef" * 3, **env})
    return subprocess.run(
        [sys.executable, "-c", "import payments_dashboard.settings as s; print(s.DEV_SIGN_IN)"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


AUTH0 = {
    "AUTH0_DOMAIN": "tenant.eu.auth0.com",
    "AUTH0_CLIENT_ID": "id",
    "AUTH0_CLIENT_SECRET": "secret",
}


def test_production_refuses_to_start_without_auth0_settings() -> None:
    result = load_settings(DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "Refusing to start: AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET not set" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_half_configured_auth0_refuses_to_start_even_locally() -> None:
    result = load_settings(DJANGO_DEBUG="1", AUTH0_DOMAIN="tenant.eu.auth0.com")

    assert result.returncode != 0
    assert "AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET not set" in result.stderr


def test_local_run_without_auth0_offers_the_development_sign_in() -> None:
    result = load_settings(DJANGO_DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_configured_auth0_starts_without_the_development_sign_in() -> None:
    result = load_settings(DJANGO_DEBUG="1", **AUTH0)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def truelayer_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TRUELAYER_", "DJANGO_"))}
    clean.update(
        {"DJANGO_SECRET_KEY": "startup-test-key-" + "0123456789abcdef" * 3, **AUTH0, **env}
    )
    code = (
        "import payments_dashboard.settings as s; "
        "print(s.TRUELAYER_PROVIDER); print(sorted(s.TRUELAYER_LOCAL_JWKS.values()))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_local_run_without_truelayer_names_the_simulator_by_setting() -> None:
    result = truelayer_settings(DJANGO_DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [
        "simulator.provider.SimulatorProvider",
        "['simulator.keys.public_jwks']",
    ]


def test_production_refuses_to_start_in_simulator_mode() -> None:
    result = truelayer_settings(DJANGO_DEBUG="0", TRUELAYER_MODE="simulator")

    assert result.returncode != 0
    assert "TRUELAYER_MODE=simulator needs DJANGO_DEBUG on" in result.stderr
    assert "Traceback" not in result.stderr
