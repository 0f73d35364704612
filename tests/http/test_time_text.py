"""Local times on the wire: written as ``time.isoformat`` writes them, remembered per value."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from ams_http.schemas import common
from ams_http.schemas.common import time_text

OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))])


@given(st.times())
def test_a_local_time_is_written_as_isoformat_writes_it_the_first_time_and_every_time(
    value: time,
) -> None:
    assert time_text(value) == value.isoformat()
    assert time_text(value) == value.isoformat()


@given(st.times(min_value=time(6), max_value=time(17, 59), timezones=OFFSETS))
def test_a_time_with_an_offset_keeps_its_own_offset_though_an_equal_instant_was_written_before(
    value: time,
) -> None:
    # 09:00+01:00 equals 08:00+00:00 as a time, but is written with its own offset
    instant = datetime.combine(date(2026, 1, 5), value)
    for offset in (UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))):
        same = instant.astimezone(offset).timetz()
        assert same == value
        time_text(same)
    assert time_text(value) == value.isoformat()


def test_no_more_times_are_remembered_than_the_bound() -> None:
    for second in range(common.TIME_TEXTS_KEPT + 100):
        value = time(second // 3600 % 24, second // 60 % 60, second % 60, 7)
        assert time_text(value) == value.isoformat()
    assert len(common._TIME_TEXTS) <= common.TIME_TEXTS_KEPT
