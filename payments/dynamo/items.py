"""Item ⇄ domain codec: DynamoDB attribute values to `Payment` and back, and the derived
index keys a payment item carries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from payments.domain import (
    CURRENCY_DECIMALS,
    LinkError,
    Payment,
    PaymentStatus,
    StatusChange,
    format_timestamp,
    parse_timestamp,
)
from payments.dynamo.answers import python_values
from payments.dynamo.lifecycle_items import item_lifecycle, item_row_facts, item_webhook_log
from payments.lifecycle import Lifecycle, RowFacts

_SERIALIZER = TypeSerializer()


def serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values (Decimal, str, dict, list) to DynamoDB attribute values."""
    return {key: _SERIALIZER.serialize(value) for key, value in values.items()}


def deserialize(values: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values to Python values (numbers become Decimal, never float)."""
    return python_values(values)


def payment_key(user_id: str, payment_id: str) -> dict[str, Any]:
    return serialize({"userId": user_id, "paymentId": payment_id})


def index_keys(status: PaymentStatus, currency: str, created_at: str) -> dict[str, str]:
    """The composite sort keys of StatusIndex, CurrencyIndex and CurrencyStatusIndex."""
    return {
        "statusCreatedAt": f"{status.value}#{created_at}",
        "currencyCreatedAt": f"{currency}#{created_at}",
        "currencyStatusCreatedAt": f"{currency}#{status.value}#{created_at}",
    }


def history_entry(change: StatusChange) -> dict[str, str]:
    entry = {
        "status": change.status.value,
        "at": format_timestamp(change.at),
        "source": change.source,
        "detail": change.detail,
    }
    if change.actor:  # only members' actions have one; others keep their old shape
        entry["actor"] = change.actor
    return entry


def link_error_item(error: LinkError, at: str) -> dict[str, str]:
    return {"title": error.title, "detail": error.detail, "traceId": error.trace_id, "at": at}


def item_to_payment(item: Mapping[str, Any]) -> Payment:
    """A deserialised payment item as the domain's immutable `Payment`."""
    return _payment(item, item_lifecycle(item), None)


def item_to_row(item: Mapping[str, Any]) -> Payment:
    """A payment read as a list row (`LIST_ATTRIBUTES`): no lifecycle, timeline or webhook
    log, its stored row facts instead (None on an item older than them: see `listing`)."""
    return _payment(item, Lifecycle(), item_row_facts(item))


def _payment(item: Mapping[str, Any], lifecycle: Lifecycle, facts: RowFacts | None) -> Payment:
    currency = str(item["currency"])
    decimals = CURRENCY_DECIMALS.get(currency, 2)
    link_error = item.get("linkError")
    responses: dict[str, Any] = {}
    for name, raw in (item.get("providerResponses") or {}).items():
        try:
            responses[name] = json.loads(raw)
        except (TypeError, ValueError):
            responses[name] = raw
    return Payment(
        user_id=str(item["userId"]),
        payment_id=str(item["paymentId"]),
        amount=Decimal(item["amount"]).quantize(Decimal(1).scaleb(-decimals)),
        currency=currency,
        reference=str(item["reference"]),
        status=PaymentStatus(item["status"]),
        created_at=parse_timestamp(item["createdAt"]),
        updated_at=parse_timestamp(item["updatedAt"]),
        payer_name=str(item.get("payerName", "")),
        payer_email=str(item.get("payerEmail", "")),
        expires_at=parse_timestamp(item["expiresAt"]) if item.get("expiresAt") else None,
        payment_link_id=str(item.get("paymentLinkId", "")),
        payment_link_url=str(item.get("paymentLinkUrl", "")),
        truelayer_payment_id=str(item.get("truelayerPaymentId", "")),
        failure_stage=str(item.get("failureStage", "")),
        failure_reason=str(item.get("failureReason", "")),
        link_error=LinkError(
            title=str(link_error.get("title", "")),
            detail=str(link_error.get("detail", "")),
            trace_id=str(link_error.get("traceId", "")),
            at=parse_timestamp(link_error["at"]) if link_error.get("at") else None,
        )
        if link_error
        else None,
        provider_responses=responses,
        history=tuple(
            StatusChange(
                status=PaymentStatus(h["status"]),
                at=parse_timestamp(h["at"]),
                source=str(h.get("source", "")),
                detail=str(h.get("detail", "")),
                actor=str(h.get("actor", "")),
            )
            for h in item.get("history", [])
        ),
        lifecycle=lifecycle,
        webhook_log=item_webhook_log(item),
        version=int(item.get("version", 0)),
        row_facts=facts,
    )
