"""Attendance arithmetic checked against a brute-force, exact recomputation (PRODUCT.md §2.4)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from hypothesis import example, given
from hypothesis import strategies as st

from ams_core.domain.attendance import StatusTally
from ams_core.domain.ids import SubjectCode
from ams_core.domain.reports import (
    SessionCounts,
    attendance_percent,
    is_below,
    need_to_attend,
    summarise_subject,
)


@dataclass(frozen=True)
class Record:
    """One student's counts in one subject: ``attended + excused <= held``."""

    held: int
    attended: int
    excused: int
    remaining: int


@st.composite
def records(draw: st.DrawFn, max_held: int = 400) -> Record:
    held = draw(st.integers(min_value=0, max_value=max_held))
    excused = draw(st.integers(min_value=0, max_value=held))
    attended = draw(st.integers(min_value=0, max_value=held - excused))
    remaining = draw(st.integers(min_value=0, max_value=max_held))
    return Record(held=held, attended=attended, excused=excused, remaining=remaining)


thresholds = st.one_of(
    st.integers(min_value=0, max_value=100).map(Decimal),
    st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False),
)


# -- the brute-force reference ------------------------------------------------------------


def reference_percent(attended: int, held: int, excused: int) -> Decimal | None:
    countable = held - excused
    if countable <= 0:
        return None
    hundredths = Fraction(100 * 100 * attended, countable)
    rounded = math.floor(hundredths + Fraction(1, 2))  # half-up (the value is never negative)
    return Decimal(rounded) / 100


def reference_need(record: Record, threshold: Decimal) -> int | None:
    total = record.held - record.excused + record.remaining
    if total <= 0:
        return 0  # nothing held and nothing to come: there is nothing left to attend
    target = Fraction(threshold) / 100
    for x in range(record.remaining + 1):
        if Fraction(record.attended + x, total) >= target:
            return x
    return None


def reference_below(attended: int, held: int, excused: int, threshold: Decimal) -> bool:
    countable = held - excused
    return countable > 0 and Fraction(attended, countable) < Fraction(threshold) / 100


# -- attendance percent -------------------------------------------------------------------


@example(Record(held=3, attended=2, excused=0, remaining=0))  # 66.666… → 66.67
@example(Record(held=8, attended=1, excused=0, remaining=0))  # 12.5 exactly
@example(Record(held=800, attended=1, excused=0, remaining=0))  # 0.125 → 0.13 (half-up)
@example(Record(held=1600, attended=1, excused=0, remaining=0))  # 0.0625 → 0.06
@example(Record(held=5, attended=0, excused=5, remaining=0))  # all excused: no percentage
@given(record=records(max_held=2000))
def test_attendance_percent_is_the_exact_ratio_rounded_half_up_to_cents(record: Record) -> None:
    percent = attendance_percent(record.attended, record.held, record.excused)

    assert percent == reference_percent(record.attended, record.held, record.excused)
    if percent is not None:
        assert percent.as_tuple().exponent == -2
        assert Decimal(0) <= percent <= Decimal(100)


@given(record=records())
def test_attendance_percent_is_none_exactly_when_nothing_countable_was_held(
    record: Record,
) -> None:
    percent = attendance_percent(record.attended, record.held, record.excused)

    assert (percent is None) is (record.held == record.excused)


# -- look-ahead ---------------------------------------------------------------------------


@example(Record(held=0, attended=0, excused=0, remaining=0), Decimal(75))
@example(Record(held=4, attended=3, excused=0, remaining=0), Decimal(75))  # exactly on it
@example(Record(held=4, attended=2, excused=0, remaining=0), Decimal(75))  # unreachable
@example(Record(held=10, attended=0, excused=0, remaining=30), Decimal(75))  # needs all 30
@example(Record(held=3, attended=2, excused=0, remaining=3), Decimal("66.67"))
@example(Record(held=1, attended=0, excused=0, remaining=0), Decimal(0))
@example(Record(held=2, attended=2, excused=0, remaining=5), Decimal(100))
@given(record=records(), threshold=thresholds)
def test_need_to_attend_is_the_smallest_number_of_classes_that_reaches_the_threshold(
    record: Record, threshold: Decimal
) -> None:
    needed = need_to_attend(
        record.attended, record.held, record.excused, record.remaining, threshold
    )

    assert needed == reference_need(record, threshold)


@given(record=records(), threshold=thresholds)
def test_attending_the_needed_classes_reaches_the_threshold_and_one_fewer_does_not(
    record: Record, threshold: Decimal
) -> None:
    needed = need_to_attend(
        record.attended, record.held, record.excused, record.remaining, threshold
    )
    total = record.held - record.excused + record.remaining
    target = Fraction(threshold) / 100

    if total == 0:
        assert needed == 0
    elif needed is None:
        assert Fraction(record.attended + record.remaining, total) < target
    else:
        assert 0 <= needed <= record.remaining
        assert Fraction(record.attended + needed, total) >= target
        if needed > 0:
            assert Fraction(record.attended + needed - 1, total) < target


# -- defaulters ---------------------------------------------------------------------------


@example(Record(held=4, attended=3, excused=0, remaining=0), Decimal(75))  # on it: not below
@example(Record(held=10000, attended=7499, excused=0, remaining=0), Decimal(75))  # 74.99
@example(Record(held=100000, attended=74999, excused=0, remaining=0), Decimal(75))  # 74.999
@given(record=records(max_held=200_000), threshold=thresholds)
def test_is_below_compares_the_exact_unrounded_ratio(record: Record, threshold: Decimal) -> None:
    below = is_below(record.attended, record.held, record.excused, threshold)

    assert below is reference_below(record.attended, record.held, record.excused, threshold)


# -- a subject's summary line --------------------------------------------------------------


@st.composite
def tallies(draw: st.DrawFn) -> tuple[SessionCounts, StatusTally]:
    held = draw(st.integers(min_value=0, max_value=300))
    marks = draw(
        st.lists(st.integers(min_value=0, max_value=3), min_size=0, max_size=held).map(
            lambda xs: [xs.count(i) for i in range(4)]
        )
    )
    remaining = draw(st.integers(min_value=0, max_value=300))
    return SessionCounts(held=held, remaining=remaining), StatusTally(*marks)


@given(counts_and_tally=tallies(), threshold=thresholds)
def test_a_subject_summary_agrees_with_the_exact_arithmetic(
    counts_and_tally: tuple[SessionCounts, StatusTally], threshold: Decimal
) -> None:
    counts, tally = counts_and_tally
    record = Record(
        held=counts.held,
        attended=tally.present + tally.late,
        excused=tally.excused,
        remaining=counts.remaining,
    )

    line = summarise_subject(SubjectCode("CS101"), "Data Structures", counts, tally, threshold)

    assert (line.subject_code, line.subject_name) == ("CS101", "Data Structures")
    assert (line.held, line.remaining) == (counts.held, counts.remaining)
    assert (line.attended, line.excused) == (record.attended, record.excused)
    assert line.percent == reference_percent(record.attended, record.held, record.excused)
    assert line.need_to_attend == reference_need(record, threshold)
    assert line.below_threshold is reference_below(
        record.attended, record.held, record.excused, threshold
    )
    assert line.reachable is (line.need_to_attend is not None)


@given(counts_and_tally=tallies(), threshold=thresholds)
def test_a_subject_summary_never_contradicts_itself(
    counts_and_tally: tuple[SessionCounts, StatusTally], threshold: Decimal
) -> None:
    counts, tally = counts_and_tally

    line = summarise_subject(SubjectCode("CS101"), "Data Structures", counts, tally, threshold)

    if line.percent is None:
        assert not line.below_threshold
    else:
        # Rounding to cents cannot lift a percentage over a threshold given in cents.
        if line.percent < threshold:
            assert line.below_threshold
        if not line.below_threshold:
            assert line.percent >= threshold
    if line.remaining == 0 and line.percent is not None:
        # Nothing left to attend: the look-ahead is "done" exactly when not a defaulter.
        assert (line.need_to_attend == 0) is (not line.below_threshold)
        assert line.reachable is (not line.below_threshold)
    if line.need_to_attend is not None:
        assert 0 <= line.need_to_attend <= line.remaining
