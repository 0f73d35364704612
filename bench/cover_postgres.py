"""The whole cover-plan use case on PostgreSQL: load the board, rank, solve, store the plan.

A district day in one institution: 5,000 teachers, each qualified in 4 of 100 subjects and
teaching 6 of 8 periods; the institution allows only qualified substitutes
(``cover.qualified_only``), so a need has about 45 eligible candidates (qualified and free
that period). 334 teachers are away all day, which makes 2,004 needs. Caps: 2 covers a day,
6 a week. The data is loaded once into the benchmark database (as the owner, fast) and the
use case runs as the API's login, under row-level security.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from ams_adapters.composition import cover_solver
from ams_adapters.memory import FixedClock, SeededRandomSource, SystemRandomSource
from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    Absence,
    AbsenceId,
    AbsenceKind,
    AbsenceStatus,
    AssignmentId,
    ClassSession,
    CoverSettings,
    Faculty,
    FacultyId,
    Institution,
    InstitutionId,
    InstitutionSettings,
    NeedStatus,
    Section,
    SectionId,
    SessionId,
    Subject,
    SubjectCode,
    TeachingAssignment,
)
from ams_core.use_cases import BuildCoverPlan, BuildCoverPlanCommand
from ams_core.use_cases._cover import absence_needs, load_board
from bench.dataset import admin_of
from bench.postgres import Databases, connect
from bench.timing import Row

INSTITUTION = InstitutionId("cover-district")
TZ_NAME = "Asia/Kolkata"
DAY = date(2027, 3, 2)  # a Tuesday
TEACHERS = 5_000
SUBJECTS = 100
QUALIFIED_IN = 4
SECTIONS = 600
PERIODS = 8
TEACHING = 6
ABSENT = 334
SEED = 2027
#: the evening before the district day
NOW = datetime.combine(DAY - timedelta(days=1), clock_time(12, 30), tzinfo=UTC)


def _period(n: int) -> tuple[clock_time, clock_time]:
    start = 8 * 60 + n * 50
    return clock_time(start // 60, start % 60), clock_time((start + 45) // 60, (start + 45) % 60)


def _rows() -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(SEED)
    settings = InstitutionSettings(
        cover=CoverSettings(max_covers_per_day=2, max_covers_per_week=6, qualified_only=True)
    )
    institution = Institution(
        INSTITUTION, "District", TZ_NAME, frozenset({"district.edu"}), settings=settings
    )
    subjects = [
        Subject(SubjectCode(f"S{n:03d}"), INSTITUTION, f"S{n}", f"Subject {n}")
        for n in range(SUBJECTS)
    ]
    sections = [
        Section(SectionId(f"SEC{n:04d}"), INSTITUTION, 1 + n % 4, "GEN", f"{n}")
        for n in range(SECTIONS)
    ]
    faculty = [
        Faculty(
            FacultyId(f"T{n:05d}"),
            INSTITUTION,
            f"Teacher {n}",
            f"t{n:05d}@district.edu",
            f"D{n % 20:02d}",
            frozenset(s.code for s in rng.sample(subjects, QUALIFIED_IN)),
        )
        for n in range(TEACHERS)
    ]
    assignments: list[TeachingAssignment] = []
    sessions: list[ClassSession] = []
    for teacher in faculty:
        periods = sorted(rng.sample(range(PERIODS), TEACHING))
        # distinct sections: one teaching assignment per (teacher, subject, section)
        for period, section in zip(periods, rng.sample(sections, TEACHING), strict=True):
            subject = rng.choice(sorted(teacher.qualified_subjects))
            assignment = TeachingAssignment(
                AssignmentId(f"{teacher.id}-P{period}"),
                INSTITUTION,
                teacher.id,
                subject,
                section.id,
            )
            start, end = _period(period)
            assignments.append(assignment)
            sessions.append(
                ClassSession(
                    id=SessionId(f"{assignment.id}-{DAY}"),
                    institution_id=INSTITUTION,
                    assignment_id=assignment.id,
                    section_id=section.id,
                    subject_code=subject,
                    date=DAY,
                    start=start,
                    end=end,
                    teacher_id=teacher.id,
                )
            )
    return {
        "institutions": [m.institution_row(institution)],
        "institution_domains": [{"domain": "district.edu", "institution_id": INSTITUTION}],
        "subjects": [m.subject_row(s) for s in subjects],
        "sections": [m.section_row(s) for s in sections],
        "faculty": [m.faculty_row(f) for f in faculty],
        "assignments": [m.assignment_row(a) for a in assignments],
        "class_sessions": [m.session_row(s) for s in sessions],
    }


def _seed(db: Databases) -> None:
    with db.owner.connect() as connection:
        if connection.execute(
            text("SELECT 1 FROM institutions WHERE id = :id"), {"id": INSTITUTION}
        ).scalar():
            return
    print("  seeding the district day (5,000 teachers, 30,000 classes) …", flush=True)
    rows = _rows()
    with db.owner.begin() as connection:
        for table in t.metadata.sorted_tables:
            if rows.get(table.name):
                connection.execute(table.insert(), rows[table.name])
    # the absences and their needs go through the core, as the API would make them
    uow = SqlUnitOfWork(db.app)
    rng = random.Random(SEED + 1)
    away = sorted(rng.sample(range(TEACHERS), ABSENT))
    tz_start = datetime.combine(DAY, clock_time(0), tzinfo=ZoneInfo(TZ_NAME))
    with uow.for_institution(INSTITUTION):
        institution = uow.institutions.get(INSTITUTION)
        for n in away:
            absence = Absence(
                id=AbsenceId(f"away-{n:05d}"),
                institution_id=INSTITUTION,
                faculty_id=FacultyId(f"T{n:05d}"),
                starts_at=tz_start,
                ends_at=tz_start + timedelta(days=1),
                kind=AbsenceKind.SICK,
                status=AbsenceStatus.APPROVED,
                reported_at=NOW,
                reported_by="admin@district.edu",
            )
            uow.absences.add(absence)
            absence_needs(uow, institution, absence, now=NOW, random=SeededRandomSource(n))
        uow.commit()
    with db.owner.begin() as connection:
        connection.execute(text("ANALYZE"))


def use_case_rows(quick: bool) -> list[Row]:
    """Plan the district day with the composed solver (OR-Tools when installed), timed
    whole, next to the board load alone.
    """
    db = connect()
    _seed(db)
    admin = admin_of(INSTITUTION)
    plan = BuildCoverPlan(
        SqlUnitOfWork(db.app), FixedClock(NOW), SystemRandomSource(), cover_solver()
    )
    repeats = 2 if quick else 5
    whole: list[float] = []
    loads: list[float] = []
    result = None
    needs: list[object] = []
    for _ in range(repeats):
        started = time.perf_counter()
        with SqlUnitOfWork(db.app).for_institution(INSTITUTION) as uow:
            load_board(uow, uow.institutions.get(INSTITUTION), DAY, DAY)
            needs = list(uow.cover_needs.list_between(DAY, DAY, [NeedStatus.OPEN]))
        loads.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = plan(BuildCoverPlanCommand(admin, DAY, DAY))
        whole.append(time.perf_counter() - started)
    assert result is not None
    label = (
        f"cover plan use case on PostgreSQL, district day: {len(needs):,} needs × "
        f"{TEACHERS:,} teachers, solver {result.solver}: covered "
        f"{len(result.assignments):,}, score {result.total_score:,}"
    )
    return [
        Row(
            "  of which: load the board and the needs (same day)",
            repeats,
            sum(loads),
            "loads",
            p50_ms=statistics.median(loads) * 1e3,
            p99_ms=max(loads) * 1e3,
            goal="reported",
        ),
        Row(
            label,
            repeats,
            sum(whole),
            "plans",
            p50_ms=statistics.median(whole) * 1e3,
            p99_ms=max(whole) * 1e3,
            goal="≤ 1 s (load, rank, solve, store)",
        ),
    ]
