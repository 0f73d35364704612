"""The demo institution ``ams demo`` creates: people, a timetable, this week's sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ams_core.domain import (
    AssignmentId,
    ClassSession,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Institution,
    InstitutionId,
    Principal,
    Role,
    Section,
    SectionId,
    SessionId,
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
from ams_core.ports import Clock, RandomSource, UnitOfWork
from ams_core.use_cases import GenerateWeek, GenerateWeekCommand

DEMO_INSTITUTION = InstitutionId("demo")
DEMO_DOMAIN = "demo.ams.local"
DEMO_TIMEZONE = "UTC"
SUBJECTS = (
    ("CS201", "DS", "Data Structures"),
    ("CS202", "OS", "Operating Systems"),
    ("MA201", "PS", "Probability and Statistics"),
    ("EE201", "DE", "Digital Electronics"),
)
TEACHERS = (
    ("F001", "Asha Rao", "CSE"),
    ("F002", "Vikram Shah", "CSE"),
    ("F003", "Meera Iyer", "MATH"),
    ("F004", "Ravi Kumar", "ECE"),
)
SECTIONS = ("A", "B")
STUDENTS_PER_SECTION = 30
DEMO_STUDENT = StudentId("N240101")
DEMO_DEVICE = DeviceId("demo-phone-0001")
OPERATOR = Principal(email="demo@ams.local", roles=frozenset({Role.PLATFORM_OPERATOR}))


@dataclass(frozen=True, slots=True)
class DemoPeople:
    """Emails of the demo's people, one per role, and the session running now."""

    student: str
    student_device: str
    class_representative: str
    faculty: str
    admin: str
    session_now: SessionId


def _email(name: str) -> str:
    return f"{name}@{DEMO_DOMAIN}"


def seed_demo(uow: UnitOfWork, clock: Clock, random: RandomSource) -> DemoPeople:
    """Create the demo institution (once) and a session happening now; return who is who."""
    now = clock.now()
    with uow.for_platform():
        exists = uow.institutions.find(DEMO_INSTITUTION) is not None
    if not exists:
        _create(uow, now.date())
    week = GenerateWeekCommand.for_week(
        OPERATOR, f"{now.isocalendar().year}-W{now.isocalendar().week:02d}", DEMO_INSTITUTION
    )
    GenerateWeek(uow, random)(week)
    session_now = _session_now(uow, now)
    with uow.for_institution(DEMO_INSTITUTION):
        if uow.devices.for_student(DEMO_STUDENT) is None:
            uow.devices.add(DeviceBinding(DEMO_INSTITUTION, DEMO_STUDENT, DEMO_DEVICE, now))
            uow.commit()
    return DemoPeople(
        student=_email("n240101"),
        student_device=DEMO_DEVICE,
        class_representative=_email("n240100"),
        faculty=_email("f001"),
        admin=_email("admin"),
        session_now=session_now,
    )


def _create(uow: UnitOfWork, today: date) -> None:
    iid = DEMO_INSTITUTION
    with uow.for_platform():
        uow.institutions.add(
            Institution(iid, "AMS Demo College", DEMO_TIMEZONE, frozenset({DEMO_DOMAIN}))
        )
        uow.commit()
    sections = [Section(SectionId(f"E2-CSE-{name}"), iid, 2, "CSE", name) for name in SECTIONS]
    students = [
        Student(
            StudentId(f"N24{s:02d}{n:02d}"),
            iid,
            f"Student {name}{n:02d}",
            _email(f"n24{s:02d}{n:02d}"),
            section.id,
            roll_number=n,
            is_class_representative=n == 0,
        )
        for s, (name, section) in enumerate(zip(SECTIONS, sections, strict=True), start=1)
        for n in range(STUDENTS_PER_SECTION)
    ]
    subjects = [Subject(SubjectCode(code), iid, short, name) for code, short, name in SUBJECTS]
    faculty = [
        Faculty(
            FacultyId(fid),
            iid,
            name,
            _email(fid.lower()),
            dept,
            frozenset({SubjectCode(SUBJECTS[i][0])}),
        )
        for i, (fid, name, dept) in enumerate(TEACHERS)
    ]
    admin = Faculty(FacultyId("ADM1"), iid, "Demo Admin", _email("admin"), "OFFICE", is_admin=True)
    assignments = [
        TeachingAssignment(
            AssignmentId(f"{section.id}-{teacher.id}"),
            iid,
            teacher.id,
            next(iter(teacher.qualified_subjects)),
            section.id,
        )
        for section in sections
        for teacher in faculty
    ]
    slots = [
        WeeklySlot(
            SlotId(f"{assignment.id}-{weekday}"),
            iid,
            assignment.id,
            weekday,
            time(9 + hour),
            time(10 + hour),
            venue=f"Room {101 + si}",
        )
        for si, section in enumerate(sections)
        for weekday in range(1, 7)
        for hour, assignment in enumerate(a for a in assignments if a.section_id == section.id)
    ]
    term = Term(
        TermId("DEMO-TERM"),
        iid,
        "Demo term",
        today - timedelta(days=56),
        today + timedelta(days=56),
    )
    with uow.for_institution(iid):
        for section in sections:
            uow.sections.add(section)
        uow.students.add_many(students)
        for subject in subjects:
            uow.subjects.add(subject)
        for person in (*faculty, admin):
            uow.faculty.add(person)
        for assignment in assignments:
            uow.assignments.add(assignment)
        for slot in slots:
            uow.slots.add(slot)
        uow.terms.add(term)
        uow.commit()


def _session_now(uow: UnitOfWork, now: datetime) -> SessionId:
    local = now.astimezone(ZoneInfo(DEMO_TIMEZONE))
    start = (local - timedelta(minutes=5)).time().replace(second=0, microsecond=0)
    if local.date() != (local - timedelta(minutes=5)).date():
        start = time(0, 0)
    end_at = local + timedelta(minutes=55)
    end = (
        end_at.time().replace(microsecond=0) if end_at.date() == local.date() else time(23, 59, 59)
    )
    session_id = SessionId(f"demo-now-{local:%Y%m%d%H%M}")
    with uow.for_institution(DEMO_INSTITUTION):
        if uow.sessions.find(session_id) is None:
            uow.sessions.add(
                ClassSession(
                    id=session_id,
                    institution_id=DEMO_INSTITUTION,
                    assignment_id=AssignmentId("E2-CSE-A-F001"),
                    section_id=SectionId("E2-CSE-A"),
                    subject_code=SubjectCode("CS201"),
                    date=local.date(),
                    start=start,
                    end=end,
                    teacher_id=FacultyId("F001"),
                    venue="Room 101 (demo)",
                )
            )
            uow.commit()
    return session_id
