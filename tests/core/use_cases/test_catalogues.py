"""The catalogues of reference data: sections, students, faculty, subjects, teaching
assignments, weekly slots and terms (PRODUCT.md §2.2, ADR 0012).

The small college: section A (five students) and B (one), alice teaching CS101 to A at
09:00, bob MA101 to A at 10:00 and CS101 to B at 09:00, Monday to Friday.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import (
    AssignmentId,
    AttendanceMark,
    AttendanceStatus,
    ClashKind,
    ConcurrencyError,
    ConflictError,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    MarkSource,
    NotFoundError,
    PermissionDeniedError,
    ScheduleConflictError,
    Section,
    SectionId,
    SlotId,
    StudentId,
    SubjectCode,
    SubjectKind,
    TermId,
    ValidationError,
)
from ams_core.testing.builders import (
    OPERATOR,
    SmallCollege,
    faculty_principal,
    seed_small_college,
)
from ams_core.use_cases import (
    AssignmentCatalogue,
    FacultyCatalogue,
    Page,
    PageRequest,
    SectionCatalogue,
    SlotCatalogue,
    StudentCatalogue,
    SubjectCatalogue,
    TermCatalogue,
)
from tests.core.use_cases.helpers import App


class Catalogues:
    def __init__(
        self, uow: InMemoryUnitOfWork, clock: FixedClock, random: SeededRandomSource
    ) -> None:
        self.sections = SectionCatalogue(uow, clock, random)
        self.students = StudentCatalogue(uow, clock, random)
        self.faculty = FacultyCatalogue(uow, clock, random)
        self.subjects = SubjectCatalogue(uow, clock, random)
        self.assignments = AssignmentCatalogue(uow, clock, random)
        self.slots = SlotCatalogue(uow, clock, random)
        self.terms = TermCatalogue(uow, clock, random)


@pytest.fixture
def cat(
    uow: InMemoryUnitOfWork, clock: FixedClock, random_source: SeededRandomSource
) -> Catalogues:
    return Catalogues(uow, clock, random_source)


@pytest.fixture
def app(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    random_source: SeededRandomSource,
    college: SmallCollege,
) -> App:
    return App(uow, clock, random_source, college)


def fields(error: ValidationError) -> set[str]:
    return {p.field for p in error.problems}


# -- paging -----------------------------------------------------------------------------
@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (501, 0), (10, -1)])
def test_a_page_request_is_1_to_500_items_from_a_non_negative_offset(
    limit: int, offset: int
) -> None:
    with pytest.raises(ValidationError) as raised:
        PageRequest(limit, offset)
    assert fields(raised.value) <= {"limit", "offset"}


def test_a_page_is_cut_from_the_whole_list_and_knows_its_total() -> None:
    page = Page.of(list(range(7)), PageRequest(limit=3, offset=5))

    assert page == Page((5, 6), total=7, limit=3, offset=5)
    assert Page.of(list(range(7)), PageRequest(limit=3, offset=9)).items == ()


# -- the generic behaviour, through sections --------------------------------------------
def test_an_admin_creates_updates_and_deletes_a_section(
    cat: Catalogues, college: SmallCollege
) -> None:
    admin = college.admin
    created = cat.sections.create(
        admin, {"id": " E3-ECE-A ", "year": 3, "department": " ECE ", "name": "A"}
    )
    assert created == Section(SectionId("E3-ECE-A"), college.id, 3, "ECE", "A")

    updated = cat.sections.update(admin, created.id, {"name": "Alpha"}, expected_version=0)
    assert (updated.name, updated.version) == ("Alpha", 1)
    assert cat.sections.get(college.as_student(), created.id) == updated

    cat.sections.delete(admin, created.id)
    with pytest.raises(NotFoundError):
        cat.sections.get(admin, created.id)


def test_lists_filter_search_and_page(cat: Catalogues, college: SmallCollege) -> None:
    admin = college.admin
    cat.sections.create(admin, {"id": "E3-ECE-A", "year": 3, "department": "ECE", "name": "A"})

    assert [s.id for s in cat.sections.list(admin).items] == ["E2-CSE-A", "E2-CSE-B", "E3-ECE-A"]
    assert cat.sections.list(admin, {"year": 2}).total == 2
    assert [s.id for s in cat.sections.list(admin, {"department": "ece"}).items] == ["E3-ECE-A"]
    assert [s.id for s in cat.sections.list(admin, query="cse-b").items] == ["E2-CSE-B"]
    assert [s.id for s in cat.sections.list(admin, {"year": None}).items][:1] == ["E2-CSE-A"]
    page = cat.sections.list(admin, page=PageRequest(limit=1, offset=1))
    assert ([s.id for s in page.items], page.total) == (["E2-CSE-B"], 3)


def test_unknown_filters_fields_and_changes_to_the_key_are_refused(
    cat: Catalogues, college: SmallCollege
) -> None:
    admin = college.admin
    with pytest.raises(ValidationError) as raised:
        cat.sections.list(admin, {"colour": "red"})
    assert fields(raised.value) == {"colour"}
    with pytest.raises(ValidationError) as raised:
        cat.sections.create(
            admin,
            {"id": "X", "year": 1, "department": "D", "name": "N", "institution_id": "inst-b"},
        )
    assert fields(raised.value) == {"institution_id"}
    with pytest.raises(ValidationError) as raised:
        cat.sections.update(admin, college.section_a.id, {"id": "E9", "version": 7})
    assert fields(raised.value) == {"id", "version"}
    with pytest.raises(ValidationError) as raised:
        cat.sections.create(admin, {"id": "X", "name": "N"})
    assert fields(raised.value) == {"year", "department"}


def test_invalid_values_are_all_named_at_once(cat: Catalogues, college: SmallCollege) -> None:
    with pytest.raises(ValidationError) as raised:
        cat.sections.create(
            college.admin, {"id": " ", "year": 0, "department": "", "name": "x" * 101}
        )

    assert fields(raised.value) == {"id", "year", "department", "name"}


def test_a_stale_version_is_refused_and_a_no_op_keeps_the_version(
    cat: Catalogues, college: SmallCollege
) -> None:
    admin, key = college.admin, college.section_a.id
    cat.sections.update(admin, key, {"name": "First"})

    with pytest.raises(ConcurrencyError):
        cat.sections.update(admin, key, {"name": "Second"}, expected_version=0)

    same = cat.sections.update(admin, key, {"name": "First"}, expected_version=1)
    assert (same.name, same.version) == ("First", 1)


def test_only_admins_write_and_operators_have_no_institution(
    cat: Catalogues, college: SmallCollege
) -> None:
    for actor in (college.as_student(), college.as_alice()):
        with pytest.raises(PermissionDeniedError):
            cat.sections.update(actor, college.section_a.id, {"name": "X"})
        with pytest.raises(PermissionDeniedError):
            cat.sections.delete(actor, college.section_b.id)
    with pytest.raises(PermissionDeniedError):
        cat.sections.list(OPERATOR)


def test_another_institutions_record_is_never_found(
    cat: Catalogues, uow: InMemoryUnitOfWork, college: SmallCollege
) -> None:
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")
    cat.sections.create(
        college.admin, {"id": "ONLY-A", "year": 1, "department": "CSE", "name": "Only"}
    )

    with pytest.raises(NotFoundError):
        cat.sections.get(other.admin, SectionId("ONLY-A"))
    with pytest.raises(NotFoundError):
        cat.sections.update(other.admin, SectionId("ONLY-A"), {"year": 2})
    with pytest.raises(NotFoundError):
        cat.sections.delete(other.admin, SectionId("ONLY-A"))
    assert "ONLY-A" not in {s.id for s in cat.sections.list(other.admin).items}


def test_a_section_with_students_is_in_use(cat: Catalogues, college: SmallCollege) -> None:
    with pytest.raises(ConflictError) as raised:
        cat.sections.delete(college.admin, college.section_a.id)

    assert raised.value.code == "in_use"


# -- students ---------------------------------------------------------------------------
def test_a_teacher_sees_the_students_of_the_sections_they_teach(
    cat: Catalogues, college: SmallCollege
) -> None:
    alice_sees = cat.students.list(college.as_alice())
    bob_sees = cat.students.list(college.as_bob())

    assert {s.section_id for s in alice_sees.items} == {college.section_a.id}
    assert bob_sees.total == 6
    with pytest.raises(PermissionDeniedError):
        cat.students.get(college.as_alice(), college.outsider.id)
    with pytest.raises(PermissionDeniedError):
        cat.students.list(college.as_student())


def test_a_student_sees_their_own_record_and_no_other(
    cat: Catalogues, college: SmallCollege
) -> None:
    me = college.as_student(0)

    assert cat.students.get(me, college.students[0].id) == college.students[0]
    with pytest.raises(NotFoundError):
        cat.students.get(me, college.students[1].id)
    with pytest.raises(NotFoundError):
        cat.students.get(me, StudentId("NO-SUCH"))


def test_students_filter_by_section_and_class_representative(
    cat: Catalogues, college: SmallCollege
) -> None:
    admin = college.admin
    cat.students.update(admin, college.students[1].id, {"is_class_representative": True})

    crs = cat.students.list(admin, {"is_class_representative": True})
    in_b = cat.students.list(admin, {"section_id": college.section_b.id})

    assert [s.id for s in crs.items] == [college.students[1].id]
    assert [s.id for s in in_b.items] == [college.outsider.id]


def test_a_students_email_is_in_the_institutions_domain_and_unique(
    cat: Catalogues, college: SmallCollege
) -> None:
    admin = college.admin
    new: dict[str, Any] = {"id": "N219000", "name": "New", "section_id": "E2-CSE-A"}
    with pytest.raises(ValidationError) as raised:
        cat.students.create(admin, {**new, "email": "new@gmail.com", "section_id": "NOPE"})
    assert fields(raised.value) == {"email", "section_id"}
    with pytest.raises(ConflictError) as conflict:
        cat.students.create(admin, {**new, "email": college.alice.email})
    assert conflict.value.code == "email_taken"

    created = cat.students.create(admin, {**new, "email": " New@A.EDU "})
    assert created.email == "new@a.edu"


def test_a_student_with_marks_is_in_use_and_keeps_their_device(
    cat: Catalogues, app: App, uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    college = app.college
    app.generate()
    session = app.session(college.alice_cs_a)
    student = college.students[0]
    with uow.for_institution(college.id) as tx:
        tx.marks.insert_if_absent(
            AttendanceMark(
                college.id,
                session.id,
                student.id,
                AttendanceStatus.PRESENT,
                clock.now(),
                college.alice.id,
                MarkSource.MANUAL,
            )
        )
        tx.devices.add(DeviceBinding(college.id, student.id, DeviceId("phone-0001"), clock.now()))
        tx.commit()

    with pytest.raises(ConflictError) as raised:
        cat.students.delete(college.admin, student.id)

    assert raised.value.code == "in_use"
    with uow.for_institution(college.id) as tx:
        assert tx.devices.for_student(student.id) is not None  # the whole delete rolled back


def test_deleting_a_student_without_history_frees_their_device(
    cat: Catalogues, uow: InMemoryUnitOfWork, clock: FixedClock, college: SmallCollege
) -> None:
    student = college.students[4]
    with uow.for_institution(college.id) as tx:
        tx.devices.add(DeviceBinding(college.id, student.id, DeviceId("phone-0005"), clock.now()))
        tx.commit()

    cat.students.delete(college.admin, student.id)

    with uow.for_institution(college.id) as tx:
        assert tx.students.find(student.id) is None
        assert tx.devices.for_device(DeviceId("phone-0005")) is None


# -- faculty ----------------------------------------------------------------------------
def _admin_teacher(cat: Catalogues, college: SmallCollege) -> Faculty:
    created: Faculty = cat.faculty.create(
        college.admin,
        {
            "id": "HOD",
            "name": "Head",
            "email": "hod@a.edu",
            "department": "CSE",
            "is_admin": True,
        },
    )
    return created


def test_an_admin_can_neither_demote_nor_delete_themself(
    cat: Catalogues, college: SmallCollege
) -> None:
    head = _admin_teacher(cat, college)
    me = faculty_principal(head)

    with pytest.raises(ConflictError) as demoted:
        cat.faculty.update(me, head.id, {"is_admin": False})
    with pytest.raises(ConflictError) as deleted:
        cat.faculty.delete(me, head.id)

    assert (demoted.value.code, deleted.value.code) == ("self_demotion", "self_deletion")
    assert cat.faculty.update(me, college.bob.id, {"is_admin": True}).is_admin


def test_faculty_filter_by_department_qualification_and_role(
    cat: Catalogues, college: SmallCollege
) -> None:
    _admin_teacher(cat, college)
    admin = college.admin

    def ids(**filters: object) -> list[str]:
        return [f.id for f in cat.faculty.list(admin, filters).items]

    assert ids(department="CSE") == ["F001", "HOD"]
    assert ids(qualified_subjects="MA101") == ["F002"]
    assert ids(is_admin=True) == ["HOD"]
    assert ids(is_admin=False, department="math") == ["F002"]


def test_a_teacher_needs_known_subjects_sane_caps_and_a_free_email(
    cat: Catalogues, college: SmallCollege
) -> None:
    admin = college.admin
    with pytest.raises(ValidationError) as raised:
        cat.faculty.update(
            admin,
            college.alice.id,
            {"qualified_subjects": frozenset({SubjectCode("XX9")}), "max_covers_per_day": 99},
        )
    assert fields(raised.value) == {"qualified_subjects", "max_covers_per_day"}
    with pytest.raises(ConflictError) as taken:
        cat.faculty.update(admin, college.alice.id, {"email": college.students[0].email})
    assert taken.value.code == "email_taken"


def test_a_teacher_with_assignments_is_in_use(cat: Catalogues, college: SmallCollege) -> None:
    with pytest.raises(ConflictError) as raised:
        cat.faculty.delete(college.admin, college.alice.id)

    assert raised.value.code == "in_use"


# -- subjects ---------------------------------------------------------------------------
def test_subjects_take_their_kind_by_name_or_value(cat: Catalogues, college: SmallCollege) -> None:
    admin = college.admin
    lab = cat.subjects.create(
        admin, {"code": "CS391", "short_name": "DSL", "name": "DS Lab", "kind": "lab"}
    )
    assert lab.kind is SubjectKind.LAB
    assert [s.code for s in cat.subjects.list(admin, {"kind": SubjectKind.LAB}).items] == ["CS391"]
    assert [s.code for s in cat.subjects.list(admin, query="mathem").items] == ["MA101"]
    with pytest.raises(ValidationError) as raised:
        cat.subjects.update(admin, lab.code, {"kind": "seminar"})
    assert fields(raised.value) == {"kind"}
    with pytest.raises(ConflictError) as taught:
        cat.subjects.delete(admin, college.cs101.code)
    assert taught.value.code == "in_use"


# -- teaching assignments ---------------------------------------------------------------
def test_an_assignment_gets_a_fresh_id_and_needs_existing_references(
    cat: Catalogues, college: SmallCollege
) -> None:
    admin = college.admin
    created = cat.assignments.create(
        admin, {"faculty_id": "F001", "subject_code": "MA101", "section_id": "E2-CSE-B"}
    )
    assert created.id
    assert cat.assignments.get(college.as_bob(), created.id) == created
    with pytest.raises(ValidationError) as raised:
        cat.assignments.create(
            admin, {"faculty_id": "F404", "subject_code": "MA101", "section_id": "NOPE"}
        )
    assert fields(raised.value) == {"faculty_id", "section_id"}
    with pytest.raises(PermissionDeniedError):
        cat.assignments.list(college.as_student())


def test_handing_an_assignment_to_a_busy_teacher_names_every_clash(
    cat: Catalogues, college: SmallCollege
) -> None:
    with pytest.raises(ScheduleConflictError) as raised:
        cat.assignments.update(college.admin, college.bob_cs_b.id, {"faculty_id": "F001"})

    assert {(c.kind, c.other) for c in raised.value.clashes} == {
        (ClashKind.TEACHER, f"A1-{day}") for day in range(1, 6)
    }


def test_moving_an_assignment_to_a_busy_section_is_a_clash(
    cat: Catalogues, college: SmallCollege
) -> None:
    # no sessions yet: the section may change, but B has CS101 with bob at 09:00
    with pytest.raises(ScheduleConflictError) as raised:
        cat.assignments.update(college.admin, college.alice_cs_a.id, {"section_id": "E2-CSE-B"})

    assert {c.kind for c in raised.value.clashes} == {ClashKind.SECTION}
    assert len(raised.value.clashes) == 5


def test_an_assignment_with_sessions_keeps_subject_and_section_and_stays(
    cat: Catalogues, app: App
) -> None:
    college = app.college
    app.generate()
    admin = college.admin

    with pytest.raises(ConflictError) as changed:
        cat.assignments.update(admin, college.alice_cs_a.id, {"subject_code": "MA101"})
    with pytest.raises(ConflictError) as deleted:
        cat.assignments.delete(admin, college.alice_cs_a.id)

    assert (changed.value.code, deleted.value.code) == ("in_use", "in_use")
    moved = cat.assignments.update(admin, college.bob_ma_a.id, {"faculty_id": "F001"})
    assert moved.faculty_id == "F001"  # the teacher may change: alice is free at 10:00


def test_deleting_an_assignment_without_sessions_deletes_its_slots(
    cat: Catalogues, college: SmallCollege
) -> None:
    cat.assignments.delete(college.admin, college.bob_cs_b.id)

    remaining = cat.slots.list(college.admin, page=PageRequest(limit=500)).items
    assert {s.assignment_id for s in remaining} == {"A1", "A2"}


# -- weekly slots -----------------------------------------------------------------------
def test_slots_filter_by_the_assignments_section_and_teacher(
    cat: Catalogues, college: SmallCollege
) -> None:
    admin, big = college.admin, PageRequest(limit=500)

    monday = cat.slots.list(admin, {"weekday": 1}, page=big).items
    bobs_in_a = cat.slots.list(admin, {"faculty_id": "F002", "section_id": "E2-CSE-A"}, page=big)

    assert [s.id for s in monday] in (["A1-1", "A3-1", "A2-1"], ["A3-1", "A1-1", "A2-1"])
    assert {s.id for s in bobs_in_a.items} == {f"A2-{d}" for d in range(1, 6)}


def test_a_slot_never_double_books_and_may_be_moved_onto_its_own_time(
    cat: Catalogues, college: SmallCollege
) -> None:
    admin = college.admin
    with pytest.raises(ScheduleConflictError) as raised:
        cat.slots.create(
            admin,
            {"assignment_id": "A2", "weekday": 1, "start": time(9, 30), "end": time(10, 30)},
        )
    assert {(c.kind, c.other) for c in raised.value.clashes} == {
        (ClashKind.SECTION, "A1-1"),
        (ClashKind.SECTION, "A2-1"),
        (ClashKind.TEACHER, "A2-1"),
        (ClashKind.TEACHER, "A3-1"),
    }

    stretched = cat.slots.update(admin, SlotId("A2-1"), {"end": time(11, 30)})
    assert stretched.end == time(11, 30)
    with pytest.raises(ValidationError) as backwards:
        cat.slots.update(admin, SlotId("A2-1"), {"start": time(12)})
    assert fields(backwards.value) == {"end"}


def test_a_slot_needs_an_existing_assignment(cat: Catalogues, college: SmallCollege) -> None:
    with pytest.raises(ValidationError) as raised:
        cat.slots.create(
            college.admin,
            {"assignment_id": "A404", "weekday": 6, "start": time(9), "end": time(10)},
        )

    assert fields(raised.value) == {"assignment_id"}


# -- terms ------------------------------------------------------------------------------
def test_terms_never_overlap_and_everybody_reads_them(
    cat: Catalogues, college: SmallCollege
) -> None:
    admin = college.admin
    spring = cat.terms.create(
        admin, {"name": "Spring", "start": date(2027, 1, 4), "end": date(2027, 5, 28)}
    )
    with pytest.raises(ConflictError) as raised:
        cat.terms.update(admin, spring.id, {"start": date(2026, 12, 1)})
    assert raised.value.code == "term_overlap"
    assert cat.terms.update(admin, spring.id, {"name": " Spring 2027 "}).name == "Spring 2027"
    listed = cat.terms.list(college.as_student())
    assert [t.id for t in listed.items] == [TermId("T1"), spring.id]
    with pytest.raises(ValidationError):
        cat.terms.create(admin, {"name": "Bad", "start": date(2028, 2, 1), "end": date(2028, 1, 1)})


def test_ids_given_on_create_are_kept(cat: Catalogues, college: SmallCollege) -> None:
    created = cat.assignments.create(
        college.admin,
        {"id": "A9", "faculty_id": "F002", "subject_code": "MA101", "section_id": "E2-CSE-B"},
    )

    assert created.id == AssignmentId("A9")
    assert cat.faculty.get(college.as_alice(), FacultyId("F002")).name == "Bob"
