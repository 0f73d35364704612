"""Part of the persistence contract. Removing rows, rows still in use, and references to missing
rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, time

import pytest

from ams_core.domain import (
    AssignmentId,
    ConflictError,
    DeviceBinding,
    DeviceId,
    FacultyId,
    Holiday,
    NotFoundError,
    SectionId,
    SessionId,
    SlotId,
    Student,
    StudentId,
    SubjectCode,
    TeachingAssignment,
    TermId,
    WeeklySlot,
)
from ams_core.ports import UnitOfWork, UnitOfWorkFactory
from ams_core.testing.builders import MONDAY, SmallCollege
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    T0,
    WEEK,
    _mark,
    _push,
    _session,
)
from ams_core.testing.contracts.persistence._cases import (
    _IN_USE_CASES,
    _REMOVABLE_CASES,
    _full_faculty,
    _InUseCase,
    _KeyedCase,
    _spare_assignment,
    _spare_section,
    _spare_session,
    _spare_student,
    _spare_subject,
    _spare_teacher,
)
from ams_core.testing.contracts.persistence._tenants import _tenant_view


class RemovalContract(ContractHelpers):
    """Removing rows, rows still in use, and references to missing rows."""

    # -- removal ----------------------------------------------------------------------------
    @pytest.mark.parametrize("case", _REMOVABLE_CASES, ids=lambda c: c.name)
    def test_remove_deletes_the_row_and_is_false_when_there_is_none(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        key = case.key(entity)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).remove(case.missing) is False
            assert case.repo(uow).remove(key) is True
            assert case.repo(uow).find(key) is None
            assert entity not in list(case.listing(case.repo(uow)))
            with pytest.raises(NotFoundError):
                case.repo(uow).get(key)
            assert case.repo(uow).remove(key) is False
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).find(key) is None
            assert entity not in list(case.listing(case.repo(uow)))
            assert case.repo(uow).remove(key) is False
            case.repo(uow).add(entity)  # the key is free again
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(key) == entity

    @pytest.mark.parametrize("case", _REMOVABLE_CASES, ids=lambda c: c.name)
    def test_an_uncommitted_or_rolled_back_remove_keeps_the_row(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        key = case.key(entity)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).remove(key) is True
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(key) == entity
            assert case.repo(uow).remove(key) is True
            uow.rollback()
            assert case.repo(uow).get(key) == entity
            assert entity in list(case.listing(case.repo(uow)))
            # a row added and removed in one transaction leaves nothing behind
            assert case.repo(uow).remove(key) is True
            case.repo(uow).add(entity)
            assert case.repo(uow).remove(key) is True
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).find(key) is None

    def test_removal_frees_emails_and_natural_keys_and_a_rollback_takes_them_back(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        student, teacher = c.students[4], _full_faculty(c)
        assignment = _spare_assignment(c)
        with uow_factory().for_institution(c.id) as uow:
            uow.faculty.add(teacher)
            uow.assignments.add(assignment)
            uow.commit()
        twin_student = dataclasses.replace(student, id=StudentId("N-TWIN"))
        twin_teacher = dataclasses.replace(teacher, id=FacultyId("F-TWIN"))
        twin_assignment = dataclasses.replace(assignment, id=AssignmentId("A-TWIN"))
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.remove(student.id) is True
            assert uow.faculty.remove(teacher.id) is True
            assert uow.assignments.remove(assignment.id) is True
            assert uow.students.find_by_email(student.email) is None
            assert student.id not in uow.students.ids_in_section(c.section_a.id)
            assert student not in list(uow.students.list(c.section_a.id))
            assert uow.faculty.find_by_email(teacher.email) is None
            assert dict(uow.faculty.find_many([teacher.id])) == {}
            assert list(uow.assignments.list(section_id=c.section_b.id)) == [c.bob_cs_b]
            uow.students.add(twin_student)
            uow.faculty.add(twin_teacher)
            uow.assignments.add(twin_assignment)
            assert uow.students.find_by_email(student.email) == twin_student
            assert uow.faculty.find_by_email(teacher.email) == twin_teacher
            uow.rollback()
            assert uow.students.find_by_email(student.email) == student
            assert uow.students.ids_in_section(c.section_a.id) == {s.id for s in c.students}
            assert list(uow.students.list(c.section_a.id)) == list(c.students)
            assert uow.faculty.find_by_email(teacher.email) == teacher
            assert uow.assignments.find(twin_assignment.id) is None
            uow.commit()
        twins: list[Callable[[UnitOfWork], None]] = [
            lambda u: u.students.add(twin_student),
            lambda u: u.faculty.add(twin_teacher),
            lambda u: u.assignments.add(twin_assignment),
        ]
        for twin in twins:
            with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
                twin(uow)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.get(student.id) == student
            assert uow.faculty.get(teacher.id) == teacher
            assert uow.assignments.get(assignment.id) == assignment
            assert uow.students.find(twin_student.id) is None

    @pytest.mark.parametrize("case", _IN_USE_CASES, ids=lambda c: c.name)
    def test_removing_a_row_others_refer_to_is_refused_and_the_transaction_goes_on(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _InUseCase
    ) -> None:
        c = college
        with uow_factory().for_institution(c.id) as uow:
            case.refer(uow, c)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            before = case.lookups(uow, c)
            with pytest.raises(ConflictError) as refused:
                case.remove(uow, c)
            assert refused.value.code == "in_use"
            assert case.lookups(uow, c) == before
            uow.holidays.add(Holiday(c.id, date(2026, 12, 24), "after the refusal"))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert case.lookups(uow, c) == before
            assert [h.name for h in uow.holidays.list()] == ["after the refusal"]

    def test_removing_a_missing_row_is_false_whatever_names_its_key(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        ghost_student, ghost_subject = StudentId("N-GHOST"), SubjectCode("GHOST101")
        with uow_factory().for_institution(c.id) as uow:
            # neither a check-in failure nor a session's subject needs the row to exist
            uow.sessions.add(_spare_session(c, subject_code=ghost_subject))
            uow.code_failures.record_failure(SessionId("S-SPARE"), ghost_student)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.remove(ghost_student) is False
            assert uow.subjects.remove(ghost_subject) is False
            assert uow.code_failures.failures(SessionId("S-SPARE"), ghost_student) == 1

    def test_a_timetable_comes_apart_from_the_bottom_up(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        section, teacher, subject = _spare_section(c), _spare_teacher(c), _spare_subject(c)
        student = _spare_student(c, section.id)
        assignment = _spare_assignment(
            c, teacher=teacher.id, subject=subject.code, section=section.id
        )
        slot = WeeklySlot(SlotId("A-SPARE-1"), c.id, assignment.id, 6, time(8), time(9))

        def build(uow: UnitOfWork) -> None:
            uow.sections.add(section)
            uow.students.add(student)
            uow.faculty.add(teacher)
            uow.subjects.add(subject)
            uow.assignments.add(assignment)
            uow.slots.add(slot)

        with uow_factory().for_institution(c.id) as uow:
            build(uow)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            parents: list[Callable[[], bool]] = [
                lambda: uow.sections.remove(section.id),
                lambda: uow.faculty.remove(teacher.id),
                lambda: uow.subjects.remove(subject.code),
                lambda: uow.assignments.remove(assignment.id),
            ]
            for remove in parents:
                with pytest.raises(ConflictError):
                    remove()
            assert uow.slots.remove(slot.id) is True
            assert uow.assignments.remove(assignment.id) is True
            assert uow.faculty.remove(teacher.id) is True
            assert uow.subjects.remove(subject.code) is True
            with pytest.raises(ConflictError):
                uow.sections.remove(section.id)  # the student is still in it
            assert uow.students.remove(student.id) is True
            assert uow.sections.remove(section.id) is True
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sections.find(section.id) is None
            assert uow.students.find(student.id) is None
            assert uow.faculty.find(teacher.id) is None
            assert uow.subjects.find(subject.code) is None
            assert uow.assignments.find(assignment.id) is None
            assert uow.slots.find(slot.id) is None
            build(uow)  # every key and email is free again
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.find_by_email(student.email) == student
            assert uow.slots.get(slot.id) == slot

    def test_removing_a_slot_leaves_the_sessions_generated_from_it(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        generated = _session(c, "S-GEN", c.alice_cs_a, MONDAY, slot="A1-1")
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add(generated)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.slots.remove(SlotId("A1-1")) is True
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.slots.find(SlotId("A1-1")) is None
            assert uow.sessions.get(generated.id) == generated
            assert uow.sessions.generated_keys(WEEK) == {(SlotId("A1-1"), MONDAY)}
            assert list(uow.sessions.list_for_assignment(c.alice_cs_a.id)) == [generated]

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_removes_another_tenants_rows(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        # students the other tenant refers to, under ids this tenant does not refer to
        marked, failed = theirs.students[3], theirs.students[4]
        with uow_factory().for_institution(theirs.id) as uow:
            uow.marks.put_many([_mark(theirs, "S-SHARED", marked)])
            uow.code_failures.record_failure(SessionId("S-SHARED"), failed.id)
            uow.commit()
        with uow_factory().for_institution(theirs.id) as uow:
            their_view = _tenant_view(uow, theirs)
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.sections.remove(SectionId(f"{other}-ONLY")) is False
            assert uow.students.remove(StudentId(f"N{other}0001")) is False
            assert uow.faculty.remove(FacultyId(f"F{other}")) is False
            assert uow.subjects.remove(SubjectCode(f"SUB{other}")) is False
            assert uow.assignments.remove(AssignmentId(f"AS{other}")) is False
            assert uow.slots.remove(SlotId(f"AS{other}-1")) is False
            assert uow.terms.remove(TermId(f"T{other}")) is False
            # the same ids here: this tenant's rows go, whatever refers to the other's
            assert uow.students.remove(marked.id) is True
            assert uow.students.remove(failed.id) is True
            assert uow.slots.remove(SlotId("A3-5")) is True
            assert uow.terms.remove(mine.term.id) is True
            with pytest.raises(ConflictError):
                uow.students.remove(mine.students[0].id)
            uow.commit()
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.students.find(marked.id) is None
            assert uow.students.find(failed.id) is None
            assert uow.terms.find(mine.term.id) is None
        with uow_factory().for_institution(theirs.id) as uow:
            assert _tenant_view(uow, theirs) == their_view
            assert uow.students.get(marked.id) == marked
            assert uow.terms.get(theirs.term.id) == theirs.term

    # -- references -------------------------------------------------------------------------
    def test_rows_pointing_at_missing_rows_are_refused_like_foreign_keys(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        attempts: list[Callable[[UnitOfWork], object]] = [
            lambda u: u.students.add(
                Student(StudentId("NX"), c.id, "X", "nx@a.edu", SectionId("NO-SUCH-SECTION"))
            ),
            lambda u: u.assignments.add(
                TeachingAssignment(
                    AssignmentId("AX"), c.id, FacultyId("NO-ONE"), c.cs101.code, c.section_a.id
                )
            ),
            lambda u: u.slots.add(
                WeeklySlot(SlotId("SX"), c.id, AssignmentId("NO-SUCH"), 1, time(9), time(10))
            ),
            lambda u: u.devices.add(
                DeviceBinding(c.id, StudentId("NO-SUCH"), DeviceId("device-x-0001"), T0)
            ),
            lambda u: u.push_tokens.put(
                dataclasses.replace(_push(c, "tok-x"), student_id=StudentId("NO-SUCH"))
            ),
            lambda u: u.push_tokens.put(
                dataclasses.replace(_push(c, "tok-x"), faculty_id=FacultyId("NO-ONE"))
            ),
        ]
        for attempt in attempts:
            with uow_factory().for_institution(c.id) as uow, pytest.raises(NotFoundError):
                attempt(uow)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.find(StudentId("NX")) is None
            assert uow.assignments.find(AssignmentId("AX")) is None
            assert uow.slots.find(SlotId("SX")) is None
            assert list(uow.push_tokens.for_students([StudentId("NO-SUCH")])) == []
            assert list(uow.push_tokens.for_faculty([FacultyId("NO-ONE")])) == []
