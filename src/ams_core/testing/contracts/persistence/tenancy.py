"""Part of the persistence contract. Tenant isolation: each institution scope sees and writes only
its own rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

import pytest

from ams_core.domain import (
    AmsError,
    AssignmentId,
    AssignmentSummary,
    DeliveryReport,
    DeviceBinding,
    DeviceId,
    FacultyId,
    Holiday,
    NotFoundError,
    NotificationId,
    SectionId,
    SessionCounts,
    SessionId,
    SlotId,
    StatusTally,
    StudentId,
    SubjectCode,
    TermId,
)
from ams_core.ports import (
    CheckInContext,
    FailureCounts,
    SecurityEventFilter,
    Slice,
    UnitOfWork,
    UnitOfWorkFactory,
)
from ams_core.testing.builders import MONDAY, SmallCollege
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    T0,
    WEEK,
    _day,
    _domain,
)
from ams_core.testing.contracts.persistence._foreign import (
    _FOREIGN_WRITES,
    _TENANT_READS,
    _ForeignWrite,
)
from ams_core.testing.contracts.persistence._tenants import (
    _empty_summary,
    _nonzero_counts,
    _nonzero_tallies,
    _refused_or_empty,
    _shared_status,
)


class TenancyContract(ContractHelpers):
    """Tenant isolation: each institution scope sees and writes only its own rows."""

    # -- tenant isolation -------------------------------------------------------------------
    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_scope_sees_only_its_own_institution(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.institutions.find(theirs.id) is None
            assert list(uow.institutions.list()) == [mine.institution]
            assert uow.institutions.find_by_domain(_domain(theirs)) is None
            assert uow.institutions.find_by_domain(_domain(mine)) == mine.institution
            assert uow.institutions.get(mine.id) == mine.institution
            with pytest.raises(NotFoundError):
                uow.institutions.get(theirs.id)

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_people(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        their_section = SectionId(f"{other}-ONLY")
        their_student = StudentId(f"N{other}0001")
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.sections.find(their_section) is None
            assert [s.id for s in uow.sections.list()] == [f"{me}-ONLY", "E2-CSE-A", "E2-CSE-B"]
            assert {s.institution_id for s in uow.sections.list()} == {mine.id}
            assert uow.sections.get(mine.section_a.id) == mine.section_a
            assert uow.students.find(their_student) is None
            assert uow.students.find_by_email(f"n{other.lower()}0001@{_domain(theirs)}") is None
            assert uow.students.find_by_email(theirs.students[0].email) is None
            assert uow.students.get(mine.students[0].id) == mine.students[0]
            assert {s.institution_id for s in uow.students.list()} == {mine.id}
            assert {s.id for s in uow.students.list()} == {
                *(s.id for s in mine.students),
                mine.outsider.id,
                StudentId(f"N{me}0001"),
            }
            assert list(uow.students.list(their_section)) == []
            assert uow.students.ids_in_section(their_section) == frozenset()
            assert uow.faculty.find(FacultyId(f"F{other}")) is None
            assert uow.faculty.find_by_email(theirs.alice.email) is None
            assert dict(uow.faculty.find_many([FacultyId(f"F{other}"), mine.alice.id])) == {
                mine.alice.id: mine.alice
            }
            assert [f.id for f in uow.faculty.list()] == ["F001", "F002", f"F{me}"]
            assert {f.institution_id for f in uow.faculty.list()} == {mine.id}
            with pytest.raises(NotFoundError):
                uow.students.get(their_student)

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_teaching(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine = tenants[me]
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.subjects.find(SubjectCode(f"SUB{other}")) is None
            assert dict(uow.subjects.find_many([SubjectCode(f"SUB{other}")])) == {}
            assert [s.code for s in uow.subjects.list()] == ["CS101", "MA101", f"SUB{me}"]
            assert uow.assignments.find(AssignmentId(f"AS{other}")) is None
            assert [a.id for a in uow.assignments.list()] == ["A1", "A2", "A3", f"AS{me}"]
            assert list(uow.assignments.list(faculty_id=FacultyId(f"F{other}"))) == []
            assert list(uow.assignments.list(section_id=SectionId(f"{other}-ONLY"))) == []
            assert uow.slots.find(SlotId(f"AS{other}-1")) is None
            assert len(uow.slots.list()) == len(mine.slots) + 1
            assert {s.institution_id for s in uow.slots.list()} == {mine.id}
            assert uow.terms.find(TermId(f"T{other}")) is None
            assert [t.id for t in uow.terms.list()] == ["T1", f"T{me}"]
            assert list(uow.holidays.list()) == [
                Holiday(mine.id, _day(4 if me == "A" else 3), f"Holiday {me}")
            ]

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_sessions(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine = tenants[me]
        a1, a2 = mine.alice_cs_a.id, mine.bob_ma_a.id
        own_assignment, their_assignment = AssignmentId(f"AS{me}"), AssignmentId(f"AS{other}")
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.sessions.find(SessionId(f"S-{other}-ONLY")) is None
            assert uow.sessions.find(SessionId(f"S-{other}-OPEN")) is None
            with pytest.raises(NotFoundError):
                uow.sessions.get(SessionId(f"S-{other}-ONLY"))
            shared = uow.sessions.get(SessionId("S-SHARED"))
            assert (shared.institution_id, shared.topic) == (mine.id, f"Topic {me}")
            upcoming = uow.sessions.get(SessionId(f"S-{me}-NEXT"))
            ids = {"S-SHARED", f"S-{me}-OPEN", f"S-{me}-NEXT"}
            assert {s.id for s in uow.sessions.list_for_section(mine.section_a.id, WEEK)} == ids
            assert list(uow.sessions.list_for_section(SectionId(f"{other}-ONLY"), WEEK)) == []
            with pytest.raises(NotFoundError):
                uow.sessions.list_for_student(StudentId(f"N{other}0001"), WEEK)
            own = uow.sessions.list_for_student(mine.students[0].id, WEEK)
            assert {k.id for k in own} == ids
            # the same student id has a mark in the same session id in both institutions
            assert {k.id: k.my_status for k in own if k.my_status} == {
                SessionId("S-SHARED"): _shared_status(me)
            }
            assert {k.topic for k in own if k.id == "S-SHARED"} == {f"Topic {me}"}
            assert list(uow.sessions.list_for_teacher(FacultyId(f"F{other}"), WEEK)) == []
            assert [s.id for s in uow.sessions.list_for_teacher(mine.alice.id, WEEK)] == [
                "S-SHARED",
                f"S-{me}-NEXT",
            ]
            assert list(uow.sessions.list_for_assignment(their_assignment)) == []
            assert {s.institution_id for s in uow.sessions.list_for_assignment(a1)} == {mine.id}
            assert uow.sessions.generated_keys(WEEK) == {
                (SlotId("A1-1"), MONDAY),
                (SlotId("A2-1"), MONDAY),
                (SlotId("A1-4"), _day(3)),
            }
            assert [s.id for s in uow.sessions.list_open()] == [f"S-{me}-OPEN"]
            between = list(uow.sessions.list_between(WEEK))
            assert [s.id for s in between] == [
                "S-SHARED",
                f"S-{me}-OPEN",
                f"S-{me}-ONLY",
                f"S-{me}-NEXT",
            ]
            assert between[0] == shared
            assert {s.institution_id for s in between} == {mine.id}
            assert _nonzero_counts(uow.sessions.subject_counts(WEEK, MONDAY)) == {
                (mine.section_a.id, mine.cs101.code): SessionCounts(held=1, remaining=1),
                (mine.section_a.id, mine.ma101.code): SessionCounts(held=0, remaining=1),
                (SectionId(f"{me}-ONLY"), SubjectCode(f"SUB{me}")): SessionCounts(1, 0),
            }
            summaries = uow.sessions.assignment_summaries(
                [a1, a2, own_assignment, their_assignment], MONDAY, time(0)
            )
            assert summaries[a1] == AssignmentSummary(1, shared.tally, shared, upcoming)
            assert summaries[own_assignment].held == 1
            assert summaries[own_assignment].tally == StatusTally(present=1)
            assert _empty_summary(summaries.get(their_assignment))

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_marks_or_audit(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine = tenants[me]
        s0, s1 = mine.students[0].id, mine.students[1].id
        status = _shared_status(me)
        shared, their_only = SessionId("S-SHARED"), SessionId(f"S-{other}-ONLY")
        their_student, own_student = StudentId(f"N{other}0001"), StudentId(f"N{me}0001")
        with uow_factory().for_institution(mine.id) as uow:
            mark = uow.marks.find(shared, s0)
            assert mark is not None
            assert (mark.institution_id, mark.status) == (mine.id, status)
            assert uow.marks.find(their_only, their_student) is None
            marks = list(uow.marks.list_for_session(shared))
            assert [(m.institution_id, m.student_id, m.status) for m in marks] == [
                (mine.id, s0, status),
                (mine.id, s1, status),
            ]
            assert list(uow.marks.list_for_sessions([shared, their_only])) == marks
            assert uow.marks.tally(shared) == StatusTally.of([status, status])
            assert uow.marks.tally(their_only) == StatusTally()
            assert dict(uow.marks.for_student(their_student, [their_only, shared])) == {}
            assert dict(uow.marks.for_student(s0, [shared])) == {shared: mark}
            foreign = uow.marks.check_in_context(their_only, their_student)
            assert foreign == CheckInContext(None, None, None, None, 0)
            assert uow.marks.check_in_context(shared, s0).mark == mark
            cs, own_subject = mine.cs101.code, SubjectCode(f"SUB{me}")
            assert _nonzero_tallies(uow.marks.tallies(WEEK)) == {
                (s0, cs): StatusTally.of([status]),
                (s1, cs): StatusTally.of([status]),
                (own_student, own_subject): StatusTally(present=1),
            }
            assert _nonzero_tallies(uow.marks.tallies(WEEK, student_id=their_student)) == {}
            other_section = SectionId(f"{other}-ONLY")
            assert _nonzero_tallies(uow.marks.tallies(WEEK, section_id=other_section)) == {}
            audit = list(uow.audit.list_for_session(shared))
            assert [(e.institution_id, e.actor) for e in audit] == [(mine.id, f"teacher-{me}")]
            assert list(uow.audit.list_for_session(their_only)) == []
            assert uow.audit.page_for_session(shared, 10) == Slice(tuple(audit), 1)
            assert uow.audit.page_for_session(their_only, 10) == Slice((), 0)
            assert uow.audit.page_for_student(s0, 10) == Slice(tuple(audit), 1)
            alice = mine.alice.id
            assert uow.audit.page_for_student(s0, 10, teacher=alice) == Slice(tuple(audit), 1)
            assert uow.audit.page_for_student(their_student, 10) == Slice((), 0)

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_devices_counters_events_or_outbox(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        s0, shared = mine.students[0].id, SessionId("S-SHARED")
        own_count, their_count = (1, 3) if me == "A" else (3, 1)
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.devices.for_device(DeviceId(f"device-{other}-0001")) is None
            assert uow.devices.for_device(DeviceId(f"device-{other}-only")) is None
            assert uow.devices.for_student(StudentId(f"N{other}0001")) is None
            assert uow.devices.for_student(s0) == DeviceBinding(
                mine.id, s0, DeviceId(f"device-{me}-0001"), T0
            )
            assert uow.code_failures.failures(shared, s0) == own_count
            assert uow.code_failures.record_failure(shared, s0) == FailureCounts(
                student=own_count + 1, session=own_count + 1
            )
            uow.commit()
            assert [e.actor for e in uow.security_events.list()] == [f"actor-{me}"]
            page = uow.security_events.page(SecurityEventFilter(), 10)
            assert ([e.actor for e in page.items], page.total) == ([f"actor-{me}"], 1)
            assert [n.id for n in uow.outbox.pending()] == [f"N-{me}"]
            with pytest.raises(NotFoundError):
                uow.outbox.mark_delivered(NotificationId(f"N-{other}"), T0, DeliveryReport(1))
        with uow_factory().for_institution(theirs.id) as uow:
            assert uow.code_failures.failures(shared, s0) == their_count
            assert [n.id for n in uow.outbox.pending()] == [f"N-{other}"]

    def test_the_platform_scope_sees_every_institution_and_the_whole_outbox(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a, b = tenants["A"], tenants["B"]
        with uow_factory().for_platform() as uow:
            assert list(uow.institutions.list()) == [a.institution, b.institution]
            assert uow.institutions.get(b.id) == b.institution
            assert uow.institutions.find_by_domain("b.edu") == b.institution
            assert uow.institutions.find_by_domain("a.edu") == a.institution
            assert {n.id for n in uow.outbox.pending()} == {"N-A", "N-B"}
            uow.outbox.mark_delivered(NotificationId("N-B"), T0, DeliveryReport(delivered=1))
            uow.commit()
        with uow_factory().for_institution(b.id) as uow:
            assert list(uow.outbox.pending()) == []
        with uow_factory().for_institution(a.id) as uow:
            assert [n.id for n in uow.outbox.pending()] == ["N-A"]

    @pytest.mark.parametrize("read", [pytest.param(r, id=n) for n, r in _TENANT_READS])
    def test_tenant_repositories_find_nothing_in_the_platform_scope(
        self,
        uow_factory: UnitOfWorkFactory,
        tenants: dict[str, SmallCollege],
        read: Callable[[UnitOfWork], object],
    ) -> None:
        with uow_factory().for_platform() as uow:
            assert _refused_or_empty(read, uow)

    @pytest.mark.parametrize("write", [pytest.param(w, id=n) for n, w in _FOREIGN_WRITES])
    def test_writing_another_institutions_row_is_refused(
        self,
        uow_factory: UnitOfWorkFactory,
        tenants: dict[str, SmallCollege],
        write: _ForeignWrite,
    ) -> None:
        before = self._views(uow_factory, tenants)
        with uow_factory().for_institution(tenants["A"].id) as uow, pytest.raises(AmsError):
            write(uow, tenants["B"])
        assert self._views(uow_factory, tenants) == before
