"""Data sets shaped like PRODUCT.md §5, seeded through the ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any, TypeVar

from ams_core.domain import (
    AssignmentId,
    Faculty,
    FacultyId,
    Institution,
    InstitutionId,
    IsoWeek,
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

TERM_START = date(2026, 8, 3)  # a Monday
TERM_WEEKS = 16
PERIODS = (time(8, 30), time(9, 30), time(10, 30), time(11, 30), time(13, 40), time(14, 40))
ASSIGNMENTS_PER_SECTION = 6  # x 5 weekdays = 30 sessions per section per week


@dataclass(frozen=True)
class Shape:
    """How big one institution is."""

    sections: int
    students_per_section: int
    faculty: int
    subjects: int


#: Acts on any institution (the generation benchmarks name each one).
OPERATOR = Principal("ops@ams.local", frozenset({Role.PLATFORM_OPERATOR}))
C = TypeVar("C")


def admin_of(institution_id: InstitutionId) -> Principal:
    """An administrator of one institution."""
    return Principal("admin@x.edu", frozenset({Role.ADMIN}), institution_id=institution_id)


def term_week(n: int) -> IsoWeek:
    """The n-th week of the benchmark term (0-based)."""
    return IsoWeek.containing(TERM_START + timedelta(weeks=n))


def call_with(call: Callable[[C], object], command: C) -> Callable[[], object]:
    """A zero-argument call of a use case, for the latency timers."""
    return lambda: call(command)


#: The legacy college of PRODUCT.md §5: 4,000 students in 32 sections, 64 faculty, 120
#: subjects, 192 assignments, 30 sessions per section per week.
COLLEGE = Shape(sections=32, students_per_section=125, faculty=64, subjects=120)
#: An institution of the 50-institution generation benchmark: ~4,000 sessions a week each,
#: so 50 of them give ~200,000 sessions.
LARGE_SCHOOL = Shape(sections=134, students_per_section=0, faculty=268, subjects=120)


@dataclass(frozen=True)
class Seeded:
    """Ids of what was seeded."""

    institution: Institution
    sections: tuple[SectionId, ...]
    students: tuple[Student, ...]
    faculty: tuple[Faculty, ...]
    assignments: tuple[TeachingAssignment, ...]


@dataclass(frozen=True)
class Built:
    """Every entity of one institution, before it is stored."""

    institution: Institution
    sections: tuple[Section, ...]
    subjects: tuple[Subject, ...]
    faculty: tuple[Faculty, ...]
    students: tuple[Student, ...]
    assignments: tuple[TeachingAssignment, ...]
    slots: tuple[WeeklySlot, ...]
    term: Term


def build(index: int, shape: Shape, institution_id: str | None = None) -> Built:
    """One institution with a full timetable and one 16-week term."""
    iid = InstitutionId(institution_id or f"inst-{index:03d}")
    domain = f"school{index:03d}.edu"
    institution = Institution(iid, f"School {index}", "Asia/Kolkata", frozenset({domain}))
    sections = tuple(
        Section(SectionId(f"S{n:03d}"), iid, 1 + n % 4, f"D{n % 8}", f"{n}")
        for n in range(shape.sections)
    )
    subjects = tuple(
        Subject(SubjectCode(f"SUB{n:03d}"), iid, f"S{n}", f"Subject {n}")
        for n in range(shape.subjects)
    )
    faculty = tuple(
        Faculty(FacultyId(f"F{n:03d}"), iid, f"Teacher {n}", f"f{n:03d}@{domain}", f"D{n % 8}")
        for n in range(shape.faculty)
    )
    students = tuple(
        Student(
            StudentId(f"N{s:03d}{k:04d}"),
            iid,
            f"Student {s}-{k}",
            f"n{s:03d}{k:04d}@{domain}",
            section.id,
            roll_number=k + 1,
        )
        for s, section in enumerate(sections)
        for k in range(shape.students_per_section)
    )
    assignments: list[TeachingAssignment] = []
    slots: list[WeeklySlot] = []
    for s, section in enumerate(sections):
        for k in range(ASSIGNMENTS_PER_SECTION):
            n = s * ASSIGNMENTS_PER_SECTION + k
            assignment = TeachingAssignment(
                AssignmentId(f"A{n:05d}"),
                iid,
                faculty[n % len(faculty)].id,
                subjects[n % len(subjects)].code,
                section.id,
            )
            assignments.append(assignment)
            start = PERIODS[k]
            end = time(start.hour + 1, start.minute)
            slots.extend(
                WeeklySlot(
                    SlotId(f"{assignment.id}-{weekday}"),
                    iid,
                    assignment.id,
                    weekday,
                    start,
                    end,
                    venue=f"R{s:03d}",
                )
                for weekday in range(1, 6)
            )
    term_end = TERM_START + timedelta(weeks=TERM_WEEKS) - timedelta(days=1)
    term = Term(TermId("T1"), iid, "Term 1", TERM_START, term_end)
    return Built(
        institution, sections, subjects, faculty, students, tuple(assignments), tuple(slots), term
    )


def seed_institution(uow: UnitOfWork, index: int, shape: Shape) -> Seeded:
    """Seed one institution through the ports."""
    b = build(index, shape)
    with uow.for_platform():
        uow.institutions.add(b.institution)
        uow.commit()
    with uow.for_institution(b.institution.id):
        for section in b.sections:
            uow.sections.add(section)
        for subject in b.subjects:
            uow.subjects.add(subject)
        for teacher in b.faculty:
            uow.faculty.add(teacher)
        uow.students.add_many(b.students)
        for assignment in b.assignments:
            uow.assignments.add(assignment)
        for slot in b.slots:
            uow.slots.add(slot)
        uow.terms.add(b.term)
        uow.commit()
    return Seeded(
        b.institution, tuple(s.id for s in b.sections), b.students, b.faculty, b.assignments
    )


def seed_rows(index: int, shape: Shape, institution_id: str) -> dict[str, list[dict[str, Any]]]:
    """The same institution as rows per table (for fast loading as the database owner)."""
    from ams_adapters.sql import mappers as m

    b = build(index, shape, institution_id)
    return {
        "institutions": [m.institution_row(b.institution)],
        "institution_domains": [
            {"domain": d, "institution_id": b.institution.id} for d in b.institution.email_domains
        ],
        "sections": [m.section_row(x) for x in b.sections],
        "subjects": [m.subject_row(x) for x in b.subjects],
        "faculty": [m.faculty_row(x) for x in b.faculty],
        "students": [m.student_row(x) for x in b.students],
        "assignments": [m.assignment_row(x) for x in b.assignments],
        "weekly_slots": [m.slot_row(x) for x in b.slots],
        "terms": [m.term_row(b.term)],
    }
