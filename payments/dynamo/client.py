"""The boto3 client, the one retry policy, botocore→`payments.errors` translation, and the
per-call `Metrics` every function of this package accumulates into.

Retries, in two layers that compose (numbers stated here and nowhere else):

- botocore retries each single request on throttling, 5xx and network errors:
  `BOTO_MAX_ATTEMPTS` attempts ("standard" mode), each bounded by DYNAMODB_TIMEOUT_SECONDS;
- `retry_on_conflict` retries a whole read-check-write cycle when a transaction lost a race
  (TransactionConflict, or the optimistic "status is still what we read" condition failed):
  `CONFLICT_ATTEMPTS` cycles with jittered exponential backoff of at most `CONFLICT_MAX_WAIT`.
So one logical write makes at most CONFLICT_ATTEMPTS × BOTO_MAX_ATTEMPTS HTTP requests, then
raises `Conflict`. (`DYNAMODB_MAX_ATTEMPTS` in settings overrides BOTO_MAX_ATTEMPTS: the
reliability tests lower it to stay fast.)

A botocore retry after a lost answer repeats a write DynamoDB may already have applied, so every
write must recognise its own earlier success:

- transactions carry a `ClientRequestToken` derived from the logical operation
  (`request_token`): DynamoDB answers a repeat of the same token and request, within 10
  minutes, with success without applying it again; the same token with a different request
  raises `TokenReused`, which each caller reads as "this logical write already happened".
  (botocore fills in a random token per call when none is given, which covers its own retries
  of one call; a derived one also covers a re-run of the same write by our code or another
  process.) DynamoDB forgets the token of a cancelled transaction;
- single-item conditional puts carry a `writeId` and, when their condition fails, read the item
  back: finding their own `writeId` means the earlier attempt worked (`put_new_or_own`);
- a write whose answer never came raises `DatabaseUnavailable(outcome_unknown=True)`: the
  merchant is told that we do not know, never that nothing was changed;
- control-plane calls (`init_dynamodb`) use their own client with longer timeouts
  (`Dynamo.admin`, `DYNAMODB_CONTROL_TIMEOUT_SECONDS`, default 30 s).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectTimeoutError as BotoConnectTimeout
from botocore.exceptions import ReadTimeoutError as BotoReadTimeout
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from payments.dynamo.answers import ItemAnswerParserFactory, python_values
from payments.dynamo.shards import note_conflict, spread_keys
from payments.errors import (
    Conflict,
    CredentialsRefused,
    DatabaseUnavailable,
    RepositoryError,
    TableMissing,
    Throttled,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

logger = logging.getLogger(__name__)

BOTO_MAX_ATTEMPTS = 3
CONTROL_TIMEOUT_SECONDS = 30  # CreateTable/UpdateTable can take seconds even on DynamoDB Local
CONFLICT_ATTEMPTS = 10
CONFLICT_MAX_WAIT = 0.5  # seconds
_CONFLICT_FIRST_WAIT = 0.02  # seconds; doubles each attempt, randomised so racers spread out

T = TypeVar("T")


@dataclass
class Metrics:
    """DynamoDB work done by the calls it was passed to: the benchmark and the tests read it to
    prove the cost bounds. Pass a fresh one per call (or per request) you want to measure.
    Safe to share between threads (listing runs the Queries of one page concurrently)."""

    requests: int = 0
    items_read: int = 0
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def add(self, requests: int = 0, items_read: int = 0) -> None:
        # `+=` on an attribute is a read then a write: two threads could lose a count.
        with self._lock:
            self.requests += requests
            self.items_read += items_read


def count(metrics: Metrics | None, requests: int = 0, items_read: int = 0) -> None:
    """Accumulate into `metrics` when the caller asked for it."""
    if metrics is not None:
        metrics.add(requests, items_read)


@dataclass(frozen=True)
class Dynamo:
    """The handle every function of the package takes: a thread-safe boto3 client and the two
    table names. Build with `get_dynamo()` (settings) or `dynamo_from_settings(**overrides)`."""

    client: DynamoDBClient
    table: str
    meta_table: str
    control: DynamoDBClient | None = None  # for control-plane calls; `client` when None

    @property
    def admin(self) -> DynamoDBClient:
        """The client for control-plane calls (CreateTable, DescribeTable, ...): longer
        timeouts, as a table's creation may take longer than any data-plane call."""
        return self.control or self.client

    @property
    def endpoint(self) -> str:
        return str(self.client.meta.endpoint_url)

    @property
    def region(self) -> str:
        return str(self.client.meta.region_name)


def make_client(
    *,
    endpoint_url: str | None,
    region: str,
    timeout: float = 5,
    max_attempts: int = BOTO_MAX_ATTEMPTS,
    max_pool_connections: int = 10,
    fast_answers: bool = True,
) -> DynamoDBClient:
    """A DynamoDB client with short timeouts and botocore's standard retries (throttling, 5xx).
    `max_pool_connections` (botocore's default 10) bounds the threads that use it at once.
    `fast_answers=False` keeps botocore's own parser (the benchmark's raw-boto3 reference)."""
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        max_pool_connections=max_pool_connections,
    )
    # Its own botocore session: answers with items are parsed by `answers` (the one change).
    core = botocore.session.get_session()
    if fast_answers:
        core.register_component("response_parser_factory", ItemAnswerParserFactory())
    session = boto3.session.Session(botocore_session=core)
    kwargs: dict[str, Any] = {"region_name": region, "config": config}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
        # DynamoDB Local accepts any credentials; don't make a newcomer configure AWS.
        if session.get_credentials() is None:
            kwargs |= {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    client: DynamoDBClient = session.client("dynamodb", **kwargs)
    return client


def dynamo_from_settings(**overrides: Any) -> Dynamo:
    """A new handle from Django settings; `endpoint_url`, `region`, `table`, `meta_table`
    override them (init_dynamodb's options)."""
    from django.conf import settings

    endpoint_url = overrides.get("endpoint_url", settings.DYNAMODB_ENDPOINT_URL)
    region = overrides.get("region", settings.AWS_REGION)
    max_attempts = _max_attempts()
    return Dynamo(
        make_client(
            endpoint_url=endpoint_url,
            region=region,
            timeout=settings.DYNAMODB_TIMEOUT_SECONDS,
            max_attempts=max_attempts,
        ),
        table=overrides.get("table", settings.DYNAMODB_TABLE),
        meta_table=overrides.get("meta_table", settings.DYNAMODB_META_TABLE),
        control=make_client(
            endpoint_url=endpoint_url,
            region=region,
            timeout=_control_timeout(),
            max_attempts=max_attempts,
        ),
    )


def _max_attempts() -> int:
    from django.conf import settings

    return int(getattr(settings, "DYNAMODB_MAX_ATTEMPTS", BOTO_MAX_ATTEMPTS))


def _control_timeout() -> float:
    from django.conf import settings

    return float(getattr(settings, "DYNAMODB_CONTROL_TIMEOUT_SECONDS", CONTROL_TIMEOUT_SECONDS))


@lru_cache(maxsize=4)
def _cached_dynamo(
    endpoint: str | None,
    region: str,
    table: str,
    meta_table: str,
    _timeouts: tuple[float, float, int],
) -> Dynamo:
    return dynamo_from_settings(
        endpoint_url=endpoint, region=region, table=table, meta_table=meta_table
    )


def get_dynamo() -> Dynamo:
    """The process-wide handle for the current settings (boto3 clients are thread-safe)."""
    from django.conf import settings

    return _cached_dynamo(
        settings.DYNAMODB_ENDPOINT_URL,
        settings.AWS_REGION,
        settings.DYNAMODB_TABLE,
        settings.DYNAMODB_META_TABLE,
        # Part of the key so that a changed timeout or retry setting builds a new client.
        (float(settings.DYNAMODB_TIMEOUT_SECONDS), _control_timeout(), _max_attempts()),
    )


def forget_dynamo() -> None:
    """Drop the cached handles (tests that point the settings at new tables)."""
    _cached_dynamo.cache_clear()


# --- the one retry policy for lost races ------------------------------------------------------


class RetryConflict(Exception):
    """Raised inside a `retry_on_conflict` cycle: someone else won a race; read again."""


def retry_on_conflict(cycle: Callable[[], T]) -> T:
    """Run `cycle` (a read-check-write) until it stops raising `RetryConflict`, at most
    CONFLICT_ATTEMPTS times; then raise `Conflict`."""
    retrying = Retrying(
        stop=stop_after_attempt(CONFLICT_ATTEMPTS),
        wait=wait_random_exponential(multiplier=_CONFLICT_FIRST_WAIT, max=CONFLICT_MAX_WAIT),
        retry=retry_if_exception_type(RetryConflict),
        retry_error_callback=_give_up,
    )
    result: T = retrying(cycle)
    return result


def _give_up(_state: object) -> Any:
    raise Conflict()


# --- calls that count themselves --------------------------------------------------------------


class ConditionFailed(Exception):
    """A single-item write's ConditionExpression was false."""


class TokenReused(Exception):
    """A transaction's ClientRequestToken was used, within DynamoDB's 10 minutes, by a
    different request that succeeded: this logical write already happened (with other
    timestamps). DynamoDB forgets the token of a cancelled transaction, so it is never a
    failed one."""


class TableExists(Exception):
    """CreateTable found the table already there (a concurrent or retried CreateTable)."""


class TransactionCanceled(Exception):
    """A transaction was refused; `reasons` has one code per action ("None" for those fine)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        """Whether action `index` (negative counts from the end) failed its condition."""
        try:
            return self.reasons[index] == "ConditionalCheckFailed"
        except IndexError:
            return False


def query(db: Dynamo, metrics: Metrics | None, **kwargs: Any) -> dict[str, Any]:
    """One Query (on the payments table unless `TableName` is given), counted."""
    kwargs.setdefault("TableName", db.table)
    with translate_errors():
        answer: dict[str, Any] = dict(db.client.query(**kwargs))
    count(metrics, requests=1, items_read=int(answer.get("ScannedCount", 0)))
    return answer


def scan_items(db: Dynamo, metrics: Metrics | None, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a Scan returns (of the payments table unless `TableName` is given), page by
    page, deserialised; each page counted. For the deploy role's backfills, never a page."""
    kwargs.setdefault("TableName", db.table)
    while True:
        with translate_errors():
            answer = db.client.scan(**kwargs)
        count(metrics, requests=1, items_read=int(answer.get("ScannedCount", 0)))
        for raw in answer.get("Items", []):
            yield python_values(raw)
        if "LastEvaluatedKey" not in answer:
            return
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def get_item(
    db: Dynamo, metrics: Metrics | None, *, table: str, key: dict[str, Any]
) -> dict[str, Any] | None:
    """One strongly consistent GetItem (raw attribute values), counted."""
    with translate_errors():
        answer = db.client.get_item(TableName=table, Key=key, ConsistentRead=True)
    item = answer.get("Item")
    count(metrics, requests=1, items_read=1 if item else 0)
    return dict(item) if item else None


def update_item(
    db: Dynamo,
    metrics: Metrics | None,
    *,
    key: dict[str, Any],
    update: str,
    condition: str,
    attributes: Mapping[str, Any],
    return_new: bool = True,
) -> dict[str, Any]:
    """One conditional UpdateItem on the payments table, counted: the item as written (raw
    attribute values) when `return_new`. `attributes` are the expression's names and values
    (`Expr.kwargs()`). A false condition raises `ConditionFailed`; an unanswered write is
    outcome-unknown (`translate_errors(write=True)`)."""
    count(metrics, requests=1)
    extra: dict[str, Any] = {"ReturnValues": "ALL_NEW"} if return_new else {}
    with translate_errors(write=True):
        answer = db.client.update_item(
            TableName=db.table,
            Key=key,
            UpdateExpression=update,
            ConditionExpression=condition,
            **extra,
            **attributes,
        )
    return dict(answer.get("Attributes") or {})


def request_token(*parts: str) -> str:
    """A ClientRequestToken (at most 36 characters) for one logical write, e.g.
    `request_token("create", payment_id)`: the same for botocore's retries and for a re-run
    of the same write, different for a different one."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:36]


def transact(
    db: Dynamo,
    metrics: Metrics | None,
    actions: list[dict[str, Any]],
    *,
    token: str | None = None,
) -> None:
    """One TransactWriteItems, with `token` (see `request_token`) as its ClientRequestToken so
    that a retry after a lost answer is not applied twice. A failed condition raises
    `TransactionCanceled`; a lost race (TransactionConflict) raises `RetryConflict` for the
    caller's `retry_on_conflict`; the token already used by another request `TokenReused`; no
    answer `DatabaseUnavailable(outcome_unknown=True)`."""
    count(metrics, requests=1)
    kwargs: dict[str, Any] = {"TransactItems": actions}
    if token is not None:
        spread = spread_keys(actions)
        kwargs["ClientRequestToken"] = request_token(token, *spread) if spread else token
    try:
        with translate_errors(write=True):
            db.client.transact_write_items(**kwargs)
    except TransactionCanceled as cancelled:
        if "ConditionalCheckFailed" not in cancelled.reasons:
            # A busy merchant's aggregate item was in another transaction: the retry (and
            # later writes to that period) use another shard of it (`shards.py`).
            note_conflict(actions, cancelled.reasons)
            raise RetryConflict() from cancelled
        raise


def put_new_or_own(
    db: Dynamo, metrics: Metrics | None, *, put: dict[str, Any], key: dict[str, Any]
) -> bool:
    """One conditional PutItem (`put` holds TableName, Item, ConditionExpression, ...) of an
    item with primary key `key` (raw values). True when written — including when a botocore
    retry found the item written by its own earlier attempt, recognised by a `writeId` this
    call adds; False when the condition failed because of someone else's item."""
    write_id = uuid.uuid4().hex
    request = {**put, "Item": {**put["Item"], "writeId": {"S": write_id}}}
    count(metrics, requests=1)
    try:
        with translate_errors(write=True):
            db.client.put_item(**request)
    except ConditionFailed:
        try:
            stored = get_item(db, metrics, table=request["TableName"], key=key)
        except DatabaseUnavailable as error:
            # An earlier attempt may have written it and we cannot read whether it did.
            raise DatabaseUnavailable(outcome_unknown=True) from error
        return stored is not None and stored.get("writeId") == {"S": write_id}
    return True


# --- botocore → payments.errors ---------------------------------------------------------------

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
def translate_errors(*, write: bool = False) -> Iterator[None]:
    """Map botocore failures to `payments.errors` (and conditions to this module's own). With
    `write`, a request that got no answer is `DatabaseUnavailable(outcome_unknown=True)`: an
    attempt may have been applied before botocore gave up (its last error need not be the
    first one, so any network failure counts)."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed() from error
        if code == "TransactionCanceledException":
            raw: list[dict[str, Any]] = error.response.get("CancellationReasons", [])  # type: ignore[assignment]
            reasons = [r.get("Code") or "None" for r in raw] or _reasons_from_message(message)
            raise TransactionCanceled(reasons) from error
        if code == "TransactionConflictException":
            raise TransactionCanceled(["TransactionConflict"]) from error
        if code == "ResourceNotFoundException":
            raise TableMissing() from error
        if code == "IdempotentParameterMismatchException":
            raise TokenReused() from error
        if code == "ResourceInUseException":
            raise TableExists() from error
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
        raise DatabaseUnavailable(outcome_unknown=write) from error
    except BotoCoreError as error:
        if write:
            raise DatabaseUnavailable(outcome_unknown=True) from error
        raise DatabaseUnavailable(f"The payments database cannot be reached: {error}") from error


def _reasons_from_message(message: str) -> list[str]:
    # "Transaction cancelled, please refer cancellation reasons for specific reasons
    #  [None, ConditionalCheckFailed]" — engines that omit CancellationReasons say it here.
    match = re.search(r"\[([^\]]*)\]", message)
    if not match:
        return ["Unknown"]
    return [part.strip() for part in match.group(1).split(",")]
