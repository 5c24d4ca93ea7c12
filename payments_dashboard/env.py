"""Small typed readers for settings that come from the environment, and the one `.env` loader
every entry point calls (manage.py, wsgi, asgi, `make run`)."""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

REPO_ROOT = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def load_env_file(path: Path | None = None) -> None:
    """Puts the variables of `.env` into the environment (parsed by python-dotenv). The file is
    `path`, else `$ENV_FILE`, else `.env` at the repository root; a missing file is no error.
    A variable already set wins, so the shell and docker compose can override the file; an
    empty value means "use the default", as if the line were not there (`.env.example` lists
    every setting, many of them empty)."""
    chosen = path or Path(os.environ.get("ENV_FILE") or REPO_ROOT / ".env")
    for key, value in dotenv_values(chosen).items():
        if value:
            os.environ.setdefault(key, value)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SystemExit(f"Refusing to start: {name}={raw!r} is not a boolean (use 1/0, true/false).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"Refusing to start: {name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


# Values published in docs, examples and this repository: never a production key.
_KNOWN_SECRET_KEYS = {"changeme", "change-me", "secret", "your-secret-key", "django-insecure"}
MIN_SECRET_KEY_LENGTH = 50


def secret_key_problem(key: str, *, known: list[str]) -> str:
    """What is wrong with a production SECRET_KEY ("" when nothing): missing, shorter than 50
    characters, a published value, or too few distinct characters (Django's own checks)."""
    if not key:
        return "is not set"
    if key in known or key.lower() in _KNOWN_SECRET_KEYS or key.startswith("django-insecure"):
        return "is a published, insecure value"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    if len(set(key)) < 5:
        return "has fewer than 5 different characters"
    return ""
