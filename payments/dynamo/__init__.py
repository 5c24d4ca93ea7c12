"""The DynamoDB data layer: the only code that imports boto3/botocore (ruff TID251 enforces it).

Shape: typed module-level functions named `<entity>_<action>` (`payment_create`, `payment_get`,
`payment_list`, `payment_observe`, `stats_for_range`, `event_mark`, …) that take a small
frozen handle, `Dynamo(client, table, meta_table)`, from the cached `get_dynamo()`. No class
holds state between calls, so nothing is shared between threads but the thread-safe boto3
client; DynamoDB work is counted per call into a caller-passed `Metrics` (list, search and
statistics results also carry their own `requests` / `items_read`). Call them through this
package (`dynamo.payment_get(db, ...)`); a test that fakes one patches it here.

One concern per module:
- `client`: client construction, the one retry policy, botocore → `payments.errors`, `Metrics`;
- `schema`: table and index specs (index names as constants), meta-table key builders;
- `expressions`: the placeholder / `SET a = :a, …` builder every request uses;
- `items`: item ⇄ `Payment` codec and derived index keys;
- `payments`: payment creation, links and single reads; `lookups`: by TrueLayer link or
  payment id through the indexes; `listing`: filtered pages; `search`, through the token
  entries of `search_index` (written with each payment);
- `lifecycle`: where a payment's status changes (`payment_observe`), with `lifecycle_items`
  the codec of its attempts, link, refunds, row facts and webhook log; `row_facts`: the
  backfill of row facts on payments stored before them;
- `owners`: who owns a TrueLayer link or attempt (strongly consistent, for webhooks);
  `parked`: webhook events waiting for their payment; `reconcile`: the queue of open payments
  reconciliation looks at;
- `refunds`: a refund recorded under the over-refund guard (`refund_create`) and changed
  (`refund_change`);
- `stats`: where the statistics aggregates are written (`stats_move_actions`) and read;
- `events`: webhook event ids and form-submission tokens; `tables`: `init_dynamodb`.

Every read is scoped to one merchant's partition (`userId` = their Auth0 `sub`) and bounded as
DESIGN.md's access-pattern table asks, whatever the size of the history:

- list / filter by status, currency and date: one Query per stream (one per status asked for),
  each reading at most page size + 1 items, keyed on an index whose sort key carries the date;
- one payment: one GetItem; link id / TrueLayer id: one indexed Query;
- statistics: day and month aggregate items in the meta table (the merchant's time zone),
  written in the same transaction as the payment, so a range costs its number of days (whole
  months inside a long range cost one item each);
- search by words, payer, email, short id or amount: one Query per token looked up (at most
  two) in the search index and one BatchGetItem of the page's payments, about two items read
  per result at any depth (a budget bounds what filters that drop most results may read).

Writes never overwrite (conditional puts), and a status moves only along the lifecycle's
transition table: every lifecycle write carries a condition on the version it read and on each
moving attempt's current status, so a late or repeated event changes nothing even when two
deliveries race. Errors reach callers as `payments.errors` exceptions, never raw botocore ones.
"""

from __future__ import annotations

from payments.dynamo.cancel import CANCEL_REQUESTED, CANCELLABLE, payment_timeline_note
from payments.dynamo.client import (
    Dynamo,
    Metrics,
    dynamo_from_settings,
    forget_dynamo,
    get_dynamo,
    make_client,
)
from payments.dynamo.concurrent import run_concurrently
from payments.dynamo.events import event_mark, event_seen
from payments.dynamo.lifecycle import (
    DUPLICATE,
    MISSING,
    EventReceipt,
    Observed,
    payment_observe,
)
from payments.dynamo.listing import (
    MAX_PAGE_SIZE,
    PaymentPage,
    payment_iter,
    payment_list,
    payment_rows_get,
    payment_versions_get,
)
from payments.dynamo.lookups import payment_find_by_link_id, payment_find_by_truelayer_id
from payments.dynamo.owners import ATTEMPT, LINK, owner_get
from payments.dynamo.parked import (
    ParkedEvent,
    ParkedSummary,
    parked_delete,
    parked_for,
    parked_list,
    parked_put,
)
from payments.dynamo.payments import (
    payment_create,
    payment_get,
    payment_link_error_set,
    payment_link_set,
    payment_response_store,
)
from payments.dynamo.reconcile import open_due, open_postpone, reconcile_lease
from payments.dynamo.refunds import (
    REFUND_SOURCE,
    DuplicateRefund,
    refund_change,
    refund_create,
    with_refund,
)
from payments.dynamo.row_facts import RowFactsReport, row_facts_backfill
from payments.dynamo.search import SearchResult, payment_search
from payments.dynamo.search_index import BackfillReport, search_backfill, search_items
from payments.dynamo.stats import (
    StatsPeriod,
    refund_totals_for_range,
    stats_counters_add,
    stats_daily,
    stats_for_range,
    stats_period,
)
from payments.dynamo.tables import TableReport, tables_drop, tables_ensure, tables_ping

__all__ = [
    "ATTEMPT",
    "CANCEL_REQUESTED",
    "CANCELLABLE",
    "payment_timeline_note",
    "DUPLICATE",
    "REFUND_SOURCE",
    "DuplicateRefund",
    "refund_change",
    "refund_create",
    "with_refund",
    "LINK",
    "MISSING",
    "EventReceipt",
    "Observed",
    "ParkedEvent",
    "ParkedSummary",
    "open_due",
    "open_postpone",
    "owner_get",
    "parked_delete",
    "parked_for",
    "parked_list",
    "parked_put",
    "reconcile_lease",
    "MAX_PAGE_SIZE",
    "Dynamo",
    "Metrics",
    "PaymentPage",
    "SearchResult",
    "TableReport",
    "dynamo_from_settings",
    "event_mark",
    "event_seen",
    "forget_dynamo",
    "get_dynamo",
    "make_client",
    "payment_create",
    "payment_find_by_link_id",
    "payment_find_by_truelayer_id",
    "payment_get",
    "payment_iter",
    "payment_link_error_set",
    "payment_link_set",
    "payment_list",
    "payment_rows_get",
    "payment_versions_get",
    "payment_response_store",
    "payment_search",
    "BackfillReport",
    "search_backfill",
    "RowFactsReport",
    "row_facts_backfill",
    "search_items",
    "payment_observe",
    "refund_totals_for_range",
    "StatsPeriod",
    "run_concurrently",
    "stats_counters_add",
    "stats_daily",
    "stats_for_range",
    "stats_period",
    "tables_drop",
    "tables_ensure",
    "tables_ping",
]
