"""docker-compose.yml, checked without Docker (these machines have none): it parses, has the
production shape, pins every image, and gives the app only variables the settings read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
# Read by botocore (credentials), not by the settings; everything else must be a setting.
LIBRARY_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
# Read by docker-compose.yml itself (interpolation), never by the app.
COMPOSE_VARIABLES = {"POSTGRES_PASSWORD"}
_ENV_READ = re.compile(r"\benv_(?:str|bool|int|list)\(\s*\"([A-Z][A-Z0-9_]*)\"")
_PINNED = re.compile(r"^[\w./-]+(:[\w][\w.-]*)?(@sha256:[0-9a-f]{64})?$")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def settings_variables() -> set[str]:
    """Every variable payments_dashboard/settings.py reads through its env helpers."""
    return set(_ENV_READ.findall((ROOT / "payments_dashboard" / "settings.py").read_text()))


def image_problem(image: str) -> str | None:
    if not _PINNED.match(image):
        return f"{image!r} is not an image reference"
    name, _, digest = image.partition("@")
    tag = name.rpartition(":")[2] if ":" in name.rpartition("/")[2] else ""
    if digest:
        return None
    if not tag:
        return f"{image!r} has no tag (that is `latest`)"
    if tag == "latest":
        return f"{image!r} is `latest`"
    return None


def app_services(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run this project's image (built from the Dockerfile)."""
    return {name: s for name, s in data["services"].items() if "build" in s}


def test_the_file_parses_and_has_the_production_shape() -> None:
    data = compose()
    services = data["services"]

    assert {"lb", "app", "release", "reconcile", "postgres", "dynamodb"} <= set(services)
    assert services["app"]["deploy"]["replicas"] >= 2
    assert "container_name" not in services["app"]  # would forbid --scale
    assert "ports" not in services["app"]  # replicas are reached through the lb only
    assert "reconcile_payments" in " ".join(services["reconcile"]["command"])
    assert services["app"]["depends_on"]["release"]["condition"] == (
        "service_completed_successfully"
    )
    assert "/healthz" in " ".join(services["app"]["healthcheck"]["test"])
    for name, service in app_services(data).items():
        url = service["environment"]["DATABASE_URL"]
        assert url.startswith("postgres://") and "@postgres:5432/" in url, name


def test_every_image_is_pinned() -> None:
    problems = [
        f"{name}: {image_problem(service['image'])}"
        for name, service in compose()["services"].items()
        if "image" in service and image_problem(service["image"])
    ]
    unbuilt = [n for n, s in compose()["services"].items() if "image" not in s and "build" not in s]

    assert problems == []
    assert unbuilt == []


def test_the_pin_check_refuses_latest_and_untagged_images() -> None:
    assert image_problem("amazon/dynamodb-local:latest") is not None
    assert image_problem("amazon/dynamodb-local") is not None
    assert image_problem("localhost:5000/dynamodb-local") is not None
    assert image_problem("postgres:15.10-bookworm") is None
    assert image_problem("nginx@sha256:" + "a" * 64) is None


def test_the_app_environment_names_only_variables_the_settings_read() -> None:
    known = settings_variables() | LIBRARY_VARIABLES
    unknown = {
        name: sorted(set(service.get("environment", {})) - known)
        for name, service in app_services(compose()).items()
    }

    assert {name: extra for name, extra in unknown.items() if extra} == {}
    assert {"DATABASE_URL", "DYNAMODB_ENDPOINT_URL", "AWS_REGION"} <= settings_variables()


def test_env_example_names_only_variables_the_settings_read() -> None:
    # .env is what compose hands the app (env_file); .env.example is its template.
    names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))

    assert names - settings_variables() - LIBRARY_VARIABLES - COMPOSE_VARIABLES == set()
