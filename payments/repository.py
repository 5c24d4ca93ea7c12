"""The payments repository: the only code that talks to DynamoDB (and the only importer of boto3).

Every read is scoped to one merchant's partition (`userId` = their Auth0 `sub`) and bounded as
DESIGN.md's access-pattern table asks, whatever the size of the history:

- list / filter by status, currency and date: one Query per stream (one per status asked for),
  each reading at most page size + 1 items, keyed on an index whose sort key carries the date;
- one payment: one GetItem; link id / TrueLayer id: one indexed Query;
- statistics: hourly and daily aggregate items in the meta table, written in the same
  transaction as the payment, so a range costs its number of days (plus the hours at its edges);
- reference / amount search: reads at most a budget of items, then answers with a cursor.

Writes never overwrite (conditional puts), and a status only moves forward: the update carries a
condition on the current status, so a late or repeated event changes nothing even when two
deliveries race. Errors reach callers as `payments.errors` exceptions, never raw botocore ones.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectTimeoutError as BotoConnectTimeout,
)
from botocore.exceptions import (
    ReadTimeoutError as BotoReadTimeout,
)
from ulid import ULID

from payments.cursors import decode_cursor, encode_cursor, query_fingerprint
from payments.domain import (
    CURRENCY_DECIMALS,
    LinkError,
    Payment,
    PaymentStatus,
    PaymentValidationError,
    StatusChange,
    can_transition,
    format_timestamp,
    parse_amount,
    parse_currency,
    parse_reference,
    parse_timestamp,
    statuses_before,
    utc_now,
)
from payments.dynamodb_schema import META_TABLE, PAYMENTS_TABLE, TableSpec
from payments.errors import (
    Conflict,
    CredentialsRefused,
    DatabaseUnavailable,
    DuplicateSubmission,
    InvalidCursor,
    RepositoryError,
    TableMissing,
    Throttled,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100
EVENT_RETENTION = timedelta(days=7)  # TrueLayer retries for 72 hours; keep ids well past that
_UPDATE_ATTEMPTS = 8
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
_ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$", re.IGNORECASE)
_ID_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-:.]{6,128}$")
_AMOUNT_RE = re.compile(r"^[£€]?\s*(\d+(?:\.\d{1,2})?)\s*(?:GBP|EUR)?$", re.IGNORECASE)


# --- results ---------------------------------------------------------------------------------


@dataclass
class RequestMetrics:
    """DynamoDB work done: the benchmark and the tests read these to prove the cost bounds."""

    requests: int = 0
    items_read: int = 0

    def add(self, requests: int = 0, items_read: int = 0) -> None:
        self.requests += requests
        self.items_read += items_read


@dataclass(frozen=True)
class PaymentPage:
    items: list[Payment]
    next_cursor: str | None
    requests: int
    items_read: int


@dataclass(frozen=True)
class SearchResult:
    items: list[Payment]
    next_cursor: str | None
    # True when the search stopped at its read budget with history left to search.
    budget_exhausted: bool
    items_read: int
    requests: int


@dataclass(frozen=True)
class StatusUpdate:
    applied: bool  # the status moved
    duplicate: bool  # this event id was already applied: nothing changed
    payment: Payment | None  # the payment as it is now (None if it does not exist)


@dataclass(frozen=True)
class Totals:
    count: int = 0
    amount: Decimal = Decimal(0)

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.count + other.count, self.amount + other.amount)


@dataclass(frozen=True)
class PaymentStats:
    """Count and amount of the payments created in a range, by (current status, currency)."""

    start: datetime
    end: datetime
    totals: dict[tuple[PaymentStatus, str], Totals] = field(default_factory=dict)
    requests: int = 0
    items_read: int = 0

    def by_status(self) -> dict[PaymentStatus, dict[str, Totals]]:
        out: dict[PaymentStatus, dict[str, Totals]] = {}
        for (status, currency), totals in self.totals.items():
            out.setdefault(status, {})[currency] = totals
        return out

    def by_currency(self) -> dict[str, Totals]:
        out: dict[str, Totals] = {}
        for (_status, currency), totals in self.totals.items():
            out[currency] = out.get(currency, Totals()) + totals
        return out

    @property
    def count(self) -> int:
        return sum(t.count for t in self.totals.values())


@dataclass(frozen=True)
class DailyTotals:
    day: date
    totals: dict[tuple[PaymentStatus, str], Totals]


@dataclass(frozen=True)
class TableReport:
    table: str
    created: bool
    problems: list[str]
    notes: list[str]


# --- the repository ---------------------------------------------------------------------------


class PaymentRepository:
    """Payments for one merchant at a time. Build with `PaymentRepository.from_settings()`."""

    def __init__(self, client: DynamoDBClient, *, table: str, meta_table: str) -> None:
        self._client = client
        self.table = table
        self.meta_table = meta_table
        self.metrics = RequestMetrics()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, **overrides: Any) -> PaymentRepository:
        from django.conf import settings

        endpoint = overrides.get("endpoint_url", settings.DYNAMODB_ENDPOINT_URL)
        region = overrides.get("region", settings.AWS_REGION)
        table = overrides.get("table", settings.DYNAMODB_TABLE)
        meta_table = overrides.get("meta_table", settings.DYNAMODB_META_TABLE)
        timeout = settings.DYNAMODB_TIMEOUT_SECONDS
        return cls(
            make_client(endpoint_url=endpoint, region=region, timeout=timeout),
            table=table,
            meta_table=meta_table,
        )

    @property
    def endpoint(self) -> str:
        return str(self._client.meta.endpoint_url)

    @property
    def region(self) -> str:
        return str(self._client.meta.region_name)

    # --- tables (init_dynamodb) ---------------------------------------------------------------

    def ensure_tables(self, *, wait_seconds: float = 300) -> list[TableReport]:
        """Create missing tables and indexes (on-demand), wait until all are ACTIVE, and report
        how existing ones differ from what this code expects."""
        return [
            self._ensure_table(self.table, PAYMENTS_TABLE, wait_seconds),
            self._ensure_table(self.meta_table, META_TABLE, wait_seconds),
        ]

    def _ensure_table(self, name: str, spec: TableSpec, wait_seconds: float) -> TableReport:
        description = self._describe(name)
        created = False
        if description is None:
            with _translate_errors():
                self._client.create_table(**spec.create_table_kwargs(name))
            created = True
            description = self._wait_active(name, wait_seconds)
            if spec.ttl_attribute:
                self._enable_ttl(name, spec.ttl_attribute)
            if spec.point_in_time_recovery:
                self._enable_point_in_time_recovery(name)
            return TableReport(name, created, [], [])
        description = self._wait_active(name, wait_seconds)
        problems, notes = spec.differences(description)
        return TableReport(name, created, problems, notes)

    def _describe(self, name: str) -> dict[str, Any] | None:
        try:
            with _translate_errors():
                return dict(self._client.describe_table(TableName=name)["Table"])
        except TableMissing:
            return None

    def _wait_active(self, name: str, wait_seconds: float) -> dict[str, Any]:
        deadline = time.monotonic() + wait_seconds
        while True:
            description = self._describe(name)
            if description is None:
                raise TableMissing(
                    f"Table {name} disappeared while waiting for it to become ACTIVE."
                )
            indexes = description.get("GlobalSecondaryIndexes", [])
            if description.get("TableStatus") == "ACTIVE" and all(
                i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes
            ):
                return description
            if time.monotonic() > deadline:
                raise RepositoryError(f"Table {name} was not ACTIVE after {wait_seconds:.0f} s.")
            time.sleep(1)

    def _enable_ttl(self, name: str, attribute: str) -> None:
        try:
            self._client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
            )
        except ClientError as error:  # some local engines do not implement TTL
            logger.info("TTL not enabled on %s: %s", name, error)

    def _enable_point_in_time_recovery(self, name: str) -> None:
        try:
            self._client.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        except ClientError as error:  # DynamoDB Local has no backups
            logger.info("Point-in-time recovery not enabled on %s: %s", name, error)

    # --- writes -------------------------------------------------------------------------------

    def create_payment(
        self,
        *,
        user_id: str,
        amount: Decimal | str,
        currency: str,
        reference: str,
        payer_name: str = "",
        payer_email: str = "",
        expires_at: datetime | None = None,
        submission_token: str | None = None,
        now: datetime | None = None,
    ) -> Payment:
        """Store a new `pending` payment (never overwriting one) and count it in the statistics,
        in one transaction. With `submission_token`, a second submission of the same form raises
        `DuplicateSubmission` naming the payment the first one created."""
        _require_user(user_id)
        currency = parse_currency(currency)
        amount = parse_amount(amount, currency)
        reference = parse_reference(reference)
        moment = now or utc_now()
        moment = moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
        payment_id = str(ULID.from_datetime(moment))
        created_at = format_timestamp(moment)
        status = PaymentStatus.PENDING
        history = [StatusChange(status=status, at=moment, source="created")]
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
            "history": [_history_entry(h) for h in history],
            "providerResponses": {},
            **_index_keys(status, currency, created_at),
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
                    "TableName": self.table,
                    "Item": _serialize(item),
                    "ConditionExpression": "attribute_not_exists(paymentId)",
                }
            },
            *self._stats_actions(user_id, created_at, currency, amount, add=status),
        ]
        if submission_token:
            actions.append(
                {
                    "Put": {
                        "TableName": self.meta_table,
                        "Item": _serialize(
                            {
                                "pk": f"SUBMIT#{user_id}",
                                "sk": submission_token,
                                "paymentId": payment_id,
                                "expiresAt": int((moment + timedelta(days=1)).timestamp()),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        reasons = self._transact(actions)
        if reasons is not None:
            if submission_token and _failed(reasons, len(actions) - 1):
                existing = self._get_meta(f"SUBMIT#{user_id}", submission_token)
                if existing is not None:
                    raise DuplicateSubmission(str(existing["paymentId"]))
            raise Conflict("A payment with this id already exists; nothing was written.")
        return _to_payment(item)

    def update_status(
        self,
        *,
        user_id: str,
        payment_id: str,
        status: PaymentStatus,
        source: str,
        at: datetime | None = None,
        detail: str = "",
        failure_stage: str = "",
        failure_reason: str = "",
        event_id: str | None = None,
    ) -> StatusUpdate:
        """Move a payment's status forward, add a history entry, and move its amount between
        the statistics buckets, atomically. A move that is not forward changes nothing
        (`applied=False`). With `event_id`, the event is recorded in the same transaction and a
        repeat of it is reported as `duplicate=True`."""
        if event_id and self.event_seen(event_id):
            return StatusUpdate(
                False, True, self.get_payment(user_id=user_id, payment_id=payment_id)
            )
        moment = at or utc_now()
        for attempt in range(_UPDATE_ATTEMPTS):
            current = self.get_payment(user_id=user_id, payment_id=payment_id)
            if current is None:
                return StatusUpdate(False, False, None)
            if not can_transition(current.status, status):
                if event_id:
                    self.mark_event(event_id)
                return StatusUpdate(False, False, current)
            now_text = format_timestamp(utc_now())
            entry = StatusChange(status=status, at=moment, source=source, detail=detail)
            names = {"#status": "status"}
            values: dict[str, Any] = {
                ":new": status.value,
                ":old": current.status.value,
                ":now": now_text,
                ":entry": [_history_entry(entry)],
                **{f":prev{i}": s.value for i, s in enumerate(sorted(statuses_before(status)))},
            }
            created_at = format_timestamp(current.created_at)
            sets = [
                "#status = :new",
                "updatedAt = :now",
                "history = list_append(history, :entry)",
            ]
            for attribute, value in _index_keys(status, current.currency, created_at).items():
                sets.append(f"{attribute} = :{attribute}")
                values[f":{attribute}"] = value
            if failure_stage:
                sets.append("failureStage = :stage")
                values[":stage"] = failure_stage
            if failure_reason:
                sets.append("failureReason = :reason")
                values[":reason"] = failure_reason
            previous = ", ".join(k for k in values if k.startswith(":prev"))
            actions: list[dict[str, Any]] = [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _serialize({"userId": user_id, "paymentId": payment_id}),
                        "UpdateExpression": "SET " + ", ".join(sets),
                        # Forward-only, enforced by DynamoDB: the status must still be the one we
                        # read (so statistics move the right amount) and must precede the new one.
                        "ConditionExpression": f"#status = :old AND #status IN ({previous})",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": _serialize(values),
                    }
                },
                *self._stats_actions(
                    user_id,
                    created_at,
                    current.currency,
                    current.amount,
                    add=status,
                    remove=current.status,
                ),
            ]
            if event_id:
                actions.append(self._event_put(event_id, moment))
            reasons = self._transact(actions)
            if reasons is None:
                return StatusUpdate(
                    True, False, self.get_payment(user_id=user_id, payment_id=payment_id)
                )
            if event_id and _failed(reasons, len(actions) - 1):
                return StatusUpdate(
                    False, True, self.get_payment(user_id=user_id, payment_id=payment_id)
                )
            # Someone else moved the status (or a transaction raced us): read again and retry.
            time.sleep(min(0.02 * (2**attempt), 0.5))
        raise Conflict()

    def set_link(
        self,
        *,
        user_id: str,
        payment_id: str,
        link_id: str,
        link_url: str,
        response: Mapping[str, Any],
    ) -> Payment:
        """Record the TrueLayer payment link created for a payment (clears any earlier error)."""
        return self._update_fields(
            user_id,
            payment_id,
            {"paymentLinkId": link_id, "paymentLinkUrl": link_url},
            remove=["linkError"],
            response=("create_link", response),
        )

    def set_link_error(
        self,
        *,
        user_id: str,
        payment_id: str,
        error: LinkError,
        response: Mapping[str, Any] | None = None,
    ) -> Payment:
        """Record why the payment link could not be created, for the merchant to see and retry."""
        value = {
            "title": error.title,
            "detail": error.detail,
            "traceId": error.trace_id,
            "at": format_timestamp(error.at or utc_now()),
        }
        return self._update_fields(
            user_id,
            payment_id,
            {"linkError": value},
            response=("create_link_error", response) if response is not None else None,
        )

    def set_truelayer_payment_id(
        self,
        *,
        user_id: str,
        payment_id: str,
        truelayer_payment_id: str,
        response: Mapping[str, Any] | None = None,
        response_name: str = "payment",
    ) -> Payment:
        """Link TrueLayer's payment id to our payment (idempotent)."""
        return self._update_fields(
            user_id,
            payment_id,
            {"truelayerPaymentId": truelayer_payment_id},
            response=(response_name, response) if response is not None else None,
        )

    def store_provider_response(
        self, *, user_id: str, payment_id: str, name: str, response: Mapping[str, Any]
    ) -> Payment:
        """Keep a raw TrueLayer answer (shown in the detail page's collapsed section)."""
        return self._update_fields(user_id, payment_id, {}, response=(name, response))

    def _update_fields(
        self,
        user_id: str,
        payment_id: str,
        fields: Mapping[str, Any],
        *,
        remove: Collection[str] = (),
        response: tuple[str, Mapping[str, Any] | None] | None = None,
    ) -> Payment:
        names: dict[str, str] = {}
        values: dict[str, Any] = {":now": format_timestamp(utc_now())}
        sets = ["updatedAt = :now"]
        for i, (attribute, value) in enumerate(fields.items()):
            names[f"#f{i}"] = attribute
            values[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
        if response is not None and response[1] is not None:
            names["#responses"] = "providerResponses"
            names["#name"] = response[0]
            values[":response"] = json.dumps(response[1], sort_keys=True)
            sets.append("#responses.#name = :response")
        expression = "SET " + ", ".join(sets)
        if remove:
            expression += " REMOVE " + ", ".join(remove)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": _serialize({"userId": user_id, "paymentId": payment_id}),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(paymentId)",
            "ExpressionAttributeValues": _serialize(values),
            "ReturnValues": "ALL_NEW",
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            with _translate_errors():
                answer = self._client.update_item(**kwargs)
        except _ConditionFailed:
            raise Conflict("That payment does not exist; nothing was changed.") from None
        self.metrics.add(requests=1)
        return _to_payment(_deserialize(answer["Attributes"]))

    # --- webhook events -----------------------------------------------------------------------

    def event_seen(self, event_id: str) -> bool:
        """Whether a webhook event id was already applied."""
        return self._get_meta(f"EVENT#{event_id}", "-") is not None

    def mark_event(self, event_id: str, at: datetime | None = None) -> bool:
        """Record an event id as applied; False if it already was (a conditional put)."""
        put = self._event_put(event_id, at or utc_now())["Put"]
        try:
            with _translate_errors():
                self._client.put_item(**put)
        except _ConditionFailed:
            return False
        self.metrics.add(requests=1)
        return True

    def _event_put(self, event_id: str, at: datetime) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.meta_table,
                "Item": _serialize(
                    {
                        "pk": f"EVENT#{event_id}",
                        "sk": "-",
                        "receivedAt": format_timestamp(at),
                        "expiresAt": int((utc_now() + EVENT_RETENTION).timestamp()),
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    # --- reads --------------------------------------------------------------------------------

    def get_payment(self, *, user_id: str, payment_id: str) -> Payment | None:
        """One GetItem (strongly consistent). None when missing or owned by someone else."""
        if not user_id or not payment_id or len(payment_id) > 64:
            return None
        with _translate_errors():
            answer = self._client.get_item(
                TableName=self.table,
                Key=_serialize({"userId": user_id, "paymentId": payment_id}),
                ConsistentRead=True,
            )
        item = answer.get("Item")
        self.metrics.add(requests=1, items_read=1 if item else 0)
        return _to_payment(_deserialize(item)) if item else None

    def find_by_link_id(self, link_id: str) -> Payment | None:
        """The payment a TrueLayer payment link belongs to, whoever owns it (webhooks only)."""
        return self._find_one("PaymentLinkIndex", "paymentLinkId", link_id)

    def find_by_truelayer_payment_id(self, truelayer_payment_id: str) -> Payment | None:
        """The payment TrueLayer knows by this id, whoever owns it (webhooks only)."""
        return self._find_one("TruelayerPaymentIndex", "truelayerPaymentId", truelayer_payment_id)

    def _find_one(
        self, index: str, attribute: str, value: str, user_id: str | None = None
    ) -> Payment | None:
        if not value or len(value) > 256:
            return None
        answer = self._query(
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": attribute},
            ExpressionAttributeValues=_serialize({":v": value}),
            Limit=10,
        )
        for raw in answer.get("Items", []):
            item = _deserialize(raw)
            if user_id is None or item["userId"] == user_id:
                return _to_payment(item)
        return None

    def list_payments(
        self,
        *,
        user_id: str,
        statuses: Collection[PaymentStatus] = (),
        currency: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        page_size: int = 25,
        cursor: str | None = None,
    ) -> PaymentPage:
        """Newest first, one page. Filters: any of `statuses`, one `currency`, and a creation
        range [created_from, created_to). One Query per status (or one in all without a status
        filter), each reading at most page_size + 1 items; `next_cursor` continues."""
        _require_user(user_id)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise PaymentValidationError("page_size", f"Page size must be 1 to {MAX_PAGE_SIZE}.")
        if currency is not None:
            currency = parse_currency(currency)
        if created_from and created_to and created_from >= created_to:
            raise PaymentValidationError(
                "created_to", "The end of the date range is before its start."
            )
        wanted = sorted({PaymentStatus(s) for s in statuses})
        lo = format_timestamp(created_from) if created_from else ""
        hi = format_timestamp(created_to - timedelta(milliseconds=1)) if created_to else "~"
        streams = _streams(wanted, currency, lo, hi)
        fingerprint = query_fingerprint(
            {"s": [s.value for s in wanted], "c": currency, "f": lo, "t": hi, "n": page_size}
        )
        positions: dict[str, Any] = dict.fromkeys(streams)
        if cursor:
            positions = decode_cursor(cursor, user_id=user_id, fingerprint=fingerprint)
            if set(positions) != set(streams) or not _positions_belong_to(positions, user_id):
                raise InvalidCursor()
        requests = items_read = 0
        heads: dict[str, list[dict[str, Any]]] = {}
        exhausted: dict[str, bool] = {}
        for name, stream in streams.items():
            if positions[name] == "done":
                continue
            kwargs = stream.query_kwargs(user_id, page_size + 1)
            if positions[name]:
                kwargs["ExclusiveStartKey"] = _serialize(positions[name])
            answer = self._query(**kwargs)
            requests += 1
            items_read += int(answer.get("ScannedCount", len(answer.get("Items", []))))
            heads[name] = [_deserialize(raw) for raw in answer.get("Items", [])]
            exhausted[name] = "LastEvaluatedKey" not in answer
        page: list[dict[str, Any]] = []
        consumed: dict[str, int] = dict.fromkeys(heads, 0)
        while len(page) < page_size:
            best: str | None = None
            for name, items in heads.items():
                if consumed[name] < len(items) and (
                    best is None
                    or _order_key(items[consumed[name]]) > _order_key(heads[best][consumed[best]])
                ):
                    best = name
            if best is None:
                break
            page.append(heads[best][consumed[best]])
            consumed[best] += 1
        next_positions = dict(positions)
        more = False
        for name, items in heads.items():
            if consumed[name] == len(items) and exhausted[name]:
                next_positions[name] = "done"
                continue
            more = True
            if consumed[name]:
                next_positions[name] = streams[name].key_of(items[consumed[name] - 1])
        next_cursor = (
            encode_cursor(user_id=user_id, fingerprint=fingerprint, position=next_positions)
            if more
            else None
        )
        return PaymentPage([_to_payment(i) for i in page], next_cursor, requests, items_read)

    def iter_payments(
        self,
        *,
        user_id: str,
        statuses: Collection[PaymentStatus] = (),
        currency: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[Payment]:
        """Every payment matching the filters, newest first, page by page (for CSV export)."""
        cursor: str | None = None
        while True:
            page = self.list_payments(
                user_id=user_id,
                statuses=statuses,
                currency=currency,
                created_from=created_from,
                created_to=created_to,
                page_size=page_size,
                cursor=cursor,
            )
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def search_payments(
        self,
        *,
        user_id: str,
        query: str,
        cursor: str | None = None,
        budget: int = 1000,
        page_size: int = 25,
    ) -> SearchResult:
        """Find payments by our id, TrueLayer payment or link id (exact, indexed), or by
        reference text (case-insensitive, contains) or exact amount. The text/amount part reads
        at most `budget` items, newest first, and returns a cursor to search further back."""
        _require_user(user_id)
        text = (query or "").strip()
        if not text:
            raise PaymentValidationError(
                "q", "Type a reference, an amount or a payment id to search."
            )
        if len(text) > 128:
            raise PaymentValidationError("q", "Search text is limited to 128 characters.")
        amount = _parse_search_amount(text)
        fingerprint = query_fingerprint({"search": text.lower(), "n": page_size, "b": budget})
        requests = items_read = 0
        start_key: dict[str, Any] | None = None
        if cursor:
            position = decode_cursor(cursor, user_id=user_id, fingerprint=fingerprint)
            start_key = position.get("k")
            if not isinstance(start_key, dict) or start_key.get("userId") != user_id:
                raise InvalidCursor()
        else:
            before = self.metrics.requests
            exact = self._exact_match(user_id, text)
            if exact is not None:
                # An id names one payment: no need to read any history for it.
                requests = self.metrics.requests - before
                return SearchResult([exact], None, False, items_read=1, requests=requests)
        names = {"#ref": "referenceLower"}
        values: dict[str, Any] = {":q": text.lower()}
        condition = "contains(#ref, :q)"
        if amount is not None:
            names["#amount"] = "amount"
            values[":amount"] = amount
            condition += " OR #amount = :amount"
        matches: list[dict[str, Any]] = []
        last_read: dict[str, Any] | None = None
        stopped_at: dict[str, Any] | None = None
        remaining = budget
        while remaining > 0 and stopped_at is None:
            kwargs: dict[str, Any] = {
                "KeyConditionExpression": "userId = :u",
                "FilterExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": _serialize({**values, ":u": user_id}),
                "ScanIndexForward": False,
                "Limit": remaining,
            }
            if start_key:
                kwargs["ExclusiveStartKey"] = _serialize(start_key)
            answer = self._query(**kwargs)
            requests += 1
            scanned = int(answer.get("ScannedCount", 0))
            items_read += scanned
            remaining -= scanned
            for raw in answer.get("Items", []):
                item = _deserialize(raw)
                matches.append(item)
                if len(matches) == page_size:
                    # Full page: continue right after this item next time.
                    stopped_at = {"userId": user_id, "paymentId": item["paymentId"]}
                    break
            last_evaluated = answer.get("LastEvaluatedKey")
            if last_evaluated is None:
                last_read = None
                break
            last_read = _deserialize(last_evaluated)
            start_key = last_read
        resume = stopped_at or last_read
        next_cursor = (
            encode_cursor(user_id=user_id, fingerprint=fingerprint, position={"k": resume})
            if resume
            else None
        )
        return SearchResult(
            items=[_to_payment(m) for m in matches],
            next_cursor=next_cursor,
            budget_exhausted=resume is not None and stopped_at is None,
            items_read=items_read,
            requests=requests,
        )

    def _exact_match(self, user_id: str, text: str) -> Payment | None:
        """The payment named by our id (one GetItem) or by a TrueLayer link or payment id (one
        indexed Query each), tried in that order, only for text shaped like such an id."""
        if _ULID_RE.match(text):
            payment = self.get_payment(user_id=user_id, payment_id=text.upper())
            if payment:
                return payment
        if _ID_TOKEN_RE.match(text) and not _AMOUNT_RE.match(text):
            for index, attribute in (
                ("PaymentLinkIndex", "paymentLinkId"),
                ("TruelayerPaymentIndex", "truelayerPaymentId"),
            ):
                payment = self._find_one(index, attribute, text, user_id=user_id)
                if payment:
                    return payment
        return None

    # --- statistics ---------------------------------------------------------------------------

    def payment_stats(self, *, user_id: str, start: datetime, end: datetime) -> PaymentStats:
        """Totals of the payments created in [start, end) (resolved to the hour), by current
        status and currency. Reads one aggregate item per whole UTC day in the range and one per
        hour at its ragged edges: the cost follows the length of the range, not the history."""
        _require_user(user_id)
        start_h, end_h = _floor_hour(start), _floor_hour(end)
        if start_h >= end_h:
            raise PaymentValidationError(
                "end", "The end of the date range must be after its start."
            )
        first_day = _ceil_day(start_h)
        last_day = _floor_day(end_h)
        buckets: list[dict[str, Any]] = []
        before = RequestMetrics(self.metrics.requests, self.metrics.items_read)
        if first_day < last_day:
            buckets += self._buckets(
                "D", user_id, _day_key(first_day), _day_key(last_day - timedelta(days=1))
            )
            if start_h < first_day:
                buckets += self._buckets(
                    "H", user_id, _hour_key(start_h), _hour_key(first_day - timedelta(hours=1))
                )
            if last_day < end_h:
                buckets += self._buckets(
                    "H", user_id, _hour_key(last_day), _hour_key(end_h - timedelta(hours=1))
                )
        else:
            buckets += self._buckets(
                "H", user_id, _hour_key(start_h), _hour_key(end_h - timedelta(hours=1))
            )
        totals: dict[tuple[PaymentStatus, str], Totals] = {}
        for bucket in buckets:
            for key, value in _bucket_totals(bucket).items():
                totals[key] = totals.get(key, Totals()) + value
        return PaymentStats(
            start=start_h,
            end=end_h,
            totals={k: v for k, v in totals.items() if v.count},
            requests=self.metrics.requests - before.requests,
            items_read=self.metrics.items_read - before.items_read,
        )

    def daily_stats(
        self, *, user_id: str, start: datetime, end: datetime, tz: tzinfo
    ) -> list[DailyTotals]:
        """Per local day in `tz` (for charts): from hourly aggregates when the range is up to 93
        days, else from UTC-day aggregates. Days with nothing are included with empty totals."""
        _require_user(user_id)
        start_h, end_h = _floor_hour(start), _floor_hour(end)
        if start_h >= end_h:
            raise PaymentValidationError(
                "end", "The end of the date range must be after its start."
            )
        days: dict[date, dict[tuple[PaymentStatus, str], Totals]] = {}
        day = start_h.astimezone(tz).date()
        last = (end_h - timedelta(hours=1)).astimezone(tz).date()
        while day <= last:
            days[day] = {}
            day += timedelta(days=1)
        if end_h - start_h <= timedelta(days=93):
            buckets = self._buckets(
                "H", user_id, _hour_key(start_h), _hour_key(end_h - timedelta(hours=1))
            )
            for bucket in buckets:
                moment = datetime.strptime(bucket["sk"], "%Y-%m-%dT%H").replace(tzinfo=UTC)
                _merge_into(
                    days.setdefault(moment.astimezone(tz).date(), {}), _bucket_totals(bucket)
                )
        else:
            buckets = self._buckets(
                "D",
                user_id,
                _day_key(_floor_day(start_h)),
                _day_key(_floor_day(end_h - timedelta(hours=1))),
            )
            for bucket in buckets:
                _merge_into(
                    days.setdefault(date.fromisoformat(bucket["sk"]), {}), _bucket_totals(bucket)
                )
        return [DailyTotals(d, totals) for d, totals in sorted(days.items())]

    def _buckets(self, grain: str, user_id: str, first: str, last: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.meta_table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": _serialize(
                {":pk": f"STATS#{grain}#{user_id}", ":a": first, ":b": last}
            ),
        }
        while True:
            answer = self._query(**kwargs)
            items.extend(_deserialize(raw) for raw in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return items
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _stats_actions(
        self,
        user_id: str,
        created_at: str,
        currency: str,
        amount: Decimal,
        *,
        add: PaymentStatus,
        remove: PaymentStatus | None = None,
    ) -> list[dict[str, Any]]:
        names = {"#ca": f"c#{add.value}#{currency}", "#aa": f"a#{add.value}#{currency}"}
        values: dict[str, Any] = {":one": 1, ":amount": amount}
        expression = "ADD #ca :one, #aa :amount"
        if remove is not None:
            names |= {"#cr": f"c#{remove.value}#{currency}", "#ar": f"a#{remove.value}#{currency}"}
            values |= {":minus_one": -1, ":minus_amount": -amount}
            expression += ", #cr :minus_one, #ar :minus_amount"
        return [
            {
                "Update": {
                    "TableName": self.meta_table,
                    "Key": _serialize({"pk": f"STATS#{grain}#{user_id}", "sk": key}),
                    "UpdateExpression": expression,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": _serialize(values),
                }
            }
            for grain, key in (("H", created_at[:13]), ("D", created_at[:10]))
        ]

    # --- plumbing -----------------------------------------------------------------------------

    def _get_meta(self, pk: str, sk: str) -> dict[str, Any] | None:
        with _translate_errors():
            answer = self._client.get_item(
                TableName=self.meta_table, Key=_serialize({"pk": pk, "sk": sk}), ConsistentRead=True
            )
        self.metrics.add(requests=1, items_read=1 if "Item" in answer else 0)
        return _deserialize(answer["Item"]) if "Item" in answer else None

    def _query(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("TableName", self.table)
        with _translate_errors():
            answer: dict[str, Any] = dict(self._client.query(**kwargs))
        self.metrics.add(requests=1, items_read=int(answer.get("ScannedCount", 0)))
        return answer

    def _transact(self, actions: list[dict[str, Any]]) -> list[str] | None:
        """Run a write transaction. None on success; on a failed condition, the cancellation
        reason codes (one per action). Transaction conflicts are retried with backoff."""
        for attempt in range(_UPDATE_ATTEMPTS):
            try:
                with _translate_errors():
                    self._client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
                self.metrics.add(requests=1)
                return None
            except _TransactionCanceled as cancelled:
                self.metrics.add(requests=1)
                if "ConditionalCheckFailed" in cancelled.reasons:
                    return cancelled.reasons
                time.sleep(min(0.02 * (2**attempt), 0.5))
        raise Conflict()


# --- query streams ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stream:
    """One Query that yields payments newest first: on the base table or on an index."""

    index: str | None
    sort_attribute: str | None
    prefix: str
    lo: str
    hi: str

    def query_kwargs(self, user_id: str, limit: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"ScanIndexForward": False, "Limit": limit}
        values: dict[str, Any] = {":u": user_id}
        condition = "userId = :u"
        if self.index:
            kwargs["IndexName"] = self.index
            condition += " AND #sk BETWEEN :lo AND :hi"
            kwargs["ExpressionAttributeNames"] = {"#sk": self.sort_attribute}
            values |= {":lo": self.prefix + self.lo, ":hi": self.prefix + self.hi}
        kwargs["KeyConditionExpression"] = condition
        kwargs["ExpressionAttributeValues"] = _serialize(values)
        return kwargs

    def key_of(self, item: Mapping[str, Any]) -> dict[str, str]:
        key = {"userId": item["userId"], "paymentId": item["paymentId"]}
        if self.sort_attribute:
            key[self.sort_attribute] = item[self.sort_attribute]
        return key


def _streams(
    statuses: list[PaymentStatus], currency: str | None, lo: str, hi: str
) -> dict[str, _Stream]:
    if not statuses:
        if currency:
            return {"all": _Stream("CurrencyIndex", "currencyCreatedAt", f"{currency}#", lo, hi)}
        if lo or hi != "~":
            return {"all": _Stream("CreatedAtIndex", "createdAt", "", lo, hi)}
        return {"all": _Stream(None, None, "", lo, hi)}
    if currency:
        return {
            s.value: _Stream(
                "CurrencyStatusIndex", "currencyStatusCreatedAt", f"{currency}#{s.value}#", lo, hi
            )
            for s in statuses
        }
    return {
        s.value: _Stream("StatusIndex", "statusCreatedAt", f"{s.value}#", lo, hi) for s in statuses
    }


def _index_keys(status: PaymentStatus, currency: str, created_at: str) -> dict[str, str]:
    return {
        "statusCreatedAt": f"{status.value}#{created_at}",
        "currencyCreatedAt": f"{currency}#{created_at}",
        "currencyStatusCreatedAt": f"{currency}#{status.value}#{created_at}",
    }


def _order_key(item: Mapping[str, Any]) -> tuple[str, str]:
    return str(item["createdAt"]), str(item["paymentId"])


def _positions_belong_to(positions: Mapping[str, Any], user_id: str) -> bool:
    return all(
        p is None or p == "done" or (isinstance(p, dict) and p.get("userId") == user_id)
        for p in positions.values()
    )


# --- conversions ------------------------------------------------------------------------------


def _serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _SERIALIZER.serialize(value) for key, value in values.items()}


def _deserialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _DESERIALIZER.deserialize(value) for key, value in values.items()}


def _history_entry(change: StatusChange) -> dict[str, str]:
    return {
        "status": change.status.value,
        "at": format_timestamp(change.at),
        "source": change.source,
        "detail": change.detail,
    }


def _to_payment(item: Mapping[str, Any]) -> Payment:
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
            )
            for h in item.get("history", [])
        ),
    )


def _bucket_totals(bucket: Mapping[str, Any]) -> dict[tuple[PaymentStatus, str], Totals]:
    out: dict[tuple[PaymentStatus, str], Totals] = {}
    for name, value in bucket.items():
        if not name.startswith("c#"):
            continue
        _, status, currency = name.split("#", 2)
        try:
            key = (PaymentStatus(status), currency)
        except ValueError:
            continue
        out[key] = Totals(int(value), Decimal(bucket.get(f"a#{status}#{currency}", 0)))
    return out


def _merge_into(
    target: dict[tuple[PaymentStatus, str], Totals],
    more: Mapping[tuple[PaymentStatus, str], Totals],
) -> None:
    for key, value in more.items():
        if value.count:
            target[key] = target.get(key, Totals()) + value


def _parse_search_amount(text: str) -> Decimal | None:
    match = _AMOUNT_RE.match(text.replace(",", ""))
    if not match:
        return None
    try:
        return Decimal(match.group(1))
    except InvalidOperation:
        return None


def _floor_hour(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise PaymentValidationError("start", "Date ranges need a time zone.")
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _floor_day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _ceil_day(moment: datetime) -> datetime:
    floor = _floor_day(moment)
    return floor if floor == moment else floor + timedelta(days=1)


def _hour_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _day_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def _require_user(user_id: str) -> None:
    if not user_id or not isinstance(user_id, str):
        raise PaymentValidationError("user_id", "A signed-in merchant is required.")


def _failed(reasons: list[str], index: int) -> bool:
    return index < len(reasons) and reasons[index] == "ConditionalCheckFailed"


# --- errors -----------------------------------------------------------------------------------


class _ConditionFailed(Exception):
    pass


class _TransactionCanceled(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
}
_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "AccessDeniedException",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
}


@contextmanager
def _translate_errors() -> Iterator[None]:
    """Map botocore failures to the repository's own exceptions."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ConditionalCheckFailedException":
            raise _ConditionFailed() from error
        if code == "TransactionCanceledException":
            raw: list[dict[str, Any]] = error.response.get("CancellationReasons", [])  # type: ignore[assignment]
            reasons = [r.get("Code") or "None" for r in raw] or _reasons_from_message(message)
            raise _TransactionCanceled(reasons) from error
        if code == "TransactionConflictException":
            raise _TransactionCanceled(["TransactionConflict"]) from error
        if code == "ResourceNotFoundException":
            raise TableMissing() from error
        if code in _THROTTLED:
            raise Throttled() from error
        if code in _CREDENTIALS:
            raise CredentialsRefused() from error
        logger.error("DynamoDB answered %s: %s", code, message)
        raise RepositoryError(
            f"The payments database refused the request ({code}): {message}"
        ) from error
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise CredentialsRefused(
            "No AWS credentials were found for the payments database."
        ) from error
    except (
        EndpointConnectionError,
        BotoConnectTimeout,
        BotoReadTimeout,
        ConnectionClosedError,
    ) as error:
        raise DatabaseUnavailable() from error
    except BotoCoreError as error:
        raise DatabaseUnavailable(f"The payments database cannot be reached: {error}") from error


def _reasons_from_message(message: str) -> list[str]:
    # "Transaction cancelled, please refer cancellation reasons for specific reasons
    #  [None, ConditionalCheckFailed]" — engines that omit CancellationReasons say it here.
    match = re.search(r"\[([^\]]*)\]", message)
    if not match:
        return ["Unknown"]
    return [part.strip() for part in match.group(1).split(",")]


# --- construction -----------------------------------------------------------------------------


def make_client(*, endpoint_url: str | None, region: str, timeout: int = 5) -> DynamoDBClient:
    """A DynamoDB client with short timeouts and standard retries (throttling, 5xx)."""
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    session = boto3.session.Session()
    kwargs: dict[str, Any] = {"region_name": region, "config": config}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
        # DynamoDB Local accepts any credentials; don't make a newcomer configure AWS.
        if session.get_credentials() is None:
            kwargs |= {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    client: DynamoDBClient = session.client("dynamodb", **kwargs)
    return client


@lru_cache(maxsize=4)
def _cached_repository(
    endpoint: str | None, region: str, table: str, meta_table: str
) -> PaymentRepository:
    return PaymentRepository.from_settings(
        endpoint_url=endpoint, region=region, table=table, meta_table=meta_table
    )


def get_repository() -> PaymentRepository:
    """The process-wide repository for the current settings (boto3 clients are thread-safe)."""
    from django.conf import settings

    return _cached_repository(
        settings.DYNAMODB_ENDPOINT_URL,
        settings.AWS_REGION,
        settings.DYNAMODB_TABLE,
        settings.DYNAMODB_META_TABLE,
    )


__all__ = [
    "DailyTotals",
    "PaymentPage",
    "PaymentRepository",
    "PaymentStats",
    "RequestMetrics",
    "SearchResult",
    "StatusUpdate",
    "TableReport",
    "Totals",
    "get_repository",
    "make_client",
]
