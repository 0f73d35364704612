"""Part of the persistence contract. Attendance marks: inserts, replacements, tallies and per-
student reads.
"""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta

import pytest

from ams_core.domain import (
    AttendanceStatus,
    AuditEntry,
    DateRange,
    DeviceBinding,
    DeviceId,
    FacultyId,
    MarkSource,
    NotFoundError,
    SessionId,
    SessionStatus,
    StatusTally,
    StudentId,
)
from ams_core.ports import (
    CheckInContext,
    Slice,
    UnitOfWork,
    UnitOfWorkFactory,
    UnmarkedFilled,
)
from ams_core.testing.builders import MONDAY, SmallCollege
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    T0,
    WEEK,
    _audit,
    _day,
    _mark,
    _session,
)
from ams_core.testing.contracts.persistence._tenants import _nonzero_tallies


class AttendanceContract(ContractHelpers):
    """Attendance marks: inserts, replacements, tallies and per-student reads."""

    # -- marks ------------------------------------------------------------------------------
    def test_insert_if_absent_keeps_the_first_mark(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, st0 = college, college.students[0]
        self._add_sessions(uow_factory, c, _session(c, "S-1", c.alice_cs_a, MONDAY))
        first = _mark(c, "S-1", st0, AttendanceStatus.LATE, device="device-0001-abcd")
        second = _mark(c, "S-1", st0, AttendanceStatus.ABSENT, source=MarkSource.MANUAL)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.marks.find(first.session_id, st0.id) is None
            assert uow.marks.insert_if_absent(first) == (first, True)
            assert uow.marks.insert_if_absent(second) == (first, False)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.marks.insert_if_absent(second) == (first, False)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.marks.find(first.session_id, st0.id) == first

    def test_check_in_context_reads_each_part_or_none(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, st0, st1 = college, college.students[0], college.students[1]
        s1 = SessionId("S-1")
        self._add_sessions(uow_factory, c, _session(c, "S-1", c.alice_cs_a, MONDAY))
        binding = DeviceBinding(c.id, st0.id, DeviceId("device-context-0001"), T0)
        mark = _mark(c, "S-1", st0, AttendanceStatus.LATE, device="device-context-0001")
        with uow_factory().for_institution(c.id) as uow:
            session, student = uow.sessions.get(s1), uow.students.get(st1.id)
            bare = uow.marks.check_in_context(s1, st1.id)
            assert bare == CheckInContext(session, student, None, None, 0)
            uow.devices.add(binding)
            uow.marks.insert_if_absent(mark)
            uow.code_failures.record_failure(s1, st0.id)
            uow.code_failures.record_failure(s1, st0.id)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            full = uow.marks.check_in_context(s1, st0.id)
            assert full == CheckInContext(session, uow.students.get(st0.id), binding, mark, 2)
            nothing = uow.marks.check_in_context(SessionId("S-NONE"), StudentId("N-NONE"))
            assert nothing == CheckInContext(None, None, None, None, 0)
            half = uow.marks.check_in_context(SessionId("S-NONE"), st0.id)
            assert (half.session, half.student, half.binding) == (None, full.student, binding)
            assert (half.mark, half.failures) == (None, 0)

    def test_add_missing_inserts_only_absent_marks_and_returns_them(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1, st2 = c.students[:3]
        self._add_sessions(uow_factory, c, _session(c, "S-1", c.alice_cs_a, MONDAY))
        existing = _mark(c, "S-1", st0)
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.insert_if_absent(existing)
            uow.commit()
        absent = AttendanceStatus.ABSENT
        fill = [_mark(c, "S-1", st, absent, source=MarkSource.COMPLETION) for st in (st0, st1, st2)]
        with uow_factory().for_institution(c.id) as uow:
            inserted = uow.marks.add_missing(fill)
            assert sorted(inserted, key=lambda m: m.student_id) == fill[1:]
            assert list(uow.marks.add_missing(fill)) == []
            assert list(uow.marks.add_missing([])) == []
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.marks.list_for_session(SessionId("S-1"))) == [existing, *fill[1:]]

    def test_add_for_unmarked_marks_each_active_student_of_the_section_without_a_mark_once(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        checked_in, leaver, *rest = c.students
        held = dataclasses.replace(
            _session(c, "S-1", c.alice_cs_a, MONDAY), status=SessionStatus.COMPLETED
        )
        self._add_sessions(uow_factory, c, held, _session(c, "S-2", c.alice_cs_a, _day(1)))
        existing = _mark(c, "S-1", checked_in)
        with uow_factory().for_institution(c.id) as uow:
            uow.students.update(dataclasses.replace(leaver, active=False))
            uow.marks.insert_if_absent(existing)
            uow.commit()
        absent, by = AttendanceStatus.ABSENT, c.alice.email

        def add(uow: UnitOfWork, session: str) -> UnmarkedFilled:
            return uow.marks.add_for_unmarked(
                SessionId(session), absent, marked_at=T0, marked_by=by, source=MarkSource.COMPLETION
            )

        with uow_factory().for_institution(c.id) as uow:
            after = StatusTally(present=1, absent=len(rest))
            assert add(uow, "S-1") == UnmarkedFilled(len(rest), after)
            assert add(uow, "S-1") == UnmarkedFilled(0, after)
            everyone = len(rest) + 1
            assert add(uow, "S-2") == UnmarkedFilled(everyone, StatusTally(absent=everyone))
            with pytest.raises(NotFoundError):
                add(uow, "S-NONE")
            uow.commit()
        expected = [_mark(c, "S-1", st, absent, source=MarkSource.COMPLETION) for st in rest]
        with uow_factory().for_institution(c.id) as uow:
            stored = uow.marks.list_for_session(SessionId("S-1"))
            assert sorted(stored, key=lambda m: m.student_id) == sorted(
                [existing, *expected], key=lambda m: m.student_id
            )
            # the absences count where their session is completed (S-1), not where it is not
            assert _nonzero_tallies(uow.marks.tallies(WEEK, section_id=c.section_a.id)) == {
                (checked_in.id, c.cs101.code): StatusTally(present=1),
                **{(st.id, c.cs101.code): StatusTally(absent=1) for st in rest},
            }
            assert uow.marks.tally(SessionId("S-2")) == StatusTally(absent=len(rest) + 1)

    def test_put_many_inserts_or_replaces_and_a_replacement_bumps_the_version(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1, st2 = c.students[:3]
        self._add_sessions(uow_factory, c, _session(c, "S-1", c.alice_cs_a, MONDAY))
        present0, present1 = _mark(c, "S-1", st0), _mark(c, "S-1", st1)
        late0 = _mark(c, "S-1", st0, AttendanceStatus.LATE, source=MarkSource.MANUAL)
        absent2 = _mark(c, "S-1", st2, AttendanceStatus.ABSENT)
        excused0 = _mark(c, "S-1", st0, AttendanceStatus.EXCUSED, source=MarkSource.MANUAL)
        sid = SessionId("S-1")
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.put_many([present0, present1])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.marks.find(sid, st0.id) == present0
            uow.marks.put_many([late0, absent2])
            assert uow.marks.find(sid, st0.id) == dataclasses.replace(late0, version=1)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.put_many([excused0])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.marks.list_for_session(sid)) == [
                dataclasses.replace(excused0, version=2),
                present1,
                absent2,
            ]
            assert uow.marks.tally(sid) == StatusTally(present=1, absent=1, excused=1)
            uow.marks.put_many([])

    def test_marks_are_listed_by_session_then_student(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st = c.students
        self._add_sessions(
            uow_factory,
            c,
            _session(c, "S-2", c.alice_cs_a, MONDAY),
            _session(c, "S-1", c.alice_cs_a, _day(1)),
            _session(c, "S-3", c.bob_ma_a, MONDAY, time(10)),
        )
        marks = [
            _mark(c, "S-2", st[3]),
            _mark(c, "S-1", st[2], AttendanceStatus.ABSENT),
            _mark(c, "S-2", st[0], AttendanceStatus.LATE),
            _mark(c, "S-1", st[4]),
            _mark(c, "S-3", st[1]),
        ]
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.put_many(marks)
            uow.commit()
        s1, s2, s3 = SessionId("S-1"), SessionId("S-2"), SessionId("S-3")
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.marks.list_for_session(s2)) == [marks[2], marks[0]]
            assert list(uow.marks.list_for_session(SessionId("S-404"))) == []
            assert list(uow.marks.list_for_sessions([s2, s1, SessionId("S-404")])) == [
                marks[1],
                marks[3],
                marks[2],
                marks[0],
            ]
            assert list(uow.marks.list_for_sessions([])) == []
            assert uow.marks.tally(s2) == StatusTally(present=1, late=1)
            assert uow.marks.tally(s1) == StatusTally(present=1, absent=1)
            assert uow.marks.tally(SessionId("S-404")) == StatusTally()
            assert dict(uow.marks.for_student(st[0].id, [s1, s2, s3])) == {s2: marks[2]}
            assert dict(uow.marks.for_student(st[4].id, [s1])) == {s1: marks[3]}
            assert dict(uow.marks.for_student(st[4].id, [s2, s3])) == {}
            assert dict(uow.marks.for_student(st[4].id, [])) == {}

    def test_tallies_count_marks_of_completed_sessions_in_the_dates(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1, st2 = c.students[:3]
        out = c.outsider
        done = SessionStatus.COMPLETED
        self._add_sessions(
            uow_factory,
            c,
            _session(c, "S-1", c.alice_cs_a, MONDAY, status=done),
            _session(c, "S-2", c.alice_cs_a, _day(1), status=done),
            _session(c, "S-3", c.bob_ma_a, MONDAY, time(10), status=done),
            _session(c, "S-4", c.alice_cs_a, _day(2), status=SessionStatus.OPEN),
            _session(c, "S-5", c.alice_cs_a, _day(-7), status=done),
            _session(c, "S-6", c.bob_cs_b, MONDAY, status=done),
            _session(c, "S-7", c.alice_cs_a, _day(3), status=SessionStatus.CANCELLED),
        )
        pr, la, ab, ex = (
            AttendanceStatus.PRESENT,
            AttendanceStatus.LATE,
            AttendanceStatus.ABSENT,
            AttendanceStatus.EXCUSED,
        )
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.put_many(
                [
                    _mark(c, "S-1", st0, pr),
                    _mark(c, "S-1", st1, la),
                    _mark(c, "S-1", st2, ab),
                    _mark(c, "S-2", st0, ex),
                    _mark(c, "S-2", st1, pr),
                    _mark(c, "S-3", st0, ab),
                    _mark(c, "S-4", st0, pr),
                    _mark(c, "S-5", st0, pr),
                    _mark(c, "S-6", out, pr),
                    _mark(c, "S-7", st0, pr),
                ]
            )
            uow.commit()
        cs, ma = c.cs101.code, c.ma101.code
        with uow_factory().for_institution(c.id) as uow:
            everyone = _nonzero_tallies(uow.marks.tallies(WEEK))
            assert everyone == {
                (st0.id, cs): StatusTally(present=1, excused=1),
                (st1.id, cs): StatusTally(present=1, late=1),
                (st2.id, cs): StatusTally(absent=1),
                (st0.id, ma): StatusTally(absent=1),
                (out.id, cs): StatusTally(present=1),
            }
            assert _nonzero_tallies(uow.marks.tallies(WEEK, student_id=st0.id)) == {
                (st0.id, cs): StatusTally(present=1, excused=1),
                (st0.id, ma): StatusTally(absent=1),
            }
            by_a = _nonzero_tallies(uow.marks.tallies(WEEK, section_id=c.section_a.id))
            assert by_a == {k: v for k, v in everyone.items() if k[0] != out.id}
            assert _nonzero_tallies(uow.marks.tallies(WEEK, section_id=c.section_b.id)) == {
                (out.id, cs): StatusTally(present=1)
            }
            assert _nonzero_tallies(uow.marks.tallies(DateRange(_day(-7), _day(1)))) == {
                (st0.id, cs): StatusTally(present=2, excused=1),
                (st1.id, cs): StatusTally(present=1, late=1),
                (st2.id, cs): StatusTally(absent=1),
                (st0.id, ma): StatusTally(absent=1),
                (out.id, cs): StatusTally(present=1),
            }
            assert _nonzero_tallies(uow.marks.tallies(DateRange(_day(1), _day(6)))) == {
                (st0.id, cs): StatusTally(excused=1),
                (st1.id, cs): StatusTally(present=1),
            }
            session = uow.sessions.get(SessionId("S-4"))
            uow.sessions.update(dataclasses.replace(session, status=done))
            assert _nonzero_tallies(uow.marks.tallies(WEEK, student_id=st0.id)) == {
                (st0.id, cs): StatusTally(present=2, excused=1),
                (st0.id, ma): StatusTally(absent=1),
            }

    def test_marks_follow_every_update_of_their_session_within_one_transaction(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1 = c.students[:2]
        self._add_sessions(uow_factory, c, _session(c, "S-1", c.alice_cs_a, MONDAY))
        sid, cs = SessionId("S-1"), c.cs101.code
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.put_many([_mark(c, "S-1", st0), _mark(c, "S-1", st1, AttendanceStatus.LATE)])
            session = uow.sessions.get(sid)
            completed = uow.sessions.update(
                dataclasses.replace(session, status=SessionStatus.COMPLETED, completed_at=T0)
            )
            counted = {(st0.id, cs): StatusTally(present=1), (st1.id, cs): StatusTally(late=1)}
            assert _nonzero_tallies(uow.marks.tallies(WEEK)) == counted
            tallied = uow.sessions.update(
                dataclasses.replace(completed, tally=StatusTally(present=1, late=1))
            )
            assert _nonzero_tallies(uow.marks.tallies(WEEK)) == counted
            moved = uow.sessions.update(dataclasses.replace(tallied, date=_day(7)))
            assert _nonzero_tallies(uow.marks.tallies(WEEK)) == {}
            uow.sessions.update(dataclasses.replace(moved, date=MONDAY))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert _nonzero_tallies(uow.marks.tallies(WEEK)) == counted

    def test_the_audit_trail_keeps_the_order_it_was_written_in(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st = c.students
        self._add_sessions(
            uow_factory,
            c,
            _session(c, "S-1", c.alice_cs_a, MONDAY),
            _session(c, "S-2", c.bob_ma_a, MONDAY, time(10)),
        )

        def entry(session: str, student: int, minutes: int, actor: str) -> AuditEntry:
            return _audit(c, session, st[student], actor=actor, at=T0 + timedelta(minutes=minutes))

        first = [entry("S-1", 3, 5, "alice"), entry("S-1", 0, 1, "alice")]
        between = [entry("S-2", 2, 9, "bob")]
        second = [entry("S-1", 1, 0, "admin"), entry("S-1", 3, 2, "alice")]
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many(first)
            uow.audit.add_many(between)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many(second)
            uow.audit.add_many([])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.audit.list_for_session(SessionId("S-1"))) == first + second
            assert list(uow.audit.list_for_session(SessionId("S-2"))) == between
            assert list(uow.audit.list_for_session(SessionId("S-404"))) == []

    def test_audit_pages_of_a_session_come_newest_written_first_with_the_total(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st = c.students
        s1, s2 = SessionId("S-1"), SessionId("S-2")
        self._add_sessions(
            uow_factory,
            c,
            _session(c, s1, c.alice_cs_a, MONDAY),
            _session(c, s2, c.bob_ma_a, MONDAY, time(10)),
        )

        def entry(session: str, student: int, minutes: int, actor: str) -> AuditEntry:
            return _audit(c, session, st[student], actor=actor, at=T0 + timedelta(minutes=minutes))

        # the order written decides, not ``at``: the later batch carries earlier instants,
        # and a batch shares one instant (as one marking request writes it)
        first = [entry(s1, 3, 5, "alice"), entry(s1, 0, 5, "alice")]
        between = [entry(s2, 0, 9, "bob")]
        second = [entry(s1, 1, 0, "admin"), entry(s1, 3, 2, "alice")]
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many(first)
            uow.audit.add_many(between)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many(second)
            uow.commit()
        newest = (second[1], second[0], first[1], first[0])
        with uow_factory().for_institution(c.id) as uow:
            pages = uow.audit
            assert pages.page_for_session(s1, 10) == Slice(newest, 4)
            assert pages.page_for_session(s1, 4) == Slice(newest, 4)
            assert pages.page_for_session(s1, 1) == Slice(newest[:1], 4)
            assert pages.page_for_session(s1, 2, 1) == Slice(newest[1:3], 4)
            assert pages.page_for_session(s1, 2, 3) == Slice(newest[3:], 4)
            assert pages.page_for_session(s1, 10, 4) == Slice((), 4)
            assert pages.page_for_session(s1, 10, 1000) == Slice((), 4)
            assert pages.page_for_session(s2, 10) == Slice(tuple(between), 1)
            assert pages.page_for_session(SessionId("S-404"), 10) == Slice((), 0)
            # a page sees the transaction's own, uncommitted entries
            latest = entry(s1, 2, 30, "admin")
            pages.add_many([latest])
            assert pages.page_for_session(s1, 2) == Slice((latest, newest[0]), 5)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.audit.page_for_session(s1, 10) == Slice(newest, 4)

    def test_a_completions_entry_without_a_student_is_the_sessions_and_no_students(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0 = c.students[0]
        s1 = SessionId("S-1")
        self._add_sessions(uow_factory, c, _session(c, s1, c.alice_cs_a, MONDAY))
        marked = _audit(c, s1, st0, actor="alice", at=T0)
        completed = AuditEntry.of_completion(c.id, s1, "alice", T0 + timedelta(minutes=50), 4)
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many([marked])
            uow.audit.add_many([completed])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.audit.list_for_session(s1)) == [marked, completed]
            assert uow.audit.page_for_session(s1, 10) == Slice((completed, marked), 2)
            assert uow.audit.page_for_student(st0.id, 10) == Slice((marked,), 1)
            assert uow.audit.page_for_student(st0.id, 10, teacher=c.alice.id) == Slice((marked,), 1)

    def test_a_students_audit_pages_span_sessions_and_narrow_to_a_teachers_sessions(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1 = c.students[0], c.students[1]
        s1, s2, s3 = SessionId("S-1"), SessionId("S-2"), SessionId("S-3")
        self._add_sessions(
            uow_factory,
            c,
            _session(c, s1, c.alice_cs_a, MONDAY),
            _session(c, s2, c.bob_ma_a, MONDAY, time(10)),
            _session(c, s3, c.alice_cs_a, _day(1)),
        )
        a = _audit(c, s1, st0, actor="alice", at=T0)
        b = _audit(c, s2, st0, actor="bob", at=T0 + timedelta(hours=1))
        other = _audit(c, s1, st1, actor="alice", at=T0)
        d = _audit(c, s3, st0, actor="alice", at=T0 + timedelta(days=1))
        e = _audit(c, s2, st0, actor="admin", at=T0 + timedelta(days=1), reason="typo")
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many([a, b, other])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many([d, e])
            uow.commit()
        alice, bob = c.alice.id, c.bob.id
        with uow_factory().for_institution(c.id) as uow:
            pages = uow.audit
            assert pages.page_for_student(st0.id, 10) == Slice((e, d, b, a), 4)
            assert pages.page_for_student(st0.id, 2, 1) == Slice((d, b), 4)
            assert pages.page_for_student(st0.id, 10, 4) == Slice((), 4)
            assert pages.page_for_student(st1.id, 10) == Slice((other,), 1)
            assert pages.page_for_student(st0.id, 10, teacher=alice) == Slice((d, a), 2)
            assert pages.page_for_student(st0.id, 1, 1, teacher=alice) == Slice((a,), 2)
            assert pages.page_for_student(st0.id, 10, teacher=bob) == Slice((e, b), 2)
            assert pages.page_for_student(st1.id, 10, teacher=bob) == Slice((), 0)
            assert pages.page_for_student(st0.id, 10, teacher=FacultyId("F404")) == Slice((), 0)
            assert pages.page_for_student(StudentId("N404"), 10) == Slice((), 0)
        # the teacher of record is the session's as stored now: bob takes over S-3
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.update(dataclasses.replace(uow.sessions.get(s3), teacher_id=bob))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.audit.page_for_student(st0.id, 10, teacher=alice) == Slice((a,), 1)
            assert uow.audit.page_for_student(st0.id, 10, teacher=bob) == Slice((e, d, b), 3)
