"""Benchmarks of the use cases over the memory adapter: the yardsticks for SQL and HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, MemoryStore, SeededRandomSource
from ams_core.domain import (
    ClassSession,
    DateRange,
    IsoWeek,
    Principal,
    SessionStatus,
)
from ams_core.testing.builders import faculty_principal, student_principal
from ams_core.use_cases import (
    BindDevice,
    BindDeviceCommand,
    CheckIn,
    CheckInCommand,
    CompleteSession,
    CompleteSessionCommand,
    GenerateWeek,
    GenerateWeekCommand,
    GetAttendanceSummary,
    GetAttendanceSummaryCommand,
    GetFacultyDashboard,
    GetFacultyDashboardCommand,
    GetSchedule,
    GetScheduleCommand,
    OpenAttendance,
    OpenAttendanceCommand,
)
from bench.dataset import (
    COLLEGE,
    LARGE_SCHOOL,
    OPERATOR,
    TERM_START,
    Seeded,
    Shape,
    admin_of,
    call_with,
    seed_institution,
    term_week,
)
from bench.timing import Row, latency_row


def _admin(seeded: Seeded) -> Principal:
    return admin_of(seeded.institution.id)


def bench_generate_week(institutions: int, shape: Shape = LARGE_SCHOOL) -> Row:
    """Generate one week for many institutions, one use-case call each."""
    uow = InMemoryUnitOfWork(MemoryStore())
    seeded = [seed_institution(uow, i, shape) for i in range(institutions)]
    generate = GenerateWeek(uow, SeededRandomSource(1))
    week = term_week(5)
    started = time.perf_counter()
    created = 0
    for s in seeded:
        created += generate(GenerateWeekCommand.for_week(OPERATOR, week, s.institution.id)).created
    seconds = time.perf_counter() - started
    return Row(
        f"generate week, {institutions} institutions (memory)",
        created,
        seconds,
        "sessions",
        goal="≤ 1.5 s on PostgreSQL for ~200,000",
    )


def _sessions_of_week(uow: InMemoryUnitOfWork, seeded: Seeded, week: IsoWeek) -> list[ClassSession]:
    with uow.for_institution(seeded.institution.id):
        found = [
            s
            for section in seeded.sections
            for s in uow.sessions.list_for_section(section, week.dates)
        ]
    return sorted(found, key=lambda s: (s.date, s.start, s.id))


def _at(session: ClassSession, seeded: Seeded, minutes: float) -> datetime:
    return (session.starts_at(seeded.institution.tz) + timedelta(minutes=minutes)).astimezone(UTC)


def bench_check_ins(total: int, shape: Shape = COLLEGE) -> Row:
    """Check in every student of as many sessions as it takes to reach ``total``."""
    uow = InMemoryUnitOfWork(MemoryStore())
    seeded = seed_institution(uow, 0, shape)
    rnd = SeededRandomSource(2)
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    week = term_week(1)
    GenerateWeek(uow, rnd)(GenerateWeekCommand.for_week(_admin(seeded), week))
    bind = BindDevice(uow, clock)
    for student in seeded.students:
        bind(BindDeviceCommand(student_principal(student), f"device-{student.id}"))
    by_section: dict[str, list[Principal]] = {}
    for student in seeded.students:
        by_section.setdefault(student.section_id, []).append(student_principal(student))
    teachers = {f.id: faculty_principal(f) for f in seeded.faculty}
    open_attendance = OpenAttendance(uow, clock, rnd)
    check_in = CheckIn(uow, clock, rnd)
    samples: list[int] = []
    done = 0
    elapsed = 0.0
    for session in _sessions_of_week(uow, seeded, week):
        if done >= total:
            break
        clock.set(_at(session, seeded, 0))
        code = open_attendance(OpenAttendanceCommand(teachers[session.teacher_id], session.id)).code
        clock.set(_at(session, seeded, 0.5))
        commands = [
            CheckInCommand(p, session.id, code, f"device-{p.student_id}")
            for p in by_section[session.section_id][: total - done]
        ]
        started = time.perf_counter()
        for command in commands:
            t0 = time.perf_counter_ns()
            check_in(command)
            samples.append(time.perf_counter_ns() - t0)
        elapsed += time.perf_counter() - started
        done += len(commands)
    samples.sort()
    return Row(
        "check-in (memory, use case)",
        done,
        elapsed,
        "check-ins",
        p50_ms=samples[len(samples) // 2] / 1e6,
        p99_ms=samples[int(len(samples) * 0.99)] / 1e6,
        goal="≥ 3,000/s over HTTP (issue 4)",
    )


def bench_complete(sessions: int, students: int = 150) -> Row:
    """Complete sessions of a 150-student section where half checked in."""
    shape = Shape(sections=1, students_per_section=students, faculty=6, subjects=6)
    uow = InMemoryUnitOfWork(MemoryStore())
    seeded = seed_institution(uow, 0, shape)
    rnd = SeededRandomSource(3)
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    weeks = max(1, -(-sessions // 30))
    for n in range(weeks):
        GenerateWeek(uow, rnd)(GenerateWeekCommand.for_week(_admin(seeded), term_week(n)))
    bind = BindDevice(uow, clock)
    principals = [student_principal(s) for s in seeded.students]
    for p in principals:
        bind(BindDeviceCommand(p, f"device-{p.student_id}"))
    teachers = {f.id: faculty_principal(f) for f in seeded.faculty}
    check_in = CheckIn(uow, clock, rnd)
    complete = CompleteSession(uow, clock)
    calls: list[Callable[[], object]] = []
    all_sessions = [s for n in range(weeks) for s in _sessions_of_week(uow, seeded, term_week(n))][
        :sessions
    ]
    for session in all_sessions:
        clock.set(_at(session, seeded, 0))
        code = OpenAttendance(uow, clock, rnd)(
            OpenAttendanceCommand(teachers[session.teacher_id], session.id)
        ).code
        for p in principals[::2]:
            check_in(CheckInCommand(p, session.id, code, f"device-{p.student_id}"))

    def completing(session: ClassSession) -> Callable[[], object]:
        def run() -> object:
            clock.set(_at(session, seeded, 50))
            return complete(
                CompleteSessionCommand(teachers[session.teacher_id], session.id, "topic")
            )

        return run

    calls = [completing(s) for s in all_sessions]
    return latency_row(
        f"complete a {students}-student session (memory)",
        calls,
        "sessions",
        goal="≤ 5 ms on PostgreSQL",
    )


def bench_queries(weeks_completed: int, repeats: int) -> list[Row]:
    """Schedule, summary and dashboard after ``weeks_completed`` weeks of completed classes."""
    uow = InMemoryUnitOfWork(MemoryStore())
    seeded = seed_institution(uow, 0, COLLEGE)
    rnd = SeededRandomSource(4)
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    admin = _admin(seeded)
    teachers = {f.id: faculty_principal(f) for f in seeded.faculty}
    generate = GenerateWeek(uow, rnd)
    for n in range(16):
        generate(GenerateWeekCommand.for_week(admin, term_week(n)))
    complete = CompleteSession(uow, clock)
    for n in range(weeks_completed):
        for session in _sessions_of_week(uow, seeded, term_week(n)):
            clock.set(_at(session, seeded, 55))
            complete(CompleteSessionCommand(teachers[session.teacher_id], session.id, "topic"))
    now_session = _sessions_of_week(uow, seeded, term_week(weeks_completed))[0]
    clock.set(_at(now_session, seeded, 0))
    with uow.for_institution(seeded.institution.id):
        marks = sum(len(uow.marks.list_for_session(s.id)) for s in _done(uow, seeded))
    students = [student_principal(s) for s in seeded.students]
    faculty = list(teachers.values())
    week = term_week(weeks_completed).dates
    schedule, summary, dashboard = (
        GetSchedule(uow),
        GetAttendanceSummary(uow, clock),
        GetFacultyDashboard(uow, clock),
    )
    label = f"{weeks_completed} weeks held, {marks:,} marks"
    return [
        latency_row(
            f"student schedule, one week (memory; {label})",
            [
                call_with(schedule, GetScheduleCommand(students[i % len(students)], week))
                for i in range(repeats)
            ],
            goal="p50 ≤ 0.5 ms on PostgreSQL",
        ),
        latency_row(
            f"attendance summary (memory; {label})",
            [
                call_with(summary, GetAttendanceSummaryCommand(students[i % len(students)]))
                for i in range(repeats)
            ],
            goal="p50 ≤ 0.5 ms on PostgreSQL",
        ),
        latency_row(
            f"faculty dashboard (memory; {label})",
            [
                call_with(dashboard, GetFacultyDashboardCommand(faculty[i % len(faculty)]))
                for i in range(repeats)
            ],
            goal="p50 ≤ 0.5 ms on PostgreSQL",
        ),
    ]


def _done(uow: InMemoryUnitOfWork, seeded: Seeded) -> list[ClassSession]:
    dates = DateRange(TERM_START, TERM_START + timedelta(weeks=16))
    return [
        s
        for section in seeded.sections
        for s in uow.sessions.list_for_section(section, dates)
        if s.status is SessionStatus.COMPLETED
    ]


__all__ = [
    "bench_check_ins",
    "bench_complete",
    "bench_generate_week",
    "bench_queries",
]
