"""What DynamoDB Local does with a TransactWriteItems `ClientRequestToken` — the behaviour the
data layer's idempotent writes rest on (the same as AWS documents)."""

from __future__ import annotations

import pytest

from payments.dynamo import Dynamo
from payments.dynamo.client import TokenReused, TransactionCanceled, request_token, transact
from payments.dynamo.items import serialize


def _add(db: Dynamo, key: str, n: int) -> list[dict[str, object]]:
    return [
        {
            "Update": {
                "TableName": db.meta_table,
                "Key": serialize({"pk": key, "sk": "-"}),
                "UpdateExpression": "ADD n :n",
                "ExpressionAttributeValues": serialize({":n": n}),
            }
        }
    ]


def _n(db: Dynamo, key: str) -> int:
    item = db.client.get_item(
        TableName=db.meta_table, Key=serialize({"pk": key, "sk": "-"}), ConsistentRead=True
    ).get("Item")
    return int(item["n"]["N"]) if item else 0


def test_the_same_token_and_request_is_applied_once(dynamodb_local_repo: Dynamo) -> None:
    db = dynamodb_local_repo
    token = request_token("test", "same")
    transact(db, None, _add(db, "counter", 1), token=token)
    transact(db, None, _add(db, "counter", 1), token=token)  # a retry: answered "done"

    assert _n(db, "counter") == 1


def test_the_same_token_with_another_request_is_refused_as_reused(
    dynamodb_local_repo: Dynamo,
) -> None:
    db = dynamodb_local_repo
    token = request_token("test", "other")
    transact(db, None, _add(db, "counter", 1), token=token)

    with pytest.raises(TokenReused):
        transact(db, None, _add(db, "counter", 2), token=token)
    assert _n(db, "counter") == 1


def test_a_cancelled_transaction_does_not_keep_its_token(dynamodb_local_repo: Dynamo) -> None:
    db = dynamodb_local_repo
    token = request_token("test", "cancelled")
    guarded = _add(db, "guarded", 1)
    guarded[0]["Update"]["ConditionExpression"] = "attribute_exists(pk)"  # type: ignore[index]
    with pytest.raises(TransactionCanceled):
        transact(db, None, guarded, token=token)
    transact(db, None, _add(db, "guarded", 5), token=None)  # now it exists

    transact(db, None, guarded, token=token)  # the same token runs again, and now applies

    assert _n(db, "guarded") == 6


def test_tokens_are_short_enough_and_differ_per_operation() -> None:
    assert len(request_token("create", "auth0|x", "01J" + "0" * 23)) <= 36
    assert request_token("create", "a", "b") == request_token("create", "a", "b")
    assert request_token("create", "a", "b") != request_token("create", "ab", "")
    assert request_token("link", "a", "b") != request_token("create", "a", "b")
