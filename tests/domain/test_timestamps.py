"""Stored timestamps: fixed width (string order is time order) and read back exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.domain import format_timestamp, parse_timestamp

moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


@given(moments, st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_a_stored_timestamp_reads_back_as_the_same_moment_to_the_millisecond(
    moment: datetime, offset_minutes: int
) -> None:
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text = format_timestamp(local)
    assert len(text) == 24 and text.endswith("Z")
    back = parse_timestamp(text)
    assert back.tzinfo is not None and back.utcoffset() == timedelta(0)
    assert back == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@given(moments, moments)
def test_string_order_is_time_order(a: datetime, b: datetime) -> None:
    assert (format_timestamp(a) < format_timestamp(b)) == (
        a.replace(microsecond=a.microsecond // 1000 * 1000)
        < b.replace(microsecond=b.microsecond // 1000 * 1000)
    )


def test_other_shapes_are_still_read_strictly() -> None:
    assert parse_timestamp("2026-11-27T01:02:03.5Z") == datetime(
        2026, 11, 27, 1, 2, 3, 500000, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        parse_timestamp("2026-11-27 01:02:03")
