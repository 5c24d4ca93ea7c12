"""Production headers (CSP without inline code, HSTS behind TLS, Permissions-Policy), a clean
`check --deploy`, no inline script or style the CSP would block, and the secret-key refusal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "hardening-test-key-" + "0123456789abcdef" * 3


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python *args` in a fresh process with these settings (production unless told)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.update({"DJANGO_SETTINGS_MODULE": "payments_dashboard.test_settings", **env})
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_every_page_carries_a_csp_without_inline_scripts(client: Client, db: None) -> None:
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "https://payments-test.eu.auth0.com" in directives["form-action"]


def test_every_page_carries_a_permissions_policy(client: Client, db: None) -> None:
    policy = client.get("/accounts/login/")["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "payment=()" in policy


def test_webhook_answers_carry_the_headers_too(client: Client, db: None) -> None:
    response = client.post("/webhooks/truelayer/", data=b"{}", content_type="application/json")
    assert "Content-Security-Policy" in response and "Permissions-Policy" in response


def test_behind_a_tls_proxy_hsts_is_sent_and_check_deploy_is_clean() -> None:
    result = run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_DEBUG="0",
        DJANGO_BEHIND_TLS_PROXY="1",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/accounts/login/', headers={'X-Forwarded-Proto': 'https'}, "
        "secure=True); print(r['Strict-Transport-Security'])"
    )
    hsts = run(
        "-c", code, DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_DEBUG="0", DJANGO_BEHIND_TLS_PROXY="1"
    )
    assert hsts.returncode == 0, hsts.stderr
    assert hsts.stdout.strip() == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is not set"),
        ("short-but-random-Q2x9", "is shorter than 50 characters"),
        ("insecure-development-key-only-used-with-debug-on", "published, insecure value"),
        ("django-insecure-" + "k" * 50, "published, insecure value"),
        ("ab" * 30, "fewer than 5 different characters"),
    ],
)
def test_production_refuses_to_start_with_a_weak_secret_key(key: str, problem: str) -> None:
    result = run(
        "-c", "import payments_dashboard.settings", DJANGO_SECRET_KEY=key, DJANGO_DEBUG="0"
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0] and "Traceback" not in result.stderr


def test_debug_runs_without_a_secret_key() -> None:
    code = "import payments_dashboard.settings as s; print(len(s.SECRET_KEY))"
    result = run("-c", code, DJANGO_SECRET_KEY="", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:|hx-on", re.I
)


def test_no_template_or_script_holds_code_the_csp_would_block() -> None:
    offenders = []
    for path in [*ROOT.glob("templates/**/*.html"), ROOT / "static/js/app.js"]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if INLINE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
