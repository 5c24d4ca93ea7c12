"""Executed refunds in the statistics aggregates: what a lifecycle change moves."""

from __future__ import annotations

from typing import Any

from payments.domain import Payment, from_minor_units
from payments.dynamo.stats import refund_moves
from payments.lifecycle import Decision, RefundStatus


def executed_refund_moves(payment: Payment, decision: Decision) -> dict[str, Any]:
    """`rc#`/`ra#` changes when refunds became (or stopped being, after a bank return)
    executed in `decision`; {} when nothing moved."""

    def executed(refunds: Any) -> tuple[int, int]:
        done = [r.amount_minor or 0 for r in refunds if r.status is RefundStatus.EXECUTED]
        return len(done), sum(done)

    count_before, minor_before = executed(payment.lifecycle.refunds)
    count_after, minor_after = executed(decision.lifecycle.refunds)
    if (count_before, minor_before) == (count_after, minor_after):
        return {}
    return refund_moves(
        payment.currency,
        count_after - count_before,
        from_minor_units(minor_after - minor_before, payment.currency),
    )
