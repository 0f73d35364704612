"""Double-booking rules (``find_clashes``, ``active_bookings``), checked as properties.

A booking holds a teacher, a section and a venue on one day from ``start`` to ``end``;
two bookings clash when they are on the same day, their times overlap (touching ends do
not) and they share the teacher, the section or a (non-blank, case- and space-insensitive)
venue. The strategies draw from small pools so that sharing and overlapping are common.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ams_core.domain.ids import (
    AssignmentId,
    FacultyId,
    InstitutionId,
    SectionId,
    SessionId,
    SubjectCode,
)
from ams_core.domain.scheduling import (
    Booking,
    Clash,
    ClashKind,
    ScheduleConflictError,
    active_bookings,
    find_clashes,
    require_no_clash,
)
from ams_core.domain.sessions import ClassSession, SessionStatus

DAYS = ("2026-11-16", "2026-11-17", "weekday:1")
TEACHERS = tuple(FacultyId(f"F{n}") for n in range(3))
SECTIONS = tuple(SectionId(f"S{n}") for n in range(3))
VENUES = ("", "  ", "Lab", "lab ", " LAB", "Room 1", "room 2")


def _minute(m: int) -> time:
    return time(m // 60, m % 60)


@st.composite
def bookings(draw: st.DrawFn, ref: str | None = None) -> Booking:
    start = draw(st.integers(8 * 60, 17 * 60))
    length = draw(st.integers(1, 3 * 60))
    return Booking(
        ref=ref or draw(st.sampled_from(("s1", "s2", "s3", "s4", "s5", "s6"))),
        day=draw(st.sampled_from(DAYS)),
        start=_minute(start),
        end=_minute(min(start + length, 24 * 60 - 1)),
        teacher_id=draw(st.sampled_from(TEACHERS)),
        section_id=draw(st.sampled_from(SECTIONS)),
        venue=draw(st.sampled_from(VENUES)),
    )


def _kinds(candidate: Booking, other: Booking) -> set[ClashKind]:
    return {clash.kind for clash in find_clashes(candidate, [other])}


def _overlap(a: Booking, b: Booking) -> bool:
    return a.day == b.day and a.start < b.end and b.start < a.end


def _expected(a: Booking, b: Booking) -> set[ClashKind]:
    """The rule, written out independently of the implementation."""
    if a.ref == b.ref or not _overlap(a, b):
        return set()
    kinds = set()
    if a.teacher_id == b.teacher_id:
        kinds.add(ClashKind.TEACHER)
    if a.section_id == b.section_id:
        kinds.add(ClashKind.SECTION)
    if a.venue.strip() and a.venue.strip().lower() == b.venue.strip().lower():
        kinds.add(ClashKind.VENUE)
    return kinds


@given(bookings(ref="a"), bookings(ref="b"))
def test_a_clashes_with_b_exactly_when_b_clashes_with_a(a: Booking, b: Booking) -> None:
    assert _kinds(a, b) == _kinds(b, a)


@given(bookings(ref="a"), bookings(ref="b"))
def test_the_clashes_are_exactly_what_the_rule_says(a: Booking, b: Booking) -> None:
    assert _kinds(a, b) == _expected(a, b)
    assert all(clash.other == "b" for clash in find_clashes(a, [b]))


@given(bookings(ref="a"), bookings(ref="b"))
def test_bookings_that_do_not_overlap_never_clash(a: Booking, b: Booking) -> None:
    assume(not _overlap(a, b))

    assert find_clashes(a, [b]) == []


@given(bookings(ref="a"), st.integers(1, 120))
def test_a_booking_starting_when_another_ends_does_not_clash(a: Booking, length: int) -> None:
    end_minute = a.end.hour * 60 + a.end.minute
    assume(end_minute + length < 24 * 60)
    # the same teacher, section and venue: only the times keep them apart
    after = replace(a, ref="b", start=a.end, end=_minute(end_minute + length))
    before = replace(a, ref="c", start=_minute(max(0, a.start.hour * 60 - length)), end=a.start)
    assume(before.start < before.end)

    assert find_clashes(a, [after, before]) == []
    assert find_clashes(after, [a]) == []


@given(bookings(ref="a"))
def test_a_booking_never_clashes_with_itself(a: Booking) -> None:
    assert find_clashes(a, [a, replace(a, teacher_id=FacultyId("other"))]) == []


@given(bookings(ref="a"))
def test_the_same_time_for_the_same_teacher_section_and_room_clashes_thrice(a: Booking) -> None:
    twin = replace(a, ref="b", venue=a.venue.upper() + " ")

    kinds = _kinds(a, twin)

    assert kinds >= {ClashKind.TEACHER, ClashKind.SECTION}
    assert (ClashKind.VENUE in kinds) == bool(a.venue.strip())


@given(bookings(ref="a"), st.lists(bookings(), max_size=8))
def test_clashes_come_in_a_stable_order_and_raise_together(
    a: Booking, others: list[Booking]
) -> None:
    clashes = find_clashes(a, others)

    assert clashes == sorted(clashes, key=lambda c: (c.kind.value, c.other))
    assert find_clashes(a, reversed(others)) == clashes
    expected = sorted(
        (Clash(kind, o.ref) for o in others for kind in _expected(a, o)),
        key=lambda c: (c.kind.value, c.other),
    )
    assert clashes == expected
    if clashes:
        with pytest.raises(ScheduleConflictError) as raised:
            require_no_clash(a, others)
        assert list(raised.value.clashes) == clashes
        assert raised.value.code == "schedule_conflict"
    else:
        require_no_clash(a, others)


IID = InstitutionId("inst-p")


def _session(n: int, status: SessionStatus, start: int) -> ClassSession:
    return ClassSession(
        id=SessionId(f"session-{n}"),
        institution_id=IID,
        assignment_id=AssignmentId("A1"),
        section_id=SectionId("S0"),
        subject_code=SubjectCode("CS101"),
        date=date(2026, 11, 16),
        start=_minute(start),
        end=_minute(start + 60),
        teacher_id=FacultyId("F0"),
        venue="Lab",
        status=status,
    )


@given(st.lists(st.tuples(st.sampled_from(SessionStatus), st.integers(8 * 60, 16 * 60))))
def test_cancelled_sessions_hold_no_booking(drawn: list[tuple[SessionStatus, int]]) -> None:
    sessions = [_session(n, status, start) for n, (status, start) in enumerate(drawn)]

    booked = active_bookings(sessions)

    assert [b.ref for b in booked] == [
        s.id for s in sessions if s.status is not SessionStatus.CANCELLED
    ]
    assert all(b == Booking.of_session(s) for b, s in zip(booked, _active(sessions), strict=True))
    newcomer = Booking.of_session(_session(len(sessions), SessionStatus.SCHEDULED, 9 * 60))
    assert {c.other for c in find_clashes(newcomer, booked)} <= {
        s.id for s in sessions if s.status is not SessionStatus.CANCELLED
    }


def _active(sessions: list[ClassSession]) -> list[ClassSession]:
    return [s for s in sessions if s.status is not SessionStatus.CANCELLED]
