"""deploy/aws/payments-dashboard.yaml: its tables equal what `init_dynamodb` creates, its app
policy grants only item actions on these tables, and the DynamoDB call recorder behind the
suite-wide policy check really records (tests/production/dynamodb_calls.py)."""

from __future__ import annotations

import copy
from typing import Any

import cfnlint.api

from payments import dynamo
from payments.dynamo import Dynamo
from tests.production import aws_policy, dynamodb_calls

TABLES = {"PaymentsTable": "PAYMENTS_TABLE", "MetaTable": "META_TABLE"}
ITEM_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",  # meta only: a parked webhook event, once applied
    "dynamodb:BatchGetItem",  # payments only: the payments of a search page
}


def _sorted(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: str(item[key]))


def template_differences(template: dict[str, Any]) -> list[str]:
    """How the template's tables differ from payments' schema definition (CreateTable's
    arguments as `init_dynamodb` sends them, plus TTL and point-in-time recovery)."""
    schema = aws_policy.schema_module()
    problems = []
    for resource, spec_name in TABLES.items():
        spec = getattr(schema, spec_name)
        properties = template["Resources"][resource]["Properties"]
        expected = spec.create_table_kwargs("(name)")
        for field in ("BillingMode", "KeySchema"):
            if properties.get(field) != expected[field]:
                problems.append(f"{resource}.{field}: {properties.get(field)} != {expected[field]}")
        attributes = _sorted(properties.get("AttributeDefinitions", []), "AttributeName")
        if attributes != _sorted(expected["AttributeDefinitions"], "AttributeName"):
            problems.append(f"{resource}.AttributeDefinitions differ: {attributes}")
        indexes = _sorted(properties.get("GlobalSecondaryIndexes", []), "IndexName")
        if indexes != _sorted(expected.get("GlobalSecondaryIndexes", []), "IndexName"):
            names = [i["IndexName"] for i in indexes]
            problems.append(f"{resource}.GlobalSecondaryIndexes differ (template has {names})")
        ttl = properties.get("TimeToLiveSpecification")
        want_ttl = (
            {"AttributeName": spec.ttl_attribute, "Enabled": True} if spec.ttl_attribute else None
        )
        if ttl != want_ttl:
            problems.append(f"{resource}.TimeToLiveSpecification: {ttl} != {want_ttl}")
        pitr = properties.get("PointInTimeRecoverySpecification", {})
        if bool(pitr.get("PointInTimeRecoveryEnabled")) != spec.point_in_time_recovery:
            problems.append(f"{resource}: point-in-time recovery {pitr} differs")
    return problems


def test_the_template_tables_equal_payments_schema_definition() -> None:
    assert template_differences(aws_policy.load_template()) == []


def test_a_template_missing_an_index_or_ttl_is_caught() -> None:
    template = aws_policy.load_template()
    changed = copy.deepcopy(template)
    changed["Resources"]["PaymentsTable"]["Properties"]["GlobalSecondaryIndexes"].pop()
    del changed["Resources"]["MetaTable"]["Properties"]["TimeToLiveSpecification"]

    problems = template_differences(changed)

    assert any("PaymentsTable.GlobalSecondaryIndexes differ" in p for p in problems)
    assert any("MetaTable.TimeToLiveSpecification" in p for p in problems)


def test_the_template_passes_cfn_lint() -> None:
    matches = cfnlint.api.lint_all(aws_policy.TEMPLATE.read_text())

    # Errors and warnings only: informational rules (I...) ask for optional metadata.
    assert [str(m) for m in matches if m.rule.id[0] in "EW"] == []


def test_the_app_policy_grants_item_actions_only_on_its_tables_and_indexes() -> None:
    grants = aws_policy.policy_grants(aws_policy.load_template(), aws_policy.APP_POLICY)

    assert {g.action for g in grants} == ITEM_ACTIONS
    assert {g.resource for g in grants} == {"payments", "payments/index/*", "meta"}
    # Indexes are read-only by nature; only Query is granted on them.
    assert {g.action for g in grants if "/index/" in g.resource} == {"dynamodb:Query"}
    # Payments are never deleted by the app.
    assert not aws_policy.allows(grants, "dynamodb:DeleteItem", "payments")


def test_init_dynamodb_has_its_own_policy_and_the_app_cannot_change_tables() -> None:
    template = aws_policy.load_template()
    app = aws_policy.policy_grants(template, aws_policy.APP_POLICY)
    init = aws_policy.policy_grants(template, aws_policy.INIT_POLICY)

    for action in ("dynamodb:CreateTable", "dynamodb:UpdateTimeToLive", "dynamodb:DeleteTable"):
        assert not aws_policy.allows(app, action, "payments")
    assert aws_policy.allows(init, "dynamodb:CreateTable", "payments")
    assert aws_policy.allows(init, "dynamodb:UpdateContinuousBackups", "meta")
    assert not aws_policy.allows(init, "dynamodb:PutItem", "payments")


def test_the_recorder_sees_app_calls_and_tells_init_and_the_harness_apart(
    repo: Dynamo,
) -> None:
    with dynamodb_calls.capture() as calls:
        dynamo.payment_create(
            repo, user_id="auth0|rec", amount="1.00", currency="GBP", reference="R1"
        )
        dynamo.tables_ensure(repo)
        repo.client.list_tables()  # the test itself: not the app's

    assert ("app", "dynamodb:PutItem", "payments") in calls
    assert ("app", "dynamodb:UpdateItem", "meta") in calls  # statistics, in the transaction
    assert ("init", "dynamodb:DescribeTable", "payments") in calls
    assert not any(action == "dynamodb:ListTables" for _, action, _ in calls)
    assert not any(
        kind == "app" and action == "dynamodb:DescribeTable" for kind, action, _ in calls
    )


def test_an_ungranted_call_is_named_and_a_granted_one_is_not() -> None:
    problems = dynamodb_calls.violations(
        {
            ("app", "dynamodb:GetItem", "payments"),
            ("app", "dynamodb:Query", "payments/index/StatusIndex"),
            ("app", "dynamodb:Scan", "payments"),
            ("app", "dynamodb:GetItem", "other:SomeoneElsesTable"),
            ("init", "dynamodb:DeleteTable", "meta"),
        }
    )

    assert problems == [
        "dynamodb:GetItem on other:SomeoneElsesTable (called by the app code) is not in AppPolicy",
        "dynamodb:Scan on payments (called by the app code) is not in AppPolicy",
        "dynamodb:DeleteTable on meta (called by the init code) is not in InitDynamoDBPolicy",
    ]


def test_init_dynamodb_turns_on_ttl_and_point_in_time_recovery_like_the_template(
    repo: Dynamo,
) -> None:
    client = repo.client

    for table in (repo.table, repo.meta_table):
        backups = client.describe_continuous_backups(TableName=table)
        recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    ttl = client.describe_time_to_live(TableName=repo.meta_table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")
