"""One `.env` loader for every entry point: `manage.py` commands read `.env` exactly as
`make run` does (python-dotenv's parser; the shell wins; an empty value means the default)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from devtools import run_local
from payments.dynamo import make_client
from payments_dashboard import asgi, env, wsgi

ROOT = Path(__file__).resolve().parents[2]


def test_values_fill_in_what_the_environment_does_not_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# a comment\n"
        "export ENVTEST_A='quoted value'\n"
        "ENVTEST_B=from-file\n"
        "ENVTEST_EMPTY=\n"
        'ENVTEST_C="two words" # and a comment\n'
    )
    monkeypatch.setenv("ENVTEST_B", "from-shell")
    for name in ("ENVTEST_A", "ENVTEST_EMPTY", "ENVTEST_C"):
        monkeypatch.delenv(name, raising=False)
    env.load_env_file(dotenv)
    assert os.environ["ENVTEST_A"] == "quoted value"
    assert os.environ["ENVTEST_B"] == "from-shell"
    assert os.environ["ENVTEST_C"] == "two words"
    assert "ENVTEST_EMPTY" not in os.environ


def test_a_missing_file_is_no_error(tmp_path: Path) -> None:
    env.load_env_file(tmp_path / "nothing-here")


def test_every_entry_point_uses_the_same_loader() -> None:
    assert vars(run_local)["load_env_file"] is env.load_env_file
    assert vars(wsgi)["load_env_file"] is env.load_env_file
    assert vars(asgi)["load_env_file"] is env.load_env_file
    assert "load_env_file()" in (ROOT / "manage.py").read_text()


def test_manage_py_init_dynamodb_reads_the_env_file(
    tmp_path: Path, dynamodb_local_endpoint: str
) -> None:
    table = f"FromDotenv-{uuid.uuid4().hex[:8]}"
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"DYNAMODB_ENDPOINT_URL={dynamodb_local_endpoint}\nDYNAMODB_TABLE={table}\n"
        f"DYNAMODB_META_TABLE={table}Meta\nAWS_ACCESS_KEY_ID=local\nAWS_SECRET_ACCESS_KEY=local\n"
    )
    names = ("DYNAMODB_", "AWS_", "ENV_FILE")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    result = subprocess.run(
        [sys.executable, "manage.py", "init_dynamodb"],
        cwd=ROOT,
        env=clean
        | {"ENV_FILE": str(dotenv), "DJANGO_SETTINGS_MODULE": "payments_dashboard.test_settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Created table {table}" in result.stdout
    client = make_client(endpoint_url=dynamodb_local_endpoint, region="eu-west-2")
    assert client.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"
