"""Benchmarks on PostgreSQL, the production database, with PRODUCT.md §5's data set.

The database ``ams_bench`` is created (and kept between runs, so the 1.9-million-mark
term is loaded once) next to the server's ``test`` database. The use cases run through
``SqlUnitOfWork`` as ``ams_api_bench``, a login that owns nothing and is bound by
row-level security, exactly like the API; seeding and cleanup run as the owner.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url

from ams_adapters.memory import FixedClock, SystemRandomSource
from ams_adapters.settings import SqlSettings
from ams_adapters.sql import tables as t
from ams_adapters.sql.engine import make_engine
from ams_adapters.sql.migrate import upgrade
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    ClassSession,
    Institution,
    InstitutionId,
    IsoWeek,
    SectionId,
    Student,
    StudentId,
)
from ams_core.testing.builders import faculty_principal, student_principal
from ams_core.use_cases import (
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
)
from bench.dataset import (
    COLLEGE,
    LARGE_SCHOOL,
    OPERATOR,
    TERM_START,
    TERM_WEEKS,
    Shape,
    admin_of,
    call_with,
    seed_rows,
    term_week,
)
from bench.timing import Row, latency_row

ADMIN_URL = os.environ.get(
    "AMS_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DATABASE = os.environ.get("AMS_BENCH_DATABASE", "ams_bench")
APP_LOGIN = "ams_api_bench"

#: "Now" for the query benchmarks: Friday of the term's last week, 12:00 in Kolkata, so
#: ~15.8 of 16 weeks are held (≈1.9 million marks) and a few classes remain.
QUERY_NOW = datetime.combine(
    TERM_START + timedelta(weeks=TERM_WEEKS - 1, days=4), clock_time(6, 30), tzinfo=UTC
)


@dataclasses.dataclass(frozen=True)
class Databases:
    owner: Engine
    app: Engine
    app_url: str


def connect() -> Databases:
    """Create (once) and migrate the benchmark database; return owner and app engines."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": DATABASE}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    owner_url = make_url(ADMIN_URL).set(database=DATABASE)
    owner = create_engine(owner_url)
    upgrade(owner)
    with owner.begin() as connection:
        connection.execute(
            text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_LOGIN}') "
                f"THEN CREATE ROLE {APP_LOGIN} LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE ams_app; "
                "END IF; END $$"
            )
        )
    app_url = owner_url.set(username=APP_LOGIN, password=None).render_as_string(False)
    return Databases(owner, make_engine(SqlSettings(url=app_url, pool_size=4)), app_url)


def _has_institution(owner: Engine, institution_id: str) -> bool:
    with owner.connect() as connection:
        return bool(
            connection.execute(
                text("SELECT 1 FROM institutions WHERE id = :id"), {"id": institution_id}
            ).scalar()
        )


def _insert(owner: Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    with owner.begin() as connection:
        for table in t.metadata.sorted_tables:
            if rows.get(table.name):
                connection.execute(table.insert(), rows[table.name])


def _seed(owner: Engine, index: int, shape: Shape, institution_id: str) -> None:
    if not _has_institution(owner, institution_id):
        _insert(owner, seed_rows(index, shape, institution_id))


def _delete_sessions(owner: Engine, institution_ids: Sequence[str]) -> None:
    with owner.begin() as connection:
        for table in (
            "attendance_audit",
            "attendance_marks",
            "check_in_failures",
            "cover_assignments",
            "class_sessions",
        ):
            connection.execute(
                text(f"DELETE FROM {table} WHERE institution_id = ANY(:ids)"),
                {"ids": list(institution_ids)},
            )


# -- generate week ---------------------------------------------------------------------------

GENERATE_IDS = [f"gen-{i:03d}" for i in range(50)]


def _generate_for(app_url: str, institution_ids: Sequence[str], week: IsoWeek) -> int:
    engine = make_engine(SqlSettings(url=app_url, pool_size=1))
    uow = SqlUnitOfWork(engine)
    generate = GenerateWeek(uow, SystemRandomSource())
    created = 0
    for iid in institution_ids:
        command = GenerateWeekCommand.for_week(OPERATOR, week, InstitutionId(iid))
        created += generate(command).created
    engine.dispose()
    return created


def bench_generate_week(db: Databases, institutions: int) -> list[Row]:
    ids = GENERATE_IDS[:institutions]
    for i, iid in enumerate(ids):
        _seed(db.owner, i, LARGE_SCHOOL, iid)
    week = term_week(3)
    rows = []
    _delete_sessions(db.owner, ids)
    _generate_for(db.app_url, ids[:1], week)  # warm up the code paths
    _delete_sessions(db.owner, ids)
    started = time.perf_counter()
    created = _generate_for(db.app_url, ids, week)
    rows.append(
        Row(
            f"generate week, {institutions} institutions, 1 process (PostgreSQL)",
            created,
            time.perf_counter() - started,
            "sessions",
            goal="≤ 1.5 s for ~200,000",
        )
    )
    _delete_sessions(db.owner, ids)
    halves = [ids[0::2], ids[1::2]]
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    with context.Pool(2) as pool:
        created = sum(pool.starmap(_generate_for, [(db.app_url, h, week) for h in halves]))
    rows.append(
        Row(
            f"generate week, {institutions} institutions, 2 processes (PostgreSQL)",
            created,
            time.perf_counter() - started,
            "sessions",
            goal="≤ 1.5 s for ~200,000",
        )
    )
    rows += _generation_floors(db, ids, created)
    return rows


def _generation_floors(db: Databases, ids: Sequence[str], count: int) -> list[Row]:
    """The same rows written by PostgreSQL alone, as the owner: back into ``class_sessions``
    (every constraint, index and foreign-key trigger on), and into a bare copy of it."""
    rows = []
    with db.owner.begin() as connection:
        connection.execute(
            text(
                "CREATE TEMP TABLE floor_sessions ON COMMIT DROP AS "
                "SELECT * FROM class_sessions WHERE institution_id = ANY(:ids)"
            ),
            {"ids": list(ids)},
        )
        connection.execute(
            text("CREATE TEMP TABLE floor_bare (LIKE class_sessions) ON COMMIT DROP")
        )
        for table, label in (
            ("floor_bare", "into a copy of the table without indexes or constraints"),
            ("class_sessions", "back into class_sessions, every constraint and index on"),
        ):
            if table == "class_sessions":
                connection.execute(
                    text("DELETE FROM class_sessions WHERE institution_id = ANY(:ids)"),
                    {"ids": list(ids)},
                )
            started = time.perf_counter()
            connection.execute(text(f"INSERT INTO {table} SELECT * FROM floor_sessions"))
            rows.append(
                Row(
                    f"floor: the same {count:,} sessions by INSERT … SELECT in SQL, {label}",
                    count,
                    time.perf_counter() - started,
                    "sessions",
                    goal="(generate goal ≤ 1.5 s)",
                )
            )
    return rows


# -- bulk upsert ---------------------------------------------------------------------------------

UPSERT_ID = "bench-upsert"


def bench_upsert(db: Databases, count: int) -> list[Row]:
    shape = Shape(sections=max(1, count // 125), students_per_section=0, faculty=6, subjects=6)
    # one institution per size: it is seeded once and kept, and a run of another size (say
    # --quick, with fewer sections) must not leave it too small for this one
    iid = InstitutionId(f"{UPSERT_ID}-{count}")
    _seed(db.owner, 900 + len(str(count)), shape, iid)  # its own index: its own email domain
    with db.owner.begin() as connection:
        connection.execute(text("DELETE FROM students WHERE institution_id = :i"), {"i": iid})
    sections = [SectionId(f"S{n:03d}") for n in range(shape.sections)]
    students = [
        Student(
            StudentId(f"U{n:07d}"),
            iid,
            f"Student {n}",
            f"u{n:07d}@upsert.edu",
            sections[n % len(sections)],
            roll_number=n % 150 + 1,
        )
        for n in range(count)
    ]
    changed = [
        dataclasses.replace(s, name=f"{s.name} (renamed)") if n % 2 else s
        for n, s in enumerate(students)
    ]
    rows = []
    for label, batch in (("new", students), ("half of them changed", changed)):
        uow = SqlUnitOfWork(db.app)
        started = time.perf_counter()
        with uow.for_institution(iid):
            result = uow.students.upsert_many(batch)
            uow.commit()
        seconds = time.perf_counter() - started
        rows.append(
            Row(
                f"bulk upsert {count:,} students, {label} (PostgreSQL; {result.created:,} "
                f"created, {result.updated:,} updated)",
                count,
                seconds,
                "rows",
                goal="≥ 400,000 rows/s",
            )
        )
    rows += _upsert_floors(db, count, iid)
    return rows


def _upsert_floors(db: Databases, count: int, institution_id: str) -> list[Row]:
    """COPY of the same student rows by psycopg alone, as the owner, into an empty copy of
    ``students`` with its primary key, unique email and indexes (no foreign keys), and into
    a bare copy."""
    rows = []
    raw = db.owner.raw_connection()
    try:
        pg: Any = raw.driver_connection
        with pg.cursor() as cursor:
            data = bytearray()
            with cursor.copy(
                "COPY (SELECT * FROM students WHERE institution_id = %s) TO STDOUT",
                (institution_id,),
            ) as copy:
                for block in copy:
                    data += block
            for table, like, label in (
                ("floor_students_bare", "", "a bare copy of the table"),
                ("floor_students", " INCLUDING ALL", "a copy with its keys and indexes"),
            ):
                cursor.execute(f"CREATE TEMP TABLE {table} (LIKE students{like})")
                started = time.perf_counter()
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write(bytes(data))
                seconds = time.perf_counter() - started
                rows.append(
                    Row(
                        f"floor: COPY of the same {count:,} students into {label}",
                        count,
                        seconds,
                        "rows",
                        goal="(upsert goal ≥ 400,000 rows/s)",
                    )
                )
                cursor.execute(f"DROP TABLE {table}")
        pg.rollback()
    finally:
        raw.close()
    return rows


# -- complete a session ----------------------------------------------------------------

COMPLETE_ID = "bench-complete"


def seed_complete_institution(owner: Engine, students: int = 150) -> None:
    """The institution of the completion benchmarks: one section of ``students``."""
    shape = Shape(sections=1, students_per_section=students, faculty=6, subjects=6)
    _seed(owner, 901, shape, COMPLETE_ID)


def check_in_half(connection: Connection, sessions_like: str) -> None:
    """Half the class (even roll numbers) present in the completion institution's sessions
    whose id is ``LIKE sessions_like``, as if checked in."""
    connection.execute(
        text(
            "INSERT INTO attendance_marks (institution_id, session_id, student_id, status, "
            "marked_at, marked_by, source, version, subject_code, day, counted) "
            "SELECT s.institution_id, s.id, st.id, 'present', now(), st.email, 'check_in', "
            "0, s.subject_code, s.day, false FROM class_sessions s JOIN students st "
            "ON st.institution_id = s.institution_id AND st.section_id = s.section_id "
            "WHERE s.institution_id = :i AND s.id LIKE :p AND st.roll_number % 2 = 0"
        ),
        {"i": COMPLETE_ID, "p": sessions_like},
    )


def bench_complete(db: Databases, sessions: int, students: int = 150) -> Row:
    seed_complete_institution(db.owner, students)
    _delete_sessions(db.owner, [COMPLETE_ID])
    iid = InstitutionId(COMPLETE_ID)
    uow = SqlUnitOfWork(db.app)
    admin = admin_of(iid)
    weeks = -(-sessions // 30)
    for n in range(weeks):
        GenerateWeek(uow, SystemRandomSource())(GenerateWeekCommand.for_week(admin, term_week(n)))
    with db.owner.begin() as connection:
        # half the class checked in; the session is open (as if the teacher opened it)
        connection.execute(
            text("UPDATE class_sessions SET status = 'open' WHERE institution_id = :i"),
            {"i": COMPLETE_ID},
        )
        check_in_half(connection, "%")
    with db.owner.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # as autovacuum would have by then: fresh rows with no statistics make the planner
        # take the institution's whole report index for a session's marks
        connection.execute(text("ANALYZE students, class_sessions, attendance_marks"))
    with uow.for_institution(iid):
        faculty = {f.id: faculty_principal(f) for f in uow.faculty.list()}
        institution = uow.institutions.get(iid)
        targets = sorted(
            (s for a in uow.assignments.list() for s in uow.sessions.list_for_assignment(a.id)),
            key=lambda s: (s.date, s.start, s.id),
        )[:sessions]
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    complete = CompleteSession(uow, clock)

    def completing(session: ClassSession) -> Callable[[], object]:
        def run() -> object:
            clock.set(session.ends_at(institution.tz) - timedelta(minutes=5))
            return complete(
                CompleteSessionCommand(faculty[session.teacher_id], session.id, "topic")
            )

        return run

    return latency_row(
        f"complete a {students}-student session, half checked in (PostgreSQL)",
        [completing(s) for s in targets],
        "sessions",
        goal="≤ 5 ms",
    )


# -- queries on the full term -----------------------------------------------------------

COLLEGE_ID = "college"


def _load_term(db: Databases) -> int:
    """The legacy college with every past session held and marked; returns the marks."""
    iid = InstitutionId(COLLEGE_ID)
    with db.owner.connect() as connection:
        marks = connection.execute(
            text("SELECT count(*) FROM attendance_marks WHERE institution_id = :i"),
            {"i": COLLEGE_ID},
        ).scalar_one()
    if marks:
        return int(marks)
    _seed(db.owner, 902, COLLEGE, COLLEGE_ID)
    _delete_sessions(db.owner, [COLLEGE_ID])
    uow = SqlUnitOfWork(db.app)
    admin = admin_of(iid)
    for n in range(TERM_WEEKS):
        GenerateWeek(uow, SystemRandomSource())(GenerateWeekCommand.for_week(admin, term_week(n)))
    now_local = QUERY_NOW.astimezone(Institution(iid, "x", "Asia/Kolkata", frozenset()).tz)
    held = "(s.day, s.start_time) < (:today, :now)"
    params = {"i": COLLEGE_ID, "today": now_local.date(), "now": now_local.time()}
    with db.owner.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # statistics for the new students and sessions first: without them the planner may
        # check each new mark's foreign keys by scanning the whole students table
        connection.execute(text("ANALYZE students, class_sessions"))
    with db.owner.begin() as connection:
        # statuses spread like a real class: ~84 % present, 5 % late, 9 % absent, 2 % excused
        connection.execute(
            text(
                "INSERT INTO attendance_marks (institution_id, session_id, student_id, status, "
                "marked_at, marked_by, source, version, subject_code, day, counted) "
                "SELECT s.institution_id, s.id, st.id, "
                "CASE WHEN h < 84 THEN 'present' WHEN h < 89 THEN 'late' "
                "WHEN h < 98 THEN 'absent' ELSE 'excused' END, "
                "(s.day + s.start_time) AT TIME ZONE 'Asia/Kolkata', st.email, 'check_in', 0, "
                "s.subject_code, s.day, true "
                "FROM class_sessions s JOIN students st ON st.institution_id = s.institution_id "
                "AND st.section_id = s.section_id "
                "CROSS JOIN LATERAL (SELECT abs(hashtext(s.id || st.id)) % 100 AS h) r "
                f"WHERE s.institution_id = :i AND {held}"
            ),
            params,
        )
        # fresh statistics for the ~1.9M new rows, or the planner joins them row by row
        connection.execute(text("ANALYZE attendance_marks, class_sessions"))
        connection.execute(
            text(
                "UPDATE class_sessions s SET status = 'completed', topic = 'Topic ' || s.day, "
                "completed_at = (s.day + s.end_time) AT TIME ZONE 'Asia/Kolkata', "
                "tally_present = c.p, tally_late = c.l, tally_absent = c.a, tally_excused = c.e "
                "FROM (SELECT session_id, count(*) FILTER (WHERE status = 'present') p, "
                "count(*) FILTER (WHERE status = 'late') l, "
                "count(*) FILTER (WHERE status = 'absent') a, "
                "count(*) FILTER (WHERE status = 'excused') e FROM attendance_marks "
                "WHERE institution_id = :i GROUP BY session_id) c "
                f"WHERE s.institution_id = :i AND s.id = c.session_id AND {held}"
            ),
            params,
        )
    with db.owner.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return _load_term(db)


def bench_queries(db: Databases, repeats: int) -> list[Row]:
    marks = _load_term(db)
    iid = InstitutionId(COLLEGE_ID)
    uow = SqlUnitOfWork(db.app)
    with uow.for_institution(iid):
        students = [student_principal(s) for s in uow.students.list()]
        faculty = [faculty_principal(f) for f in uow.faculty.list()]
    clock = FixedClock(QUERY_NOW)
    week = IsoWeek.containing(QUERY_NOW.date()).dates
    schedule = GetSchedule(uow)
    summary = GetAttendanceSummary(uow, clock)
    dashboard = GetFacultyDashboard(uow, clock)
    label = f"{marks:,} marks"
    cases: list[tuple[str, list[Callable[[], object]]]] = [
        (
            f"student schedule, one week (PostgreSQL, use case; {label})",
            [
                call_with(schedule, GetScheduleCommand(students[i % len(students)], week))
                for i in range(repeats)
            ],
        ),
        (
            f"attendance summary (PostgreSQL, use case; {label})",
            [
                call_with(summary, GetAttendanceSummaryCommand(students[i * 7 % len(students)]))
                for i in range(repeats)
            ],
        ),
        (
            f"faculty dashboard (PostgreSQL, use case; {label})",
            [
                call_with(dashboard, GetFacultyDashboardCommand(faculty[i % len(faculty)]))
                for i in range(repeats)
            ],
        ),
    ]
    rows = []
    for name, calls in cases:
        for warm in calls[: min(200, len(calls))]:
            warm()
        rows.append(latency_row(name, calls, goal="p50 ≤ 0.5 ms"))
    return rows


def round_trip(db: Databases, repeats: int = 2000) -> Row:
    """The floor under every query: one trivial statement as the app login."""
    with db.app.connect() as connection:
        calls = [lambda: connection.execute(text("SELECT 1")) for _ in range(repeats)]
        return latency_row("one `SELECT 1` round trip (SQLAlchemy + psycopg)", calls)


CHURNED_TABLES = (
    "students",
    "class_sessions",
    "attendance_marks",
    "attendance_audit",
    "check_in_failures",
    "device_bindings",
    "sign_ins",
    "security_events",
    "outbox",
)


def vacuum(db: Databases) -> None:
    """VACUUM ANALYZE what the benchmarks delete and rewrite, as autovacuum would between
    runs: this machine's PostgreSQL runs with ``autovacuum = off``, and the dead rows of
    earlier runs (over a million in ``class_sessions`` after a few) otherwise slow every
    later index scan by an amount that depends on how many runs came before."""
    started = time.perf_counter()
    with db.owner.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM ANALYZE {', '.join(CHURNED_TABLES)}"))
    print(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def run(quick: bool) -> list[Row]:
    db = connect()
    rows = [round_trip(db)]
    rows += bench_generate_week(db, 2 if quick else 50)
    rows += bench_upsert(db, 2_000 if quick else 100_000)
    rows.append(bench_complete(db, 5 if quick else 60))
    vacuum(db)
    rows += bench_queries(db, 50 if quick else 2_000)
    db.app.dispose()
    db.owner.dispose()
    return rows


__all__ = ["date", "run", "statistics"]
