"""TrueLayer's hosts can be pointed elsewhere (the tests' fake, an egress proxy), over https."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from payments_dashboard.test_settings import TRUELAYER_SIGNING_PRIVATE_KEY

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "override-test-key-" + "0123456789abcdef" * 3,
    "AUTH0_DOMAIN": "tenant.eu.auth0.com",
    "AUTH0_CLIENT_ID": "id",
    "AUTH0_CLIENT_SECRET": "secret",
    "TRUELAYER_MODE": "live",
    "TRUELAYER_CLIENT_ID": "client",
    "TRUELAYER_CLIENT_SECRET": "secret",
    "TRUELAYER_SIGNING_KEY_ID": "kid",
    "TRUELAYER_SIGNING_PRIVATE_KEY": TRUELAYER_SIGNING_PRIVATE_KEY,
    "TRUELAYER_MERCHANT_ACCOUNT_ID": "account",
}


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "DJANGO_", "TRUELAYER_"))
    }
    clean.update({**PRODUCTION, **env})
    code = (
        "import payments_dashboard.settings as s; print(s.TRUELAYER_AUTH_URL, s.TRUELAYER_API_URL)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_live_mode_uses_truelayers_live_hosts_by_default() -> None:
    result = load_settings()

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["https://auth.truelayer.com", "https://api.truelayer.com"]


def test_both_hosts_can_be_overridden_with_https_urls() -> None:
    result = load_settings(
        TRUELAYER_AUTH_URL="https://127.0.0.1:8443", TRUELAYER_API_URL="https://proxy.internal"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["https://127.0.0.1:8443", "https://proxy.internal"]


def test_a_plain_http_host_is_refused_in_production() -> None:
    result = load_settings(TRUELAYER_API_URL="http://api.truelayer.com")

    assert result.returncode != 0
    assert "TRUELAYER_API_URL='http://api.truelayer.com' must be an https:// URL" in result.stderr
    assert "Traceback" not in result.stderr
