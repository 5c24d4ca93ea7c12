"""Reading deploy/aws/payments-dashboard.yaml: its tables and its IAM policies, in the terms the
tests compare them with (payments' schema definition; the DynamoDB calls the suite makes).

Resources are named logically: `payments`, `payments/index/<name>`, `meta` (the table
parameters of the template, whatever an operator names the tables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "payments-dashboard.yaml"
APP_POLICY = "AppPolicy"
INIT_POLICY = "InitDynamoDBPolicy"
_TABLE_PARAMETERS = {"PaymentsTableName": "payments", "MetaTableName": "meta"}
_ARN_RE = re.compile(
    r"^arn:\$\{AWS::Partition\}:dynamodb:\$\{AWS::Region\}:\$\{AWS::AccountId\}:"
    r"table/\$\{(?P<table>\w+)\}(?P<rest>/index/[\w*.-]+)?$"
)


def schema_module() -> Any:
    """payments' own table definitions (PAYMENTS_TABLE, META_TABLE): the one place that
    names the module."""
    from payments.dynamo import schema

    return schema


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    # Long-form intrinsics ({"Fn::Sub": ...}) only, so a plain YAML parser reads it.
    template: dict[str, Any] = yaml.safe_load(path.read_text())
    return template


def logical_resource(resource: Any) -> str:
    """`{"Fn::Sub": "arn:...:table/${PaymentsTableName}/index/*"}` -> `payments/index/*`."""
    if not (isinstance(resource, dict) and set(resource) == {"Fn::Sub"}):
        raise ValueError(f"policy resources must be Fn::Sub table ARNs, found {resource!r}")
    match = _ARN_RE.match(resource["Fn::Sub"])
    if match is None or match["table"] not in _TABLE_PARAMETERS:
        raise ValueError(f"not one of this template's table ARNs: {resource['Fn::Sub']!r}")
    return _TABLE_PARAMETERS[match["table"]] + (match["rest"] or "")


@dataclass(frozen=True)
class Grant:
    action: str
    resource: str  # a logical resource pattern


def policy_grants(template: dict[str, Any], policy: str) -> list[Grant]:
    """Every (action, resource) an Allow statement of `policy` grants. Deny or conditions are
    not used by this template: refuse them rather than misread them."""
    document = template["Resources"][policy]["Properties"]["PolicyDocument"]
    grants = []
    for statement in document["Statement"]:
        if statement.get("Effect") != "Allow" or "Condition" in statement:
            raise ValueError(f"{policy}: only plain Allow statements are understood")
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if not isinstance(resources, list) else resources:
                grants.append(Grant(action, logical_resource(resource)))
    return grants


def allows(grants: list[Grant], action: str, resource: str) -> bool:
    return any(fnmatchcase(action, g.action) and fnmatchcase(resource, g.resource) for g in grants)
