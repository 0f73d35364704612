"""Case tables of the persistence contract: one case per keyed repository, and the rows
that others refer to (which may not be removed while in use).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from ams_core.domain import (
    Absence,
    AbsenceId,
    AbsenceKind,
    AbsenceStatus,
    AssignmentId,
    AttendanceWindow,
    ClassSession,
    CoverNeedId,
    CoverPlan,
    CoverPlanId,
    CoverRule,
    CoverSettings,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Institution,
    InstitutionId,
    InstitutionSettings,
    PlannedCover,
    PlanStatus,
    PreferenceKind,
    ScoreReason,
    Section,
    SectionId,
    SessionId,
    SessionStatus,
    SlotId,
    StatusTally,
    Student,
    StudentId,
    Subject,
    SubjectCode,
    SubjectKind,
    SubstitutePreference,
    TeachingAssignment,
    Term,
    TermId,
    UncoveredNeed,
    UncoveredReason,
    WeeklySlot,
)
from ams_core.ports import UnitOfWork, UnitOfWorkFactory
from ams_core.testing.builders import MONDAY, SmallCollege
from ams_core.testing.contracts.persistence._builders import (
    _FAR_FUTURE,
    _FAR_PAST,
    IST,
    T0,
    _absence,
    _cover,
    _domain,
    _mark,
    _need,
    _offer,
    _preference,
    _push,
    _session,
)


# -- one case per keyed repository ----------------------------------------------------------
@dataclass(frozen=True)
class _KeyedCase:
    """A repository with find/get/add/update and the entities to exercise it with."""

    name: str
    repo: Callable[[UnitOfWork], Any]
    new: Callable[[SmallCollege], Any]  # a complete entity that the seed does not contain
    key: Callable[[Any], Any]
    change: Callable[[Any], Any]  # the same row with other field values
    missing: str
    platform: bool = False  # institutions are written in the platform scope
    listing: Callable[[Any], Any] = lambda repo: repo.list()  # every row, or a query holding it

    def open(self, uow_factory: UnitOfWorkFactory, college: SmallCollege) -> UnitOfWork:
        uow = uow_factory()
        return uow.for_platform() if self.platform else uow.for_institution(college.id)


def _full_institution(_: SmallCollege) -> Institution:
    return Institution(
        id=InstitutionId("inst-z"),
        name="Zeta Institute of Technology",
        timezone="America/Sao_Paulo",
        email_domains=frozenset({"z.edu", "students.z.edu"}),
        settings=InstitutionSettings(
            attendance_threshold=Decimal("72.5"),
            code_rotation_seconds=0,
            check_in_window_minutes=15,
            late_after_minutes=5,
            open_early_minutes=20,
            auto_complete_grace_minutes=45,
            campus_networks=("10.20.0.0/16", "2001:db8::/48"),
            max_wrong_codes_per_student=3,
            max_wrong_codes_per_session=120,
            cover=CoverSettings(1, 4, 41, 26, 16, 11, 21, 16, 11),
        ),
    )


def _change_institution(institution: Institution) -> Institution:
    return dataclasses.replace(
        institution,
        name="Renamed",
        timezone="Europe/Berlin",
        email_domains=institution.email_domains | {"alumni.z.edu"},
        settings=dataclasses.replace(
            institution.settings,
            attendance_threshold=Decimal("66.67"),
            campus_networks=("192.168.0.0/24",),
        ),
    )


def _full_student(college: SmallCollege) -> Student:
    return Student(
        id=StudentId("N220042"),
        institution_id=college.id,
        name="Ravi Kumar",
        email=f"n220042@{_domain(college)}",
        section_id=college.section_b.id,
        roll_number=42,
        is_class_representative=True,
    )


def _full_faculty(college: SmallCollege) -> Faculty:
    return Faculty(
        id=FacultyId("F900"),
        institution_id=college.id,
        name="Chitra Rao",
        email=f"chitra@{_domain(college)}",
        department="PHYSICS",
        qualified_subjects=frozenset({college.cs101.code, college.ma101.code}),
        max_covers_per_day=1,
        max_covers_per_week=4,
        is_admin=True,
    )


def _full_session(college: SmallCollege) -> ClassSession:
    """A completed, covered session with a window (binary secret), tally and topic."""
    return ClassSession(
        id=SessionId("S-FULL"),
        institution_id=college.id,
        assignment_id=college.alice_cs_a.id,
        section_id=college.section_a.id,
        subject_code=college.cs101.code,
        date=MONDAY,
        start=time(9, 0),
        end=time(9, 50, 30),
        teacher_id=college.bob.id,
        venue="Room 101",
        slot_id=SlotId("A1-1"),
        status=SessionStatus.COMPLETED,
        topic="Heaps — binary and d-ary",
        window=AttendanceWindow(
            opened_at=datetime(2026, 11, 16, 9, 1, 2, 345678, tzinfo=IST),
            closes_at=T0 + timedelta(minutes=11),
            secret=bytes(range(0, 256, 8)),
            rotation_seconds=30,
        ),
        completed_at=datetime(2026, 11, 16, 9, 52, 7, 123456, tzinfo=IST),
        tally=StatusTally(present=3, late=1, absent=1, excused=0),
    )


def _full_absence(college: SmallCollege) -> Absence:
    """A decided absence with a note, in another zone than UTC."""
    return Absence(
        id=AbsenceId("AB-FULL"),
        institution_id=college.id,
        faculty_id=college.bob.id,
        starts_at=datetime(2026, 11, 17, 0, 0, tzinfo=IST),
        ends_at=datetime(2026, 11, 19, 0, 0, tzinfo=IST),
        kind=AbsenceKind.OFFICIAL_DUTY,
        status=AbsenceStatus.APPROVED,
        reported_at=datetime(2026, 11, 15, 18, 30, 12, 345678, tzinfo=IST),
        reported_by=f"bob@{_domain(college)}",
        note="Exam duty at the university — two days",
        decided_at=T0 - timedelta(hours=5),
        decided_by=college.admin_email,
    )


def _full_plan(college: SmallCollege) -> CoverPlan:
    """A plan with planned covers (and their reasons, in order) and uncovered needs."""
    return CoverPlan(
        id=CoverPlanId("P-FULL"),
        institution_id=college.id,
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=4),
        created_at=datetime(2026, 11, 15, 18, 30, 12, 345678, tzinfo=IST),
        created_by=college.admin_email,
        solver="ortools-min-cost-flow",
        assignments=(
            PlannedCover(
                CoverNeedId("N-2"),
                college.bob.id,
                57,
                (
                    ScoreReason(CoverRule.QUALIFIED, 40),
                    ScoreReason(CoverRule.FAIRNESS, 7),
                    ScoreReason(CoverRule.ADJACENT, 10),
                ),
            ),
            PlannedCover(CoverNeedId("N-1"), college.alice.id, 0, ()),
        ),
        uncovered=(
            UncoveredNeed(CoverNeedId("N-4"), UncoveredReason.CAPS_REACHED),
            UncoveredNeed(CoverNeedId("N-3"), UncoveredReason.NO_TEACHER_FREE),
        ),
    )


def _full_preference(college: SmallCollege) -> SubstitutePreference:
    return _preference(
        college,
        "PR-FULL",
        college.bob.id,
        PreferenceKind.EXCLUDED,
        faculty_id=college.alice.id,
        note="Not in the same week as the lab exams",
    )


_KEYED_CASES = (
    _KeyedCase(
        name="institutions",
        repo=lambda uow: uow.institutions,
        new=_full_institution,
        key=lambda e: e.id,
        change=_change_institution,
        missing="inst-missing",
        platform=True,
    ),
    _KeyedCase(
        name="sections",
        repo=lambda uow: uow.sections,
        new=lambda c: Section(SectionId("E3-ECE-C"), c.id, 3, "ECE", "C"),
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(e, year=4, department="EEE", name="D"),
        missing="NO-SECTION",
    ),
    _KeyedCase(
        name="students",
        repo=lambda uow: uow.students,
        new=_full_student,
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(
            e,
            name="Ravi K.",
            email=e.email.replace("n220042", "ravi"),
            section_id=SectionId("E2-CSE-A"),
            roll_number=None,
            is_class_representative=False,
        ),
        missing="N000000",
    ),
    _KeyedCase(
        name="faculty",
        repo=lambda uow: uow.faculty,
        new=_full_faculty,
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(
            e,
            department="MATH",
            qualified_subjects=frozenset(),
            max_covers_per_day=None,
            max_covers_per_week=None,
            is_admin=False,
        ),
        missing="F000",
    ),
    _KeyedCase(
        name="subjects",
        repo=lambda uow: uow.subjects,
        new=lambda c: Subject(SubjectCode("PH101L"), c.id, "PL", "Physics Lab", SubjectKind.LAB),
        key=lambda e: e.code,
        change=lambda e: dataclasses.replace(e, name="Physics", kind=SubjectKind.THEORY),
        missing="XX000",
    ),
    _KeyedCase(
        name="assignments",
        repo=lambda uow: uow.assignments,
        new=lambda c: TeachingAssignment(
            AssignmentId("A9"), c.id, c.alice.id, c.ma101.code, c.section_b.id
        ),
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(e, faculty_id=FacultyId("F002")),
        missing="A0",
    ),
    _KeyedCase(
        name="slots",
        repo=lambda uow: uow.slots,
        new=lambda c: WeeklySlot(
            SlotId("A1-6"), c.id, c.alice_cs_a.id, 6, time(14, 15), time(15, 45), venue="Lab 2"
        ),
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(e, weekday=7, start=time(8), end=time(8, 50)),
        missing="NO-SLOT",
    ),
    _KeyedCase(
        name="terms",
        repo=lambda uow: uow.terms,
        new=lambda c: Term(TermId("T2"), c.id, "Spring 2027", date(2027, 1, 4), date(2027, 5, 14)),
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(e, name="Spring", end=date(2027, 5, 28)),
        missing="T0",
    ),
    _KeyedCase(
        name="sessions",
        repo=lambda uow: uow.sessions,
        new=_full_session,
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(
            e, topic=None, window=None, completed_at=None, status=SessionStatus.CANCELLED
        ),
        missing="S-MISSING",
        listing=lambda repo: repo.list_for_assignment(AssignmentId("A1")),
    ),
    _KeyedCase(
        name="absences",
        repo=lambda uow: uow.absences,
        new=_full_absence,
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(
            e,
            status=AbsenceStatus.CANCELLED,
            kind=AbsenceKind.OTHER,
            note="",
            ends_at=e.ends_at + timedelta(hours=3),
            decided_by=None,
            decided_at=None,
        ),
        missing="AB-MISSING",
        listing=lambda repo: repo.list_overlapping(_FAR_PAST, _FAR_FUTURE),
    ),
    _KeyedCase(
        name="cover_plans",
        repo=lambda uow: uow.cover_plans,
        new=_full_plan,
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(
            e, status=PlanStatus.PUBLISHED, published_at=T0 + timedelta(minutes=3)
        ),
        missing="P-MISSING",
        listing=lambda repo: repo.page(100).items,
    ),
    _KeyedCase(
        name="substitute_preferences",
        repo=lambda uow: uow.substitute_preferences,
        new=_full_preference,
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(
            e,
            kind=PreferenceKind.PREFERRED,
            faculty_id=None,
            section_id=SectionId("E2-CSE-B"),
            note="",
        ),
        missing="PR-MISSING",
    ),
)


#: The keyed repositories that can remove rows (every one but institutions and sessions).
_REMOVABLE_CASES = tuple(
    c
    for c in _KEYED_CASES
    if c.name
    in {
        "sections",
        "students",
        "faculty",
        "subjects",
        "assignments",
        "slots",
        "terms",
        "substitute_preferences",
    }
)


# -- rows that others refer to ----------------------------------------------------------------
def _spare_section(college: SmallCollege) -> Section:
    return Section(SectionId("SPARE-SEC"), college.id, 1, "CIVIL", "S")


def _spare_student(college: SmallCollege, section_id: SectionId | None = None) -> Student:
    section = college.section_a.id if section_id is None else section_id
    return Student(
        StudentId("N-SPARE"), college.id, "Spare", f"spare@{_domain(college)}", section, 7
    )


def _spare_teacher(college: SmallCollege) -> Faculty:
    return Faculty(
        FacultyId("F-SPARE"), college.id, "Spare", f"spare.teacher@{_domain(college)}", "CIVIL"
    )


def _spare_subject(college: SmallCollege) -> Subject:
    return Subject(SubjectCode("SP101"), college.id, "SP", "Spare Parts")


def _spare_assignment(
    college: SmallCollege,
    *,
    teacher: FacultyId | None = None,
    subject: SubjectCode | None = None,
    section: SectionId | None = None,
) -> TeachingAssignment:
    return TeachingAssignment(
        AssignmentId("A-SPARE"),
        college.id,
        college.alice.id if teacher is None else teacher,
        college.ma101.code if subject is None else subject,
        college.section_b.id if section is None else section,
    )


#: A session of the seeded CS101 assignment of section A that references can be hung on.
def _spare_session(college: SmallCollege, **changes: Any) -> ClassSession:
    session = _session(college, "S-SPARE", college.alice_cs_a, MONDAY, time(15))
    return dataclasses.replace(session, **changes)


@dataclass(frozen=True)
class _InUseCase:
    """A row that other rows refer to, so that removing it is refused with ``in_use``."""

    name: str
    refer: Callable[[UnitOfWork, SmallCollege], object]  # writes the row and what refers to it
    remove: Callable[[UnitOfWork, SmallCollege], bool]
    lookups: Callable[[UnitOfWork, SmallCollege], object]  # every way to find the row


def _in_use_cases() -> list[_InUseCase]:
    def section_lookups(u: UnitOfWork, c: SmallCollege) -> object:
        return u.sections.find(_spare_section(c).id), list(u.sections.list())

    def student_lookups(u: UnitOfWork, c: SmallCollege) -> object:
        spare = _spare_student(c)
        return (
            u.students.find(spare.id),
            u.students.find_by_email(spare.email),
            list(u.students.list(spare.section_id)),
            u.students.ids_in_section(spare.section_id),
        )

    def teacher_lookups(u: UnitOfWork, c: SmallCollege) -> object:
        spare = _spare_teacher(c)
        return (
            u.faculty.find(spare.id),
            u.faculty.find_by_email(spare.email),
            dict(u.faculty.find_many([spare.id])),
            list(u.faculty.list()),
        )

    def subject_lookups(u: UnitOfWork, c: SmallCollege) -> object:
        spare = _spare_subject(c)
        return u.subjects.find(spare.code), dict(u.subjects.find_many([spare.code]))

    def assignment_lookups(u: UnitOfWork, c: SmallCollege) -> object:
        return u.assignments.find(AssignmentId("A-SPARE")), list(u.assignments.list())

    def with_section(u: UnitOfWork, c: SmallCollege) -> SectionId:
        u.sections.add(_spare_section(c))
        return _spare_section(c).id

    def with_student(u: UnitOfWork, c: SmallCollege) -> Student:
        u.students.add(_spare_student(c))
        return _spare_student(c)

    def with_teacher(u: UnitOfWork, c: SmallCollege) -> Faculty:
        u.faculty.add(_spare_teacher(c))
        return _spare_teacher(c)

    def with_subject(u: UnitOfWork, c: SmallCollege) -> SubjectCode:
        u.subjects.add(_spare_subject(c))
        return _spare_subject(c).code

    def with_assignment(u: UnitOfWork, c: SmallCollege) -> TeachingAssignment:
        u.assignments.add(_spare_assignment(c))
        return _spare_assignment(c)

    def with_spare_session(u: UnitOfWork, c: SmallCollege, **changes: Any) -> ClassSession:
        session = _spare_session(c, **changes)
        u.sessions.add(session)
        return session

    def remove_section(u: UnitOfWork, c: SmallCollege) -> bool:
        return u.sections.remove(_spare_section(c).id)

    def remove_student(u: UnitOfWork, c: SmallCollege) -> bool:
        return u.students.remove(_spare_student(c).id)

    def remove_teacher(u: UnitOfWork, c: SmallCollege) -> bool:
        return u.faculty.remove(_spare_teacher(c).id)

    def remove_subject(u: UnitOfWork, c: SmallCollege) -> bool:
        return u.subjects.remove(_spare_subject(c).code)

    def remove_assignment(u: UnitOfWork, c: SmallCollege) -> bool:
        return u.assignments.remove(AssignmentId("A-SPARE"))

    return [
        _InUseCase(
            "section with students",
            lambda u, c: u.students.add(
                dataclasses.replace(_spare_student(c), section_id=with_section(u, c))
            ),
            remove_section,
            section_lookups,
        ),
        _InUseCase(
            "section with teaching assignments",
            lambda u, c: u.assignments.add(_spare_assignment(c, section=with_section(u, c))),
            remove_section,
            section_lookups,
        ),
        _InUseCase(
            "section with sessions",
            lambda u, c: with_spare_session(u, c, section_id=with_section(u, c)),
            remove_section,
            section_lookups,
        ),
        _InUseCase(
            "section with substitute preferences",
            lambda u, c: u.substitute_preferences.add(
                _preference(c, "PR-SPARE", c.bob.id, section_id=with_section(u, c))
            ),
            remove_section,
            section_lookups,
        ),
        _InUseCase(
            "student with attendance marks",
            lambda u, c: (
                with_spare_session(u, c),
                u.marks.put_many([_mark(c, "S-SPARE", with_student(u, c))]),
            ),
            remove_student,
            student_lookups,
        ),
        _InUseCase(
            "student with check-in failures",
            lambda u, c: (
                with_spare_session(u, c),
                u.code_failures.record_failure(SessionId("S-SPARE"), with_student(u, c).id),
            ),
            remove_student,
            student_lookups,
        ),
        _InUseCase(
            "student with a bound device",
            lambda u, c: u.devices.add(
                DeviceBinding(c.id, with_student(u, c).id, DeviceId("device-spare"), T0)
            ),
            remove_student,
            student_lookups,
        ),
        _InUseCase(
            "student with a push token",
            lambda u, c: u.push_tokens.put(_push(c, "tok-spare", student=with_student(u, c))),
            remove_student,
            student_lookups,
        ),
        _InUseCase(
            "teacher with teaching assignments",
            lambda u, c: u.assignments.add(_spare_assignment(c, teacher=with_teacher(u, c).id)),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher of record of a session",
            lambda u, c: with_spare_session(u, c, teacher_id=with_teacher(u, c).id),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher covering a class",
            lambda u, c: (
                with_spare_session(u, c),
                u.covers.add(_cover(c, "C-SPARE", "S-SPARE", with_teacher(u, c).id, T0)),
            ),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher with an absence",
            lambda u, c: u.absences.add(_absence(c, "AB-SPARE", with_teacher(u, c).id, T0)),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher whose class needs cover",
            lambda u, c: (
                u.absences.add(_absence(c, "AB-SPARE", with_teacher(u, c).id, T0)),
                with_spare_session(u, c, teacher_id=_spare_teacher(c).id),
                u.cover_needs.add_many(
                    [
                        _need(
                            c, "N-SPARE", "AB-SPARE", "S-SPARE", T0, faculty_id=_spare_teacher(c).id
                        )
                    ]
                ),
            ),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher offered a cover",
            lambda u, c: (
                u.absences.add(_absence(c, "AB-SPARE", c.alice.id, T0)),
                with_spare_session(u, c),
                u.cover_needs.add_many([_need(c, "N-SPARE", "AB-SPARE", "S-SPARE", T0)]),
                u.cover_offers.add(_offer(c, "O-SPARE", "N-SPARE", with_teacher(u, c).id, T0)),
            ),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher with a substitute preference",
            lambda u, c: u.substitute_preferences.add(
                _preference(c, "PR-SPARE", with_teacher(u, c).id, faculty_id=c.alice.id)
            ),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher a substitute preference concerns",
            lambda u, c: u.substitute_preferences.add(
                _preference(c, "PR-SPARE", c.bob.id, faculty_id=with_teacher(u, c).id)
            ),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher with a push token",
            lambda u, c: u.push_tokens.put(_push(c, "tok-spare", faculty=with_teacher(u, c))),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "subject with teaching assignments",
            lambda u, c: u.assignments.add(_spare_assignment(c, subject=with_subject(u, c))),
            remove_subject,
            subject_lookups,
        ),
        _InUseCase(
            # the session's own subject, not its assignment's
            "subject with sessions",
            lambda u, c: with_spare_session(u, c, subject_code=with_subject(u, c)),
            remove_subject,
            subject_lookups,
        ),
        _InUseCase(
            "subject with substitute preferences",
            lambda u, c: u.substitute_preferences.add(
                _preference(c, "PR-SPARE", c.bob.id, subject_code=with_subject(u, c))
            ),
            remove_subject,
            subject_lookups,
        ),
        _InUseCase(
            "assignment with weekly slots",
            lambda u, c: u.slots.add(
                WeeklySlot(SlotId("SPARE-1"), c.id, with_assignment(u, c).id, 6, time(8), time(9))
            ),
            remove_assignment,
            assignment_lookups,
        ),
        _InUseCase(
            "assignment with sessions",
            lambda u, c: with_spare_session(
                u,
                c,
                assignment_id=with_assignment(u, c).id,
                section_id=c.section_b.id,
                subject_code=c.ma101.code,
            ),
            remove_assignment,
            assignment_lookups,
        ),
    ]


_IN_USE_CASES = _in_use_cases()
