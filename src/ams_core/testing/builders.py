"""Test data: a small college seeded through the ports, and principals to act as."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from ams_core.domain import (
    AssignmentId,
    Faculty,
    FacultyId,
    Holiday,
    Institution,
    InstitutionId,
    InstitutionSettings,
    Principal,
    Role,
    Section,
    SectionId,
    SlotId,
    Student,
    StudentId,
    Subject,
    SubjectCode,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
)
from ams_core.ports import UnitOfWork

#: A Monday inside the default term of :func:`seed_small_college`.
MONDAY = date(2026, 11, 16)


def student_principal(student: Student, *, cr: bool = False) -> Principal:
    """The principal a student signs in as."""
    roles = {Role.STUDENT} | ({Role.CLASS_REPRESENTATIVE} if cr else set())
    return Principal(
        email=student.email,
        roles=frozenset(roles),
        institution_id=student.institution_id,
        student_id=student.id,
        display_name=student.name,
    )


def faculty_principal(faculty: Faculty) -> Principal:
    """The principal a teacher signs in as (admin too when the teacher is one)."""
    roles = {Role.FACULTY} | ({Role.ADMIN} if faculty.is_admin else set())
    return Principal(
        email=faculty.email,
        roles=frozenset(roles),
        institution_id=faculty.institution_id,
        faculty_id=faculty.id,
        display_name=faculty.name,
    )


def admin_principal(institution_id: InstitutionId, email: str = "admin@a.edu") -> Principal:
    """An administrator who does not teach."""
    return Principal(email=email, roles=frozenset({Role.ADMIN}), institution_id=institution_id)


OPERATOR = Principal(email="ops@ams.local", roles=frozenset({Role.PLATFORM_OPERATOR}))


@dataclass(frozen=True)
class SmallCollege:
    """What :func:`seed_small_college` created.

    Section ``A`` has five students (``students[0..4]``) and section ``B`` one
    (``outsider``). Teacher ``alice`` teaches CS101 to A (Monday–Friday 09:00–10:00) and
    ``bob`` teaches MA101 to A (10:00–11:00) and CS101 to B (09:00–10:00).
    """

    institution: Institution
    section_a: Section
    section_b: Section
    students: tuple[Student, ...]
    outsider: Student
    alice: Faculty
    bob: Faculty
    cs101: Subject
    ma101: Subject
    alice_cs_a: TeachingAssignment
    bob_ma_a: TeachingAssignment
    bob_cs_b: TeachingAssignment
    slots: tuple[WeeklySlot, ...]
    term: Term
    admin: Principal = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "admin", admin_principal(self.institution.id, self.admin_email))

    @property
    def admin_email(self) -> str:
        """The admin's address in the institution's domain."""
        return f"admin@{min(self.institution.email_domains)}"

    @property
    def id(self) -> InstitutionId:
        """The institution's id."""
        return self.institution.id

    def as_student(self, index: int = 0) -> Principal:
        """Act as one of section A's students."""
        return student_principal(self.students[index])

    def as_alice(self) -> Principal:
        """Act as the CS101 teacher of section A."""
        return faculty_principal(self.alice)

    def as_bob(self) -> Principal:
        """Act as the MA101 teacher of section A and CS101 teacher of section B."""
        return faculty_principal(self.bob)


def seed_small_college(
    uow: UnitOfWork,
    *,
    institution_id: str = "inst-a",
    domain: str = "a.edu",
    timezone: str = "Asia/Kolkata",
    settings: InstitutionSettings | None = None,
    term_start: date = date(2026, 8, 3),
    term_end: date = date(2026, 12, 18),
    holidays: tuple[date, ...] = (),
) -> SmallCollege:
    """Create a small institution with two sections, two teachers and a timetable."""
    iid = InstitutionId(institution_id)
    institution = Institution(
        id=iid,
        name=f"College {institution_id}",
        timezone=timezone,
        email_domains=frozenset({domain}),
        settings=settings or InstitutionSettings(),
    )
    section_a = Section(SectionId("E2-CSE-A"), iid, 2, "CSE", "A")
    section_b = Section(SectionId("E2-CSE-B"), iid, 2, "CSE", "B")
    students = tuple(
        Student(
            StudentId(f"N21{n:04d}"),
            iid,
            f"Student {n}",
            f"n21{n:04d}@{domain}",
            section_a.id,
            roll_number=n,
        )
        for n in range(1, 6)
    )
    outsider = Student(StudentId("N219999"), iid, "Outsider", f"n219999@{domain}", section_b.id)
    cs101 = Subject(SubjectCode("CS101"), iid, "DS", "Data Structures")
    ma101 = Subject(SubjectCode("MA101"), iid, "M1", "Mathematics I")
    alice = Faculty(
        FacultyId("F001"), iid, "Alice", f"alice@{domain}", "CSE", frozenset({cs101.code})
    )
    bob = Faculty(
        FacultyId("F002"),
        iid,
        "Bob",
        f"bob@{domain}",
        "MATH",
        frozenset({ma101.code, cs101.code}),
    )
    alice_cs_a = TeachingAssignment(AssignmentId("A1"), iid, alice.id, cs101.code, section_a.id)
    bob_ma_a = TeachingAssignment(AssignmentId("A2"), iid, bob.id, ma101.code, section_a.id)
    bob_cs_b = TeachingAssignment(AssignmentId("A3"), iid, bob.id, cs101.code, section_b.id)
    slots: list[WeeklySlot] = []
    for weekday in range(1, 6):
        for assignment, start in ((alice_cs_a, 9), (bob_ma_a, 10), (bob_cs_b, 9)):
            slots.append(
                WeeklySlot(
                    SlotId(f"{assignment.id}-{weekday}"),
                    iid,
                    assignment.id,
                    weekday,
                    time(start),
                    time(start + 1),
                    venue=f"Room {assignment.id}",
                )
            )
    term = Term(TermId("T1"), iid, "Autumn 2026", term_start, term_end)
    with uow.for_platform():
        uow.institutions.add(institution)
        uow.commit()
    with uow.for_institution(iid):
        for section in (section_a, section_b):
            uow.sections.add(section)
        uow.students.add_many([*students, outsider])
        for faculty in (alice, bob):
            uow.faculty.add(faculty)
        for subject in (cs101, ma101):
            uow.subjects.add(subject)
        for assignment in (alice_cs_a, bob_ma_a, bob_cs_b):
            uow.assignments.add(assignment)
        for slot in slots:
            uow.slots.add(slot)
        uow.terms.add(term)
        for day in holidays:
            uow.holidays.add(Holiday(iid, day, "Holiday"))
        uow.commit()
    return SmallCollege(
        institution=institution,
        section_a=section_a,
        section_b=section_b,
        students=students,
        outsider=outsider,
        alice=alice,
        bob=bob,
        cs101=cs101,
        ma101=ma101,
        alice_cs_a=alice_cs_a,
        bob_ma_a=bob_ma_a,
        bob_cs_b=bob_cs_b,
        slots=tuple(slots),
        term=term,
    )
