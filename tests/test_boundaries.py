"""Only the data layer talks to DynamoDB: ruff's TID251 rule (pyproject.toml) refuses boto3 and
botocore anywhere else, and this proves the rule is live."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")


def _ruff_on(path: str, source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RUFF), "check", "--select", "TID251", "--stdin-filename", path, "-"],
        input=source,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "source",
    ["import boto3\n", "from botocore.exceptions import ClientError\n"],
)
def test_boto3_outside_the_data_layer_fails_the_lint(source: str) -> None:
    result = _ruff_on("payments/views/example.py", source)
    assert result.returncode == 1
    assert "TID251" in result.stdout


def test_boto3_inside_the_data_layer_is_allowed() -> None:
    result = _ruff_on("payments/dynamo/example.py", "import boto3\n")
    assert result.returncode == 0, result.stdout
