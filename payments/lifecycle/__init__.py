"""What a payment goes through: TrueLayer's real lifecycle, as pure rules with no storage.

A merchant's payment has one TrueLayer payment link. Each time the payer presses "Pay now" on it,
TrueLayer creates a payment **attempt** with its own id; an attempt can fail and the payer can try
again on the same link until it is fulfilled or expires. So the payment's status is never simply
"the latest event": it is **derived** from its attempts and its link by one rule,
`derive_status`, written out in its docstring.

Each attempt moves along `ATTEMPT_MOVES`, a transition table taken from TrueLayer's documentation
(including `executed → failed` for a failed name/age verification and `settled → reversed` for a
bank return). The table has no cycle, so a late or repeated event can never take an attempt back
to a state it has left; the DynamoDB condition of every write is generated from it
(`attempt_statuses_before`), so a move it does not list is refused by DynamoDB itself.

`apply_observation` is the one place where something learned about a payment — from a webhook,
from "Refresh status" or from reconciliation — becomes a new state, an outcome and timeline
entries. Services call it; the data layer stores what it returns.
"""

from payments.lifecycle.observations import (
    AttemptSeen as AttemptSeen,
)
from payments.lifecycle.observations import (
    CancellationFailed as CancellationFailed,
)
from payments.lifecycle.observations import (
    Decision as Decision,
)
from payments.lifecycle.observations import (
    LinkDisabled as LinkDisabled,
)
from payments.lifecycle.observations import (
    Observation as Observation,
)
from payments.lifecycle.observations import (
    Outcome as Outcome,
)
from payments.lifecycle.observations import (
    RefundSeen as RefundSeen,
)
from payments.lifecycle.observations import (
    SettlementFact as SettlementFact,
)
from payments.lifecycle.observations import (
    apply_observation as apply_observation,
)
from payments.lifecycle.state import (
    Attempt as Attempt,
)
from payments.lifecycle.state import (
    AttemptChange as AttemptChange,
)
from payments.lifecycle.state import (
    Lifecycle as Lifecycle,
)
from payments.lifecycle.state import (
    LinkState as LinkState,
)
from payments.lifecycle.state import (
    Refund as Refund,
)
from payments.lifecycle.state import (
    RowFacts as RowFacts,
)
from payments.lifecycle.state import (
    Settlement as Settlement,
)
from payments.lifecycle.state import (
    StatusChange as StatusChange,
)
from payments.lifecycle.state import (
    derive_status as derive_status,
)
from payments.lifecycle.statuses import (
    ATTEMPT_LABELS as ATTEMPT_LABELS,
)
from payments.lifecycle.statuses import (
    ATTEMPT_MOVES as ATTEMPT_MOVES,
)
from payments.lifecycle.statuses import (
    ATTEMPT_ORDER as ATTEMPT_ORDER,
)
from payments.lifecycle.statuses import (
    FINAL_STATUSES as FINAL_STATUSES,
)
from payments.lifecycle.statuses import (
    LINK_MOVES as LINK_MOVES,
)
from payments.lifecycle.statuses import (
    REFUND_MOVES as REFUND_MOVES,
)
from payments.lifecycle.statuses import (
    REFUND_RESERVING as REFUND_RESERVING,
)
from payments.lifecycle.statuses import (
    REFUNDABLE_STATUSES as REFUNDABLE_STATUSES,
)
from payments.lifecycle.statuses import (
    STATUS_LABELS as STATUS_LABELS,
)
from payments.lifecycle.statuses import (
    SUCCESSFUL_STATUSES as SUCCESSFUL_STATUSES,
)
from payments.lifecycle.statuses import (
    AttemptStatus as AttemptStatus,
)
from payments.lifecycle.statuses import (
    LinkStatus as LinkStatus,
)
from payments.lifecycle.statuses import (
    PaymentStatus as PaymentStatus,
)
from payments.lifecycle.statuses import (
    RefundStatus as RefundStatus,
)
from payments.lifecycle.statuses import (
    attempt_can_move as attempt_can_move,
)
from payments.lifecycle.statuses import (
    attempt_statuses_before as attempt_statuses_before,
)
