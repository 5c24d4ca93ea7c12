"""Payment writes and single reads: create, get, status update, link fields and the provider's
raw responses. (Lookups by TrueLayer link or payment id are in `lookups`.)

Writes never overwrite (conditional puts). A status moves only along the domain's transition
table, and DynamoDB enforces it: the update carries a condition on the current status, so a late
or repeated event changes nothing even when two deliveries race. Creation and every status change
are one transaction with the statistics aggregates (`stats.stats_move_actions`) and, when given,
the webhook event id or form token (`events`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ulid import ULID

from payments.domain import (
    LinkError,
    Payment,
    PaymentStatus,
    StatusChange,
    format_timestamp,
    parse_amount,
    parse_currency,
    parse_reference,
    require_user,
    utc_now,
)
from payments.dynamo.client import (
    ConditionFailed,
    Dynamo,
    Metrics,
    TokenReused,
    TransactionCanceled,
    get_item,
    request_token,
    retry_on_conflict,
    transact,
    update_item,
)
from payments.dynamo.events import (
    submission_payment_id,
    submission_put_action,
)
from payments.dynamo.expressions import Expr, set_clause
from payments.dynamo.items import (
    deserialize,
    history_entry,
    index_keys,
    item_to_payment,
    link_error_item,
    payment_key,
    serialize,
)
from payments.dynamo.lifecycle import open_check_at, open_shard
from payments.dynamo.lifecycle_items import lifecycle_to_item
from payments.dynamo.owners import LINK, owner_put_action
from payments.dynamo.search_index import search_put_actions
from payments.dynamo.stats import stats_move_actions
from payments.errors import Conflict, DuplicateSubmission
from payments.lifecycle import Lifecycle

_MAX_PAYMENT_ID = 64


def payment_create(
    db: Dynamo,
    *,
    user_id: str,
    amount: Decimal | str,
    currency: str,
    reference: str,
    payer_name: str = "",
    payer_email: str = "",
    expires_at: datetime | None = None,
    submission_token: str | None = None,
    actor: str = "",
    now: datetime | None = None,
    metrics: Metrics | None = None,
) -> Payment:
    """Store a new `pending` payment (never overwriting one), count it in the statistics and
    write its search tokens (`search_index`), in one transaction. With `submission_token`, a
    second submission of the same form raises `DuplicateSubmission` naming the payment the
    first one created.

    The payment id is made before the first attempt, so botocore's retries send the same
    request with the same ClientRequestToken: a retry after a lost answer succeeds without
    writing twice. When no attempt was answered, `DatabaseUnavailable(outcome_unknown=True)`:
    the payment may exist, and the same submission token makes a resubmit safe."""
    require_user(user_id)
    currency = parse_currency(currency)
    amount = parse_amount(amount, currency)
    reference = parse_reference(reference)
    moment = now or utc_now()
    moment = moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
    payment_id = str(ULID.from_datetime(moment))
    created_at = format_timestamp(moment)
    status = PaymentStatus.PENDING
    item: dict[str, Any] = {
        "userId": user_id,
        "paymentId": payment_id,
        "amount": amount,
        "currency": currency,
        "reference": reference,
        "referenceLower": reference.lower(),
        "status": status.value,
        "createdAt": created_at,
        "updatedAt": created_at,
        "history": [
            history_entry(StatusChange(status=status, at=moment, source="created", actor=actor))
        ],
        "providerResponses": {},
        **index_keys(status, currency, created_at),
        **lifecycle_to_item(Lifecycle()),
    }
    if payer_name:
        item["payerName"] = payer_name
    if payer_email:
        item["payerEmail"] = payer_email
    if expires_at:
        item["expiresAt"] = format_timestamp(expires_at)
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": db.table,
                "Item": serialize(item),
                "ConditionExpression": "attribute_not_exists(paymentId)",
            }
        },
        *stats_move_actions(db, user_id, created_at, currency, amount, add=status),
        # Searchable the moment it exists: its search tokens in the same transaction.
        *search_put_actions(db, item),
    ]
    if submission_token:
        actions.append(submission_put_action(db, user_id, submission_token, payment_id, moment))
    token = request_token("create", user_id, payment_id)
    try:
        retry_on_conflict(lambda: transact(db, metrics, actions, token=token))
    except TransactionCanceled as cancelled:
        if submission_token and cancelled.failed(-1):
            existing = submission_payment_id(db, user_id, submission_token, metrics=metrics)
            if existing == payment_id:
                # Our own earlier attempt, answered too late and past the token's 10 minutes.
                return item_to_payment(item)
            if existing is not None:
                raise DuplicateSubmission(existing) from None
        raise Conflict("A payment with this id already exists; nothing was written.") from None
    return item_to_payment(item)


def payment_get(
    db: Dynamo, *, user_id: str, payment_id: str, metrics: Metrics | None = None
) -> Payment | None:
    """One GetItem (strongly consistent). None when missing or owned by someone else."""
    if not user_id or not payment_id or len(payment_id) > _MAX_PAYMENT_ID:
        return None
    raw = get_item(db, metrics, table=db.table, key=payment_key(user_id, payment_id))
    return item_to_payment(deserialize(raw)) if raw else None


def payment_link_set(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    link_id: str,
    link_url: str,
    response: Mapping[str, Any],
    metrics: Metrics | None = None,
) -> Payment:
    """Record the TrueLayer payment link created for a payment (clears any earlier error), in
    one transaction with the link's owner lookup (so its webhooks find the payment at once) and,
    while the payment is open, its place in the reconciliation queue."""
    current = payment_get(db, user_id=user_id, payment_id=payment_id, metrics=metrics)
    if current is None:
        raise Conflict("That payment does not exist; nothing was changed.")
    fields: dict[str, Any] = {"paymentLinkId": link_id, "paymentLinkUrl": link_url}
    if not current.is_final:
        fields["openShard"] = open_shard(payment_id)
        fields["checkAt"] = open_check_at(utc_now(), current.expires_at)
    update, expr = _fields_update(db, user_id, payment_id, fields, ("create_link", response))
    update["UpdateExpression"] += f" REMOVE {expr.name('linkError')}"
    update.update(expr.kwargs())
    owner = owner_put_action(db, LINK, link_id, user_id=user_id, payment_id=payment_id)
    # The update is unconditional on content and the owner put accepts its own repeat, so a
    # retry is harmless; the token also keeps it from moving `updatedAt` twice.
    token = request_token("link", user_id, payment_id, link_id)
    try:
        retry_on_conflict(lambda: transact(db, metrics, [{"Update": update}, owner], token=token))
    except TokenReused:
        # The same link was stored for this payment moments ago (a double-clicked form's other
        # request, or a re-run): that is the outcome we want; read it back below.
        pass
    except TransactionCanceled as cancelled:
        if cancelled.failed(-1):
            raise Conflict("That payment link belongs to another payment.") from None
        raise Conflict("That payment does not exist; nothing was changed.") from None
    stored = payment_get(db, user_id=user_id, payment_id=payment_id, metrics=metrics)
    if stored is None:
        raise Conflict("That payment does not exist; nothing was changed.")
    return stored


def payment_link_error_set(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    error: LinkError,
    response: Mapping[str, Any] | None = None,
    metrics: Metrics | None = None,
) -> Payment:
    """Record why the payment link could not be created, for the merchant to see and retry."""
    fields = {"linkError": link_error_item(error, format_timestamp(error.at or utc_now()))}
    response_of = ("create_link_error", response)
    return _update_fields(db, user_id, payment_id, fields, response_of, metrics)


def payment_response_store(
    db: Dynamo,
    *,
    user_id: str,
    payment_id: str,
    name: str,
    response: Mapping[str, Any],
    metrics: Metrics | None = None,
) -> Payment:
    """Keep a raw TrueLayer answer (shown in the detail page's collapsed section)."""
    return _update_fields(db, user_id, payment_id, {}, (name, response), metrics)


def _fields_update(
    db: Dynamo,
    user_id: str,
    payment_id: str,
    fields: Mapping[str, Any],
    response: tuple[str, Mapping[str, Any] | None],
) -> tuple[dict[str, Any], Expr]:
    """An UpdateItem request (without its expression attributes, still being collected in the
    returned `Expr`) that SETs `fields` and `updatedAt` and keeps `response` = (name, raw answer)
    under providerResponses, on an existing payment."""
    expr = Expr()
    sets = expr.assignments({"updatedAt": format_timestamp(utc_now()), **fields})
    name, raw = response
    if raw is not None:
        stored = expr.value(json.dumps(raw, sort_keys=True))
        sets.append(f"{expr.name('providerResponses')}.{expr.name(name)} = {stored}")
    request = {
        "TableName": db.table,
        "Key": payment_key(user_id, payment_id),
        "UpdateExpression": set_clause(sets),
        "ConditionExpression": f"attribute_exists({expr.name('paymentId')})",
    }
    return request, expr


def _update_fields(
    db: Dynamo,
    user_id: str,
    payment_id: str,
    fields: Mapping[str, Any],
    response: tuple[str, Mapping[str, Any] | None],
    metrics: Metrics | None,
) -> Payment:
    """SET `fields` (and `updatedAt`) and keep `response` on an existing payment."""
    request, expr = _fields_update(db, user_id, payment_id, fields, response)
    try:
        written = update_item(
            db,
            metrics,
            key=request["Key"],
            update=request["UpdateExpression"],
            condition=request["ConditionExpression"],
            attributes=expr.kwargs(),
        )
    except ConditionFailed:
        raise Conflict("That payment does not exist; nothing was changed.") from None
    return item_to_payment(deserialize(written))
