"""The DynamoDB tables this package expects, as data: `init_dynamodb` creates them from this and
checks an existing table against it. Every index is named once here; queries use the constants.
The README's "DynamoDB schema" section explains each choice.

Payments table (one item per payment, partition = the merchant's Auth0 `sub`):
  userId (HASH) + paymentId (RANGE, a ULID, so the base table sorts by creation time and a date
  range is a key condition on paymentId: no CreatedAtIndex)
  StatusRowsIndex          userId + statusCreatedAt          "{status}#{createdAt}"
  CurrencyRowsIndex        userId + currencyCreatedAt        "{currency}#{createdAt}"
  CurrencyStatusRowsIndex  userId + currencyStatusCreatedAt  "{currency}#{status}#{createdAt}"
      the three list indexes project only what a list, search or export row shows
      (`LIST_ATTRIBUTES`, INCLUDE, with the row facts in place of the attempts and refunds):
      a write that changes only the timeline, the webhook log or a raw provider response does
      not touch them, and a page never reads those
  PaymentLinkKeysIndex     paymentLinkId       (sparse, keys only: webhooks, search by link id)
  TruelayerPaymentKeysIndex truelayerPaymentId (sparse, keys only: webhooks, search by TL id)
      keys only: written once when the id is set, never again by a status change; the payment
      itself is then one GetItem on the base table
  OpenIndex                openShard + checkAt (sparse, keys only: open payments with a link,
                                                for reconciliation)

Indexes of earlier versions (`RETIRED_PAYMENT_INDEXES`: the same keys with ALL projections,
then with every attempt and refund projected, and CreatedAtIndex) are deleted by
`init_dynamodb` once their replacements are ACTIVE.

Meta table (pk + sk): daily and monthly statistics per merchant (local days of the merchant's
zone, sharded when busy), kept in step with every payment write in the same transaction;
processed webhook event ids; form-submission tokens; who owns a TrueLayer link or attempt
(`owners`); webhook events parked until their payment is known (`parked`); reconciliation
leases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STATUS_INDEX = "StatusRowsIndex"
CURRENCY_INDEX = "CurrencyRowsIndex"
CURRENCY_STATUS_INDEX = "CurrencyStatusRowsIndex"
PAYMENT_LINK_INDEX = "PaymentLinkKeysIndex"
TRUELAYER_PAYMENT_INDEX = "TruelayerPaymentKeysIndex"
OPEN_INDEX = "OpenIndex"

# Indexes earlier versions created, replaced above (a GSI's projection cannot be changed in
# place): `init_dynamodb` deletes them once the new ones are ACTIVE.
RETIRED_PAYMENT_INDEXES = (
    "StatusIndex",
    "CreatedAtIndex",
    "CurrencyIndex",
    "CurrencyStatusIndex",
    "PaymentLinkIndex",
    "TruelayerPaymentIndex",
    # They projected every attempt (with its history) and every refund; the Rows indexes
    # project the row facts instead (`ROW_FACTS`).
    "StatusListIndex",
    "CurrencyListIndex",
    "CurrencyStatusListIndex",
)

# What a row shows of the lifecycle beyond the status, stored beside it by every lifecycle
# write (`lifecycle_items.row_facts_to_item`): a small map of the winning attempt's settlement
# fact and the refunds' count and sums. One attribute, not four: DynamoDB counts projected
# attributes per table (AWS: at most 100 summed over the indexes, DynamoDB Local: 20
# distinct), and the previous list indexes must coexist with these while a deploy rolls.
ROW_FACTS = "rowFacts"

# The non-key attributes a list, search or export row is made from (`items.item_to_row`
# reads them; what is absent reads as empty): the list indexes project these and every list
# Query asks for only these. Not here, so never read by a list: the attempts with their
# histories, the link, the refunds, the timeline (`history`), the webhook log, raw provider
# responses, the link error, the over-refund guard's counter. A row's size is the same
# however many attempts, refunds and status changes its payment has had.
LIST_ATTRIBUTES = (
    "amount",
    "currency",
    "reference",
    "status",
    "createdAt",
    "updatedAt",
    "version",
    "payerName",
    "payerEmail",
    "expiresAt",
    "paymentLinkId",
    "truelayerPaymentId",
    "failureStage",
    "failureReason",
    ROW_FACTS,  # the settlement and refund badges, the export's refunded amount
)

# Meta-table items (pk, sk): see the README's "PaymentsMeta" table.
# Statistics: one item per local day (`DAY`) and per local month (`MONTH`) in the merchant's zone,
# sort key `<period>#<shard>` (`shards.py`).
DAY = "DAY"
MONTH = "MONTH"
# Before version 2 of the statistics: UTC hours and UTC days, one item each, sort key the period.
# Nothing reads or writes them any more; `rebuild_statistics` deletes them.
LEGACY_HOURLY = "H"
LEGACY_DAILY = "D"
STATS_GRAINS = (DAY, MONTH, LEGACY_HOURLY, LEGACY_DAILY)


def stats_pk(grain: str, user_id: str) -> str:
    """Partition of a merchant's statistics items of one grain (`DAY`, `MONTH`, …)."""
    return f"STATS#{grain}#{user_id}"


def event_pk(event_id: str) -> str:
    return f"EVENT#{event_id}"


EVENT_SK = "-"


def submission_pk(user_id: str) -> str:
    return f"SUBMIT#{user_id}"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: str
    range_key: str | None
    projection: str = "ALL"
    include: tuple[str, ...] = ()  # NonKeyAttributes of an INCLUDE projection

    def projection_kwargs(self) -> dict[str, Any]:
        projection: dict[str, Any] = {"ProjectionType": self.projection}
        if self.projection == "INCLUDE":
            projection["NonKeyAttributes"] = list(self.include)
        return projection


@dataclass(frozen=True)
class TableSpec:
    hash_key: str
    range_key: str
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None = None
    retired_indexes: tuple[str, ...] = ()
    # Continuous backups (restore to any second of the last 35 days): payments are money.
    point_in_time_recovery: bool = True

    def attribute_names(self) -> list[str]:
        names = [self.hash_key, self.range_key]
        for index in self.indexes:
            for key in (index.hash_key, index.range_key):
                if key and key not in names:
                    names.append(key)
        return names

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Arguments for DynamoDB's CreateTable: on-demand, every key a string."""
        kwargs: dict[str, Any] = {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"} for name in self.attribute_names()
            ],
            "KeySchema": _key_schema(self.hash_key, self.range_key),
        }
        if self.indexes:
            kwargs["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": _key_schema(index.hash_key, index.range_key),
                    "Projection": index.projection_kwargs(),
                }
                for index in self.indexes
            ]
        return kwargs

    def keys_conflict(self, description: dict[str, Any]) -> bool:
        """Whether an existing table's keys, or an existing index of one of our names, have
        other keys than expected: nothing may then be changed automatically."""
        if _keys_of(description.get("KeySchema", [])) != (self.hash_key, self.range_key):
            return True
        actual = {i["IndexName"]: i for i in description.get("GlobalSecondaryIndexes", [])}
        return any(
            index.name in actual
            and _keys_of(actual[index.name]["KeySchema"]) != (index.hash_key, index.range_key)
            for index in self.indexes
        )

    def differences(self, description: dict[str, Any]) -> tuple[list[str], list[str]]:
        """Compare with a DescribeTable answer: (mismatches that break the code, harmless notes)."""
        problems: list[str] = []
        notes: list[str] = []
        types = {
            a["AttributeName"]: a["AttributeType"]
            for a in description.get("AttributeDefinitions", [])
        }
        actual_keys = _keys_of(description.get("KeySchema", []))
        expected_keys = (self.hash_key, self.range_key)
        if actual_keys != expected_keys:
            problems.append(f"table keys are {_show(actual_keys)}, expected {_show(expected_keys)}")
        actual_indexes = {i["IndexName"]: i for i in description.get("GlobalSecondaryIndexes", [])}
        for index in self.indexes:
            found = actual_indexes.get(index.name)
            if found is None:
                problems.append(f"index {index.name} is missing")
                continue
            keys = _keys_of(found["KeySchema"])
            if keys != (index.hash_key, index.range_key):
                problems.append(
                    f"index {index.name} has keys {_show(keys)}, expected "
                    f"{_show((index.hash_key, index.range_key))}"
                )
            projection = found.get("Projection", {}).get("ProjectionType")
            if projection != index.projection:
                problems.append(
                    f"index {index.name} projects {projection}, expected {index.projection}"
                )
            elif set(found.get("Projection", {}).get("NonKeyAttributes", [])) != set(index.include):
                problems.append(f"index {index.name} projects other attributes than expected")
        for name in self.attribute_names():
            if name in types and types[name] != "S":
                problems.append(f"attribute {name} has type {types[name]}, expected S")
        expected_names = {index.name for index in self.indexes}
        for extra in sorted(set(actual_indexes) - expected_names):
            if extra in self.retired_indexes:
                notes.append(
                    f"index {extra} is retired (replaced by a leaner one): run init_dynamodb "
                    "without --keep-retired-indexes to delete it"
                )
            else:
                notes.append(f"index {extra} is not used by this code")
        return problems, notes


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _keys_of(schema: list[dict[str, str]]) -> tuple[str | None, str | None]:
    hash_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "HASH"), None)
    range_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
    return hash_key, range_key


def _show(keys: tuple[str | None, str | None]) -> str:
    return " + ".join(k for k in keys if k) or "(none)"


PAYMENTS_TABLE = TableSpec(
    hash_key="userId",
    range_key="paymentId",
    indexes=(
        IndexSpec(STATUS_INDEX, "userId", "statusCreatedAt", "INCLUDE", LIST_ATTRIBUTES),
        IndexSpec(CURRENCY_INDEX, "userId", "currencyCreatedAt", "INCLUDE", LIST_ATTRIBUTES),
        IndexSpec(
            CURRENCY_STATUS_INDEX, "userId", "currencyStatusCreatedAt", "INCLUDE", LIST_ATTRIBUTES
        ),
        IndexSpec(PAYMENT_LINK_INDEX, "paymentLinkId", None, projection="KEYS_ONLY"),
        IndexSpec(TRUELAYER_PAYMENT_INDEX, "truelayerPaymentId", None, projection="KEYS_ONLY"),
        # Sparse and keys-only: the open payments reconciliation must look at (`reconcile`).
        IndexSpec(OPEN_INDEX, "openShard", "checkAt", projection="KEYS_ONLY"),
    ),
    retired_indexes=RETIRED_PAYMENT_INDEXES,
)

META_TABLE = TableSpec(hash_key="pk", range_key="sk", indexes=(), ttl_attribute="expiresAt")
