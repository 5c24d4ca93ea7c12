"""pytest plugin: records every DynamoDB operation the test suite makes and fails the run when
one is not granted by deploy/aws's IAM policies.

A botocore `before-parameter-build.dynamodb.*` handler (the event that carries the call's own
parameters; `before-call` only sees the serialised request) is registered on every botocore
session (the app builds its own sessions). Each call is attributed by its Python call stack:

* `init`: made inside `ensure_tables` (what `manage.py init_dynamodb` runs): checked against
  `InitDynamoDBPolicy`;
* `app`: made from the product's code (payments/, accounts/, simulator/, payments_dashboard/):
  checked against `AppPolicy`;
* neither (the test harness creating, listing or deleting tables, and `make seed`'s bulk writer
  of demo data): not recorded.

A transaction is authorised by IAM as its parts (`TransactWriteItems` -> `PutItem`,
`UpdateItem`, `ConditionCheckItem` per table), so it is recorded that way. Tables are named
logically (`payments`, `payments/index/<name>`, `meta`): by the calling repository's own
table names, or the settings' for code outside the repository (the health check).
With pytest-xdist, workers send their records to the controller, which checks them all.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import botocore.session
import pytest

from tests.production import aws_policy

_ROOT = Path(__file__).resolve().parents[2]
_APP_PREFIXES = tuple(
    str(_ROOT / name) + "/" for name in ("payments", "accounts", "simulator", "payments_dashboard")
)
# What `init_dynamodb` runs (the repository's method; `tables_ensure` after the split into
# payments/dynamo/), and the test helpers of the data layer that the product never calls.
# `search_backfill` (`manage.py index_search`) and `row_facts_backfill` (`manage.py
# backfill_row_facts`) are run with the same deploy role.
_INIT_FUNCTIONS = {"ensure_tables", "tables_ensure", "search_backfill", "row_facts_backfill"}
_HARNESS_FUNCTIONS = {"tables_drop"}
# The bulk writer of `make seed` (demo data, DynamoDB Local only: the seed refuses to run unless
# the simulator stands in for TrueLayer), never run with the app's role: not recorded.
_DEV_TOOL_FILES = {str(_ROOT / "devtools" / "bulk_load.py")}
# Where a call's table names are found: the repository (`self`) or the data layer's handle (`db`).
_HANDLE_NAMES = ("self", "db")
_TRANSACT_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}

# (kind, action, resource): kind "app" or "init".
recorded: set[tuple[str, str, str]] = set()
_listeners: list[list[tuple[str, str, str]]] = []


@contextlib.contextmanager
def capture() -> Iterator[list[tuple[str, str, str]]]:
    """The calls recorded while the block runs (for the recorder's own tests)."""
    calls: list[tuple[str, str, str]] = []
    _listeners.append(calls)
    try:
        yield calls
    finally:
        _listeners.remove(calls)


def _caller() -> tuple[str | None, dict[str, str]]:
    """Who made the call ("app", "init" or None for the harness), and the logical names of the
    tables of the repository that made it (it knows its own tables, whatever a test named
    them)."""
    frame: FrameType | None = sys._getframe(2)
    kind = None
    tables: dict[str, str] = {}
    while frame is not None:
        if frame.f_code.co_filename in _DEV_TOOL_FILES:
            return None, tables
        in_app = frame.f_code.co_filename.startswith(_APP_PREFIXES)
        if in_app and not tables:
            for name in _HANDLE_NAMES:
                owner = frame.f_locals.get(name)
                if isinstance(getattr(owner, "meta_table", None), str):
                    tables = {owner.table: "payments", owner.meta_table: "meta"}  # type: ignore[union-attr]
                    break
        if in_app and frame.f_code.co_name in _HARNESS_FUNCTIONS:
            return None, tables
        if in_app and frame.f_code.co_name in _INIT_FUNCTIONS:
            return "init", tables
        if kind is None and in_app:
            kind = "app"
        frame = frame.f_back
    return kind, tables


def _logical_table(name: str, tables: dict[str, str]) -> str:
    from django.conf import settings

    if name in tables:
        return tables[name]
    # Not through a repository (the health check): the tables of the settings.
    if name == getattr(settings, "DYNAMODB_META_TABLE", None):
        return "meta"
    if name == getattr(settings, "DYNAMODB_TABLE", None):
        return "payments"
    return f"other:{name}"


def _calls_of(
    operation: str, params: dict[str, Any], tables: dict[str, str]
) -> list[tuple[str, str]]:
    if operation == "TransactWriteItems":
        calls = []
        for item in params.get("TransactItems", []):
            for part, action in _TRANSACT_PARTS.items():
                if part in item:
                    calls.append(
                        (f"dynamodb:{action}", _logical_table(item[part]["TableName"], tables))
                    )
        return calls
    if operation == "TransactGetItems":
        return [
            ("dynamodb:GetItem", _logical_table(i["Get"]["TableName"], tables))
            for i in params.get("TransactItems", [])
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [
            (f"dynamodb:{operation}", _logical_table(name, tables))
            for name in params.get("RequestItems", {})
        ]
    table = params.get("TableName")
    if not isinstance(table, str):
        return [(f"dynamodb:{operation}", "*")]
    resource = _logical_table(table, tables)
    if isinstance(params.get("IndexName"), str):
        resource += f"/index/{params['IndexName']}"
    return [(f"dynamodb:{operation}", resource)]


def _before_parameter_build(**kwargs: Any) -> None:
    model, params = kwargs["model"], kwargs["params"]
    kind, tables = _caller()
    if kind is None:
        return
    for action, resource in _calls_of(model.name, params, tables):
        entry = (kind, action, resource)
        recorded.add(entry)
        for listener in _listeners:
            listener.append(entry)


def _register(session: botocore.session.Session) -> None:
    session.register(
        "before-parameter-build.dynamodb.*",
        _before_parameter_build,
        unique_id="dynamodb-call-recorder",
    )


_original_init = botocore.session.Session.__init__


def _init_and_register(self: botocore.session.Session, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    _register(self)


def pytest_configure(config: pytest.Config) -> None:
    botocore.session.Session.__init__ = _init_and_register  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    botocore.session.Session.__init__ = _original_init  # type: ignore[method-assign]


def violations(calls: set[tuple[str, str, str]]) -> list[str]:
    """Each recorded call its policy does not grant, as a readable line."""
    template = aws_policy.load_template()
    grants = {
        "app": aws_policy.policy_grants(template, aws_policy.APP_POLICY),
        "init": aws_policy.policy_grants(template, aws_policy.INIT_POLICY),
    }
    names = {"app": aws_policy.APP_POLICY, "init": aws_policy.INIT_POLICY}
    return [
        f"{action} on {resource} (called by the {kind} code) is not in {names[kind]}"
        for kind, action, resource in sorted(calls)
        if not aws_policy.allows(grants[kind], action, resource)
    ]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    # xdist controller: collect what the worker recorded.
    for entry in json.loads(getattr(node, "workeroutput", {}).get("dynamodb_calls", "[]")):
        kind, action, resource = entry
        recorded.add((str(kind), str(action), str(resource)))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller checks
        workeroutput["dynamodb_calls"] = json.dumps(sorted(recorded))
        return
    problems = violations(recorded)
    session.config.stash[_PROBLEMS] = problems
    if problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_PROBLEMS = pytest.StashKey[list[str]]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    problems = config.stash.get(_PROBLEMS, [])
    if not recorded:
        return
    app = sorted({(a, r) for k, a, r in recorded if k == "app"})
    terminalreporter.section("DynamoDB calls vs deploy/aws IAM policies")
    terminalreporter.write_line(
        f"{len(app)} (action, resource) pairs from the app, "
        f"{len(recorded) - len(app)} from init_dynamodb"
    )
    for problem in problems:
        terminalreporter.write_line(f"NOT GRANTED: {problem}", red=True)
    if not problems:
        terminalreporter.write_line("every call is granted by its policy", green=True)
