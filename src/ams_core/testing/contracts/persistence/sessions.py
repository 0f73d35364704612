"""Part of the persistence contract. Class sessions: lookups, lists, counts and summaries."""

from __future__ import annotations

import dataclasses
from datetime import time

import pytest

from ams_core.domain import (
    AssignmentSummary,
    AttendanceStatus,
    ClassSession,
    DateRange,
    FacultyId,
    NotFoundError,
    SectionId,
    SessionCounts,
    SessionId,
    SessionStatus,
    SlotId,
    StatusTally,
    StudentId,
)
from ams_core.ports import ScheduledClass, UnitOfWorkFactory
from ams_core.testing.builders import MONDAY, SmallCollege
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    EVERYTHING,
    WEEK,
    _day,
    _mark,
    _session,
)
from ams_core.testing.contracts.persistence._tenants import (
    _empty_summary,
    _nonzero_counts,
)


def _as_scheduled(
    held: ClassSession | ScheduledClass,
) -> tuple[object, ...]:
    """What a schedule shows of a session, from the session or from its scheduled class."""
    return (
        held.id,
        held.date,
        held.start,
        held.end,
        held.section_id,
        held.subject_code,
        held.teacher_id,
        held.venue,
        held.status,
        held.topic,
    )


class SessionContract(ContractHelpers):
    """Class sessions: lookups, lists, counts and summaries."""

    # -- sessions -----------------------------------------------------------------------------
    def test_a_students_classes_come_as_their_sessions_hold_them_with_their_own_marks_only(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1 = c.students[0], c.students[1]
        sessions = [
            _session(c, "S2", c.bob_ma_a, MONDAY, time(10), teacher=c.alice.id, topic="Limits"),
            _session(c, "S1", c.alice_cs_a, MONDAY, status=SessionStatus.COMPLETED),
            _session(c, "S3", c.alice_cs_a, _day(1), status=SessionStatus.CANCELLED),
            _session(c, "S9", c.alice_cs_a, _day(8)),
            _session(c, "SB", c.bob_cs_b, MONDAY),
        ]
        own = _mark(c, "S2", st0, AttendanceStatus.LATE)
        with uow_factory().for_institution(c.id) as uow:
            for session in sessions:
                uow.sessions.add(session)
            uow.marks.insert_if_absent(own)
            uow.marks.insert_if_absent(_mark(c, "S1", st1))
            uow.marks.insert_if_absent(_mark(c, "S9", st0))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            mine = uow.sessions.list_for_student(st0.id, WEEK)
            held = uow.sessions.list_for_section(st0.section_id, WEEK)
            assert [(k.id, k.my_status) for k in mine] == [
                ("S1", None),
                ("S2", own.status),
                ("S3", None),
            ]
            assert [_as_scheduled(k) for k in mine] == [_as_scheduled(s) for s in held]
            assert list(uow.sessions.list_for_student(st0.id, DateRange(_day(2), _day(3)))) == []
            outsider = uow.sessions.list_for_student(c.outsider.id, WEEK)
            assert [(k.id, k.my_status) for k in outsider] == [("SB", None)]
            with pytest.raises(NotFoundError):
                uow.sessions.list_for_student(StudentId("N-NONE"), WEEK)

    def test_session_lists_are_ordered_by_date_start_and_id_and_filtered_by_date(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        sessions = [
            _session(c, "S3", c.bob_ma_a, MONDAY, time(10), slot="A2-1"),
            _session(c, "S8", c.alice_cs_a, _day(6)),
            _session(c, "S2", c.bob_ma_a, MONDAY),
            _session(c, "S9", c.alice_cs_a, _day(-1), time(11)),
            _session(c, "S1", c.alice_cs_a, MONDAY, slot="A1-1"),
            _session(c, "S0", c.alice_cs_a, _day(1), time(8), slot="A1-2", teacher=c.bob.id),
            _session(c, "S7", c.alice_cs_a, _day(7), slot="A1-1"),
            _session(c, "SB", c.bob_cs_b, MONDAY, slot="A3-1"),
            _session(c, "S4", c.alice_cs_a, MONDAY, time(13)),
        ]
        with uow_factory().for_institution(c.id) as uow:
            for session in sessions:
                uow.sessions.add(session)
            uow.commit()
        by_id = {s.id: s for s in sessions}

        def pick(*ids: str) -> list[ClassSession]:
            return [by_id[SessionId(i)] for i in ids]

        with uow_factory().for_institution(c.id) as uow:
            s = uow.sessions
            assert list(s.list_for_section(c.section_a.id, WEEK)) == pick(
                "S1", "S2", "S3", "S4", "S0", "S8"
            )
            monday = DateRange(MONDAY, MONDAY)
            assert list(s.list_for_section(c.section_a.id, monday)) == pick("S1", "S2", "S3", "S4")
            assert list(s.list_for_section(c.section_b.id, WEEK)) == pick("SB")
            assert list(s.list_for_section(SectionId("NO-SECTION"), WEEK)) == []
            assert list(s.list_for_teacher(c.alice.id, WEEK)) == pick("S1", "S4", "S8")
            assert list(s.list_for_teacher(c.bob.id, WEEK)) == pick("S2", "SB", "S3", "S0")
            assert list(s.list_for_assignment(c.alice_cs_a.id)) == pick(
                "S9", "S1", "S4", "S0", "S8", "S7"
            )
            assert list(s.list_for_assignment(c.alice_cs_a.id, WEEK)) == pick(
                "S1", "S4", "S0", "S8"
            )
            assert list(s.list_for_assignment(c.bob_cs_b.id, DateRange(_day(1), _day(2)))) == []
            assert s.generated_keys(WEEK) == {
                (SlotId("A1-1"), MONDAY),
                (SlotId("A2-1"), MONDAY),
                (SlotId("A3-1"), MONDAY),
                (SlotId("A1-2"), _day(1)),
            }
            assert s.generated_keys(DateRange(_day(7), _day(7))) == {(SlotId("A1-1"), _day(7))}
            assert s.generated_keys(DateRange(_day(2), _day(5))) == set()
            moved = s.update(
                dataclasses.replace(by_id[SessionId("S0")], teacher_id=c.alice.id, date=_day(2))
            )
            assert list(s.list_for_teacher(c.alice.id, WEEK)) == [
                *pick("S1", "S4"),
                moved,
                *pick("S8"),
            ]
            assert list(s.list_for_teacher(c.bob.id, WEEK)) == pick("S2", "SB", "S3")
            assert (SlotId("A1-2"), _day(2)) in s.generated_keys(WEEK)
            assert (SlotId("A1-2"), _day(1)) not in s.generated_keys(WEEK)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_for_teacher(c.alice.id, DateRange(_day(2), _day(2)))) == [
                moved
            ]

    def test_list_between_holds_every_session_in_the_dates_by_date_start_and_id(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        sessions = [
            _session(c, "S3", c.bob_ma_a, MONDAY, time(10), slot="A2-1"),
            _session(c, "S8", c.alice_cs_a, _day(6), status=SessionStatus.CANCELLED),
            _session(c, "S2", c.bob_ma_a, MONDAY),
            _session(c, "S9", c.alice_cs_a, _day(-1), time(11)),
            _session(c, "S1", c.alice_cs_a, MONDAY, slot="A1-1"),
            _session(c, "S0", c.alice_cs_a, _day(1), time(8), teacher=c.bob.id),
            _session(c, "S7", c.alice_cs_a, _day(7), status=SessionStatus.COMPLETED),
            _session(c, "SB", c.bob_cs_b, MONDAY, slot="A3-1", status=SessionStatus.OPEN),
            _session(c, "S4", c.alice_cs_a, MONDAY, time(13)),
        ]
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_between(EVERYTHING)) == []
            uow.sessions.add_many(sessions)
            uow.commit()
        by_id = {s.id: s for s in sessions}

        def pick(*ids: str) -> list[ClassSession]:
            return [by_id[SessionId(i)] for i in ids]

        with uow_factory().for_institution(c.id) as uow:
            s = uow.sessions
            assert list(s.list_between(WEEK)) == pick("S1", "S2", "SB", "S3", "S4", "S0", "S8")
            assert list(s.list_between(EVERYTHING)) == pick(
                "S9", "S1", "S2", "SB", "S3", "S4", "S0", "S8", "S7"
            )
            # both ends are inside the range
            assert list(s.list_between(DateRange(_day(-1), MONDAY))) == pick(
                "S9", "S1", "S2", "SB", "S3", "S4"
            )
            assert list(s.list_between(DateRange(_day(6), _day(7)))) == pick("S8", "S7")
            assert list(s.list_between(DateRange(_day(1), _day(1)))) == pick("S0")
            assert list(s.list_between(DateRange(_day(2), _day(5)))) == []
            moved = s.update(dataclasses.replace(by_id[SessionId("S9")], date=_day(3)))
            assert list(s.list_between(DateRange(_day(-1), _day(3)))) == [
                *pick("S1", "S2", "SB", "S3", "S4", "S0"),
                moved,
            ]

    def test_list_open_follows_status_changes(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        first = _session(c, "S-1", c.alice_cs_a, MONDAY)
        second = _session(c, "S-2", c.bob_ma_a, MONDAY, time(10))
        third = _session(c, "S-3", c.bob_cs_b, MONDAY, status=SessionStatus.OPEN)
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add_many([first, second, third])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_open()) == [third]
            first = uow.sessions.update(dataclasses.replace(first, status=SessionStatus.OPEN))
            uow.sessions.update(dataclasses.replace(third, status=SessionStatus.COMPLETED))
            assert list(uow.sessions.list_open()) == [first]
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_open()) == [first]
            uow.sessions.update(dataclasses.replace(second, status=SessionStatus.OPEN))
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_open()) == [first]
            uow.sessions.update(dataclasses.replace(first, status=SessionStatus.CANCELLED))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_open()) == []

    def test_subject_counts_hold_completed_and_remaining_sessions(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        completed, scheduled = SessionStatus.COMPLETED, SessionStatus.SCHEDULED
        today = _day(2)
        sessions = [
            _session(c, "C1", c.alice_cs_a, MONDAY, status=completed),
            _session(c, "C2", c.alice_cs_a, _day(1), status=completed),
            _session(c, "C-OUT", c.alice_cs_a, _day(-7), status=completed),
            _session(c, "PAST", c.alice_cs_a, _day(1), time(14), status=scheduled),
            _session(c, "PAST-OPEN", c.alice_cs_a, _day(1), time(16), status=SessionStatus.OPEN),
            _session(c, "TODAY", c.alice_cs_a, today, status=scheduled),
            _session(c, "LATER", c.alice_cs_a, _day(4), status=SessionStatus.OPEN),
            _session(c, "GONE", c.alice_cs_a, _day(3), status=SessionStatus.CANCELLED),
            _session(c, "FAR", c.alice_cs_a, _day(8), status=scheduled),
            _session(c, "M1", c.bob_ma_a, MONDAY, time(10), status=completed),
            _session(c, "M-GONE", c.bob_ma_a, _day(3), time(10), status=SessionStatus.CANCELLED),
            _session(c, "B1", c.bob_cs_b, _day(3), status=scheduled),
        ]
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add_many(sessions)
            uow.commit()
        a, b = c.section_a.id, c.section_b.id
        cs, ma = c.cs101.code, c.ma101.code
        with uow_factory().for_institution(c.id) as uow:
            assert _nonzero_counts(uow.sessions.subject_counts(WEEK, today)) == {
                (a, cs): SessionCounts(held=2, remaining=2),
                (a, ma): SessionCounts(held=1, remaining=0),
                (b, cs): SessionCounts(held=0, remaining=1),
            }
            assert _nonzero_counts(uow.sessions.subject_counts(WEEK, today, section_id=a)) == {
                (a, cs): SessionCounts(held=2, remaining=2),
                (a, ma): SessionCounts(held=1, remaining=0),
            }
            assert _nonzero_counts(
                uow.sessions.subject_counts(DateRange(_day(-7), _day(8)), MONDAY, section_id=a)
            ) == {
                (a, cs): SessionCounts(held=3, remaining=5),
                (a, ma): SessionCounts(held=1, remaining=0),
            }
            assert _nonzero_counts(uow.sessions.subject_counts(WEEK, _day(30))) == {
                (a, cs): SessionCounts(held=2, remaining=0),
                (a, ma): SessionCounts(held=1, remaining=0),
            }
            assert (
                _nonzero_counts(
                    uow.sessions.subject_counts(WEEK, today, section_id=SectionId("NO-SECTION"))
                )
                == {}
            )

    def test_teacher_summaries_give_each_assignment_of_the_teacher_with_its_summary(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        completed, scheduled = SessionStatus.COMPLETED, SessionStatus.SCHEDULED
        today, now = _day(2), time(10)
        tally = StatusTally(3, 1, 1, 0)
        sessions = [
            _session(c, "M1", c.bob_ma_a, MONDAY, status=completed, tally=tally, topic="one"),
            _session(c, "M-NEXT", c.bob_ma_a, _day(3), time(8), status=scheduled),
            _session(c, "C1", c.alice_cs_a, MONDAY, status=completed, tally=StatusTally(9)),
        ]
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add_many(sessions)
            uow.commit()
        bob = c.bob_ma_a.faculty_id
        assert c.bob_cs_b.faculty_id == bob != c.alice_cs_a.faculty_id
        with uow_factory().for_institution(c.id) as uow:
            taught = uow.sessions.teacher_summaries(bob, today, now)
            summaries = uow.sessions.assignment_summaries([c.bob_ma_a.id], today, now)
            nobody = uow.sessions.teacher_summaries(FacultyId("NOBODY"), today, now)

        assert [a for a, _ in taught] == sorted([c.bob_ma_a, c.bob_cs_b], key=lambda a: a.id)
        by_assignment = {a.id: summary for a, summary in taught}
        assert by_assignment[c.bob_ma_a.id] == summaries[c.bob_ma_a.id]
        assert by_assignment[c.bob_ma_a.id] == AssignmentSummary(1, tally, sessions[0], sessions[1])
        assert by_assignment[c.bob_cs_b.id] == AssignmentSummary(0, StatusTally(), None, None)
        assert list(nobody) == []

    def test_assignment_summaries_sum_completed_sessions_and_find_the_next_one(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        completed, scheduled = SessionStatus.COMPLETED, SessionStatus.SCHEDULED
        today, now = _day(2), time(10)
        tallies = (StatusTally(3, 1, 1, 0), StatusTally(4, 0, 1, 0), StatusTally(2, 1, 1, 1))
        sessions = [
            _session(c, "C1", c.alice_cs_a, MONDAY, status=completed, tally=tallies[0], topic="1"),
            _session(c, "C3", c.alice_cs_a, _day(1), time(14), status=completed, tally=tallies[2]),
            _session(c, "C2", c.alice_cs_a, _day(1), status=completed, tally=tallies[1]),
            _session(
                c,
                "GONE",
                c.alice_cs_a,
                _day(1),
                time(16),
                status=SessionStatus.CANCELLED,
                tally=StatusTally(9, 9, 9, 9),
            ),
            _session(c, "EARLIER", c.alice_cs_a, today, time(9), status=scheduled),
            _session(c, "S-GONE", c.alice_cs_a, today, now, status=SessionStatus.CANCELLED),
            _session(c, "TOMORROW", c.alice_cs_a, _day(3), time(8), status=scheduled),
            _session(c, "LATER", c.alice_cs_a, today, time(15), status=SessionStatus.OPEN),
            _session(c, "NOW", c.alice_cs_a, today, now, status=scheduled),
            _session(c, "M-PAST", c.bob_ma_a, _day(1), time(10), status=scheduled),
            _session(c, "M-OPEN", c.bob_ma_a, today, time(11), status=SessionStatus.OPEN),
        ]
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add_many(sessions)
            uow.commit()
        by_id = {s.id: s for s in sessions}
        with uow_factory().for_institution(c.id) as uow:
            summaries = uow.sessions.assignment_summaries(
                [c.alice_cs_a.id, c.bob_ma_a.id, c.bob_cs_b.id], today, now
            )
            assert summaries[c.alice_cs_a.id] == AssignmentSummary(
                held=3,
                tally=tallies[0] + tallies[1] + tallies[2],
                last_completed=by_id[SessionId("C3")],
                next_session=by_id[SessionId("NOW")],
            )
            assert summaries[c.bob_ma_a.id] == AssignmentSummary(
                0, StatusTally(), None, by_id[SessionId("M-OPEN")]
            )
            assert _empty_summary(summaries.get(c.bob_cs_b.id))
            later = uow.sessions.assignment_summaries([c.alice_cs_a.id], today, time(10, 1))
            assert later[c.alice_cs_a.id].next_session == by_id[SessionId("LATER")]
            assert dict(uow.sessions.assignment_summaries([], today, now)) == {}
            past_all = uow.sessions.assignment_summaries([c.bob_ma_a.id], _day(9), now)
            assert _empty_summary(past_all.get(c.bob_ma_a.id))
