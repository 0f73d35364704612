"""Tenant isolation on PostgreSQL, as the API's login role (security-and-reliability.md §4,
acceptance tests T1–T5 and T7–T10).

Row-level security is checked with statements that carry no tenant filter at all, so the
repositories' own ``WHERE institution_id = ...`` cannot hide a missing policy.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from ams_adapters.memory import SeededRandomSource
from ams_adapters.sql import tables as t
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    Absence,
    AbsenceId,
    AbsenceKind,
    AbsenceStatus,
    AmsError,
    AttendanceMark,
    AttendanceStatus,
    CoverAssignment,
    CoverId,
    CoverPlan,
    CoverPlanId,
    DeviceBinding,
    DeviceId,
    Holiday,
    InstitutionId,
    MarkSource,
    NotFoundError,
    OperatorSignIn,
    PasswordCredential,
    PreferenceId,
    PreferenceKind,
    PushPlatform,
    PushToken,
    Section,
    SectionId,
    SecurityEvent,
    SecurityEventKind,
    SessionId,
    SignIn,
    SignInId,
    SignInMethod,
    Student,
    StudentId,
    SubjectCode,
    SubstitutePreference,
)
from ams_core.testing.builders import MONDAY
from ams_core.use_cases import (
    BindDevice,
    BindDeviceCommand,
    CheckIn,
    CheckInCommand,
    CompleteSession,
    CompleteSessionCommand,
    GetAttendanceSummary,
    GetAttendanceSummaryCommand,
    GetFacultyDashboard,
    GetFacultyDashboardCommand,
    GetSessionRoster,
    GetSessionRosterCommand,
    MarkAttendance,
    MarkAttendanceCommand,
    MarkEntry,
    OpenAttendance,
    OpenAttendanceCommand,
)
from tests.sql.conftest import APP_LOGIN, PostgresDatabase
from tests.sql.helpers import (
    HOLIDAY,
    WEEK_DATES,
    A,
    B,
    TwoColleges,
    app_engine,
    clock,
    seed_two_colleges,
)

#: Tables readable in the platform scope; they carry a policy too.
PLATFORM_TABLES = ("institutions", "institution_domains", "outbox")
#: Tables only the platform scope reads or writes (no institution column; a policy too).
PLATFORM_ONLY_TABLES = tuple(table.name for table in t.PLATFORM_ONLY_TABLES)
PROTECTED_TABLES = tuple(
    sorted({t.name for t in t.TENANT_TABLES} | set(PLATFORM_TABLES) | set(PLATFORM_ONLY_TABLES))
)
#: The operator token every ``colleges`` database also holds (platform scope).
OPERATOR_TOKEN = OperatorSignIn(
    SignInId("OP-1"),
    "ops@ams.example",
    datetime(2026, 11, 16, tzinfo=UTC),
    datetime(2100, 1, 1, tzinfo=UTC),
)
#: Tables whose rows are history; nothing may cascade into them.
HISTORY_PARENTS = ("students", "faculty", "subjects", "sections", "assignments", "class_sessions")


@pytest.fixture
def colleges(pg: PostgresDatabase) -> TwoColleges:
    seeded = seed_two_colleges(pg.app)
    with SqlUnitOfWork(pg.app).for_platform() as uow:
        uow.operator_sign_ins.add(OPERATOR_TOKEN)
        uow.commit()
    return seeded


def scoped(connection: Connection, institution_id: str) -> None:
    """Set the transaction-local scope exactly as the unit of work does."""
    connection.execute(
        text("SELECT set_config('app.institution_id', :iid, true)"), {"iid": institution_id}
    )


def sqlstate(error: BaseException) -> str:
    assert isinstance(error, sa_exc.DBAPIError), error
    return str(getattr(error.orig, "sqlstate", ""))


def owner_count(pg: PostgresDatabase, sql: str, **params: Any) -> int:
    """Count as the owner (a superuser: row-level security does not apply)."""
    with pg.owner.connect() as connection:
        return int(connection.execute(text(sql), params).scalar_one())


# -- T1 catalog ----------------------------------------------------------------------------


def unprotected_tables(connection: Connection) -> dict[str, str]:
    """Every public table that holds tenant rows but lacks forced RLS or a policy, or that
    has an institution_id column and is missing from the declared tenant tables."""
    problems: dict[str, str] = {}
    with_column = set(
        connection.execute(
            text(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name = 'institution_id'"
            )
        ).scalars()
    )
    for name in sorted(with_column - set(PROTECTED_TABLES)):
        problems[name] = "has institution_id but is not a declared tenant table"
    rows = connection.execute(
        text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
            "FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
            "AND c.relkind = 'r' AND c.relname = ANY(:names)"
        ),
        {"names": sorted(with_column | set(PROTECTED_TABLES))},
    ).all()
    found = {row[0] for row in rows}
    for name in sorted(set(PROTECTED_TABLES) - found):
        problems[name] = "missing"
    for name, enabled, forced, policies in rows:
        if not (enabled and forced and policies >= 1):
            problems.setdefault(name, f"rls={enabled} forced={forced} policies={policies}")
    return problems


def test_every_tenant_table_has_forced_row_level_security_and_a_policy(
    pg: PostgresDatabase,
) -> None:
    assert "students" in PROTECTED_TABLES
    assert len(PROTECTED_TABLES) == len(t.metadata.tables)
    with pg.app.connect() as connection:
        assert unprotected_tables(connection) == {}


def test_the_catalog_check_catches_a_new_table_with_an_institution_column(
    pg: PostgresDatabase,
) -> None:
    with pg.owner.connect() as connection:
        connection.execute(text("CREATE TABLE rogue (institution_id text, x int)"))
        connection.execute(text("ALTER TABLE sections NO FORCE ROW LEVEL SECURITY"))
        try:
            assert unprotected_tables(connection) == {
                "rogue": "has institution_id but is not a declared tenant table",
                "sections": "rls=True forced=False policies=1",
            }
        finally:
            connection.rollback()


def test_the_login_role_is_no_superuser_cannot_bypass_rls_and_owns_nothing(
    pg: PostgresDatabase,
) -> None:
    with pg.app.connect() as connection:
        user, superuser, bypass = connection.execute(
            text(
                "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                "WHERE rolname = current_user"
            )
        ).one()
        assert (user, superuser, bypass) == (APP_LOGIN, False, False)
        # nothing in the schema is owned by the login or by a role it can act as
        owned = connection.execute(
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND pg_has_role(current_user, relowner, 'USAGE')"
            )
        ).all()
        assert owned == []
        definers = connection.execute(
            text(
                "SELECT proname FROM pg_proc WHERE prosecdef "
                "AND pronamespace = 'public'::regnamespace"
            )
        ).all()
        assert definers == []
        views = connection.execute(
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND relkind IN ('v', 'm') "
                "AND NOT coalesce('security_invoker=true' = ANY(reloptions), false)"
            )
        ).all()
        assert views == []


# -- T2 fail closed ------------------------------------------------------------------------


def test_without_a_scope_the_login_sees_no_rows_and_cannot_insert(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    assert owner_count(pg, "SELECT count(*) FROM students") == 12
    with pg.app.connect() as connection:
        for name in PROTECTED_TABLES:
            count = connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()  # noqa: S608
            assert count == 0, name
        with pytest.raises(sa_exc.DBAPIError) as refused:
            connection.execute(
                t.sections.insert().values(
                    institution_id=A, id="S-NEW", year=1, department="CSE", name="New"
                )
            )
        assert sqlstate(refused.value) == "42501"
        connection.rollback()
    assert owner_count(pg, "SELECT count(*) FROM sections WHERE id = 'S-NEW'") == 0


def test_the_platform_scope_sees_institutions_but_no_tenant_rows(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    with pg.app.begin() as connection:
        connection.execute(text("SELECT set_config('app.scope', 'platform', true)"))
        assert connection.execute(text("SELECT count(*) FROM institutions")).scalar_one() == 2
        assert connection.execute(text("SELECT count(*) FROM operator_sign_ins")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM students")).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM class_sessions")).scalar_one() == 0


# -- T3 scope ------------------------------------------------------------------------------


def test_unfiltered_reads_in_a_scope_see_only_that_institutions_rows(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    with pg.app.begin() as connection:
        scoped(connection, A)
        students = connection.execute(text("SELECT institution_id, id FROM students")).all()
        assert len(students) == 6
        assert {row[0] for row in students} == {A}
        for name in PROTECTED_TABLES:
            if name in PLATFORM_ONLY_TABLES:
                count = connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()  # noqa: S608
                assert count == 0, name
                continue
            owners = set(
                connection.execute(
                    text(f"SELECT DISTINCT institution_id FROM {name}")  # noqa: S608
                    if name != "institutions"
                    else text("SELECT id FROM institutions")
                ).scalars()
            )
            assert owners <= {A}, name
        assert connection.execute(text("SELECT count(*) FROM class_sessions")).scalar_one() == 15


def test_unfiltered_updates_and_deletes_in_a_scope_touch_only_that_institution(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    with pg.app.begin() as connection:
        scoped(connection, A)
        updated = connection.execute(text("UPDATE class_sessions SET venue = 'X'"))
        assert updated.rowcount == 15
        deleted = connection.execute(text("DELETE FROM holidays"))
        assert deleted.rowcount == 1
        aimed_at_b = connection.execute(
            text("UPDATE students SET name = 'Hacked' WHERE institution_id = :b"), {"b": B}
        )
        assert aimed_at_b.rowcount == 0
        b_session = colleges.b_sessions[0].id
        by_id = connection.execute(
            text("DELETE FROM class_sessions WHERE id = :id"), {"id": b_session}
        )
        assert by_id.rowcount == 0
    with pg.owner.connect() as connection:
        venues: dict[str, list[str]] = dict(
            connection.execute(
                text(
                    "SELECT institution_id, array_agg(DISTINCT venue) FROM class_sessions "
                    "GROUP BY institution_id"
                )
            ).all()
        )
        assert venues[A] == ["X"]
        assert "X" not in venues[B]
        holidays = connection.execute(text("SELECT institution_id, day FROM holidays")).all()
        assert holidays == [(B, HOLIDAY)]
        assert (
            connection.execute(
                text("SELECT count(*) FROM students WHERE name = 'Hacked'")
            ).scalar_one()
            == 0
        )


@pytest.mark.parametrize(
    ("table", "row"),
    [
        ("sections", {"id": "S-X", "year": 1, "department": "CSE", "name": "X"}),
        ("holidays", {"day": date(2026, 10, 3), "name": "X"}),
        ("institutions", {"id": "inst-b", "name": "x", "timezone": "UTC"}),
        (
            "sign_ins",
            {
                "id": "SI-X",
                "email": "x@b.edu",
                "method": "google",
                "refresh_digest": "0" * 64,
                "created_at": datetime(2026, 11, 16, tzinfo=UTC),
                "expires_at": datetime(2026, 12, 16, tzinfo=UTC),
            },
        ),
        ("password_credentials", {"email": "x@b.edu", "password_hash": "h"}),
        (
            "push_tokens",
            {
                "token_digest": "0" * 64,
                "token": "tok",
                "platform": "web",
                "owner_email": "x@b.edu",
                "registered_at": datetime(2026, 11, 16, tzinfo=UTC),
            },
        ),
    ],
)
def test_inserting_a_row_of_another_institution_is_refused_by_the_policy(
    pg: PostgresDatabase, colleges: TwoColleges, table: str, row: dict[str, Any]
) -> None:
    values = dict(row)
    if table == "institutions":
        values.update(id=B, email_domains=[], settings={})
    else:
        values["institution_id"] = B
    with pg.app.connect() as connection:
        scoped(connection, A)
        with pytest.raises(sa_exc.DBAPIError) as refused:
            connection.execute(t.metadata.tables[table].insert().values(values))
        # the policy refuses (42501) before any key could reveal B's row
        assert sqlstate(refused.value) == "42501"
        connection.rollback()


def test_no_institution_scope_reads_or_writes_operator_tokens(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    assert owner_count(pg, "SELECT count(*) FROM operator_sign_ins") == 1
    with pg.app.connect() as connection:
        scoped(connection, A)
        assert connection.execute(text("SELECT count(*) FROM operator_sign_ins")).scalar_one() == 0
        revoked = connection.execute(text("UPDATE operator_sign_ins SET revoked_at = now()"))
        assert revoked.rowcount == 0
        assert connection.execute(text("DELETE FROM operator_sign_ins")).rowcount == 0
        with pytest.raises(sa_exc.DBAPIError) as refused:
            connection.execute(
                t.operator_sign_ins.insert().values(
                    id="OP-FORGED",
                    email="intruder@a.edu",
                    issued_at=datetime(2026, 11, 16, tzinfo=UTC),
                    expires_at=datetime(2100, 1, 1, tzinfo=UTC),
                )
            )
        assert sqlstate(refused.value) == "42501"
        connection.rollback()
    with SqlUnitOfWork(pg.app).for_institution(A) as uow, pytest.raises(AmsError):
        uow.operator_sign_ins.revoke_all(datetime(2026, 11, 17, tzinfo=UTC))
    assert owner_count(pg, "SELECT count(*) FROM operator_sign_ins WHERE revoked_at IS NULL") == 1
    with SqlUnitOfWork(pg.app).for_platform() as uow:
        assert uow.operator_sign_ins.find(OPERATOR_TOKEN.id) == OPERATOR_TOKEN


def test_moving_a_row_into_another_institution_is_refused_by_the_policy(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    with pg.app.connect() as connection:
        scoped(connection, A)
        with pytest.raises(sa_exc.DBAPIError) as refused:
            connection.execute(
                text("UPDATE holidays SET institution_id = :b WHERE day = :day"),
                {"b": B, "day": HOLIDAY},
            )
        assert sqlstate(refused.value) == "42501"
        connection.rollback()


# -- T4 / T5 pooled connections ---------------------------------------------------------------


def test_a_scope_ends_with_its_transaction_on_a_pooled_connection(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    engine = app_engine(pg.app_url, pool_size=1, max_overflow=0)
    try:
        with engine.begin() as connection:
            scoped(connection, A)
            first_pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            assert connection.execute(text("SELECT count(*) FROM students")).scalar_one() == 6
        with engine.begin() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() == first_pid
            # the GUC now exists in the session but is '' (the NULLIF guard matters)
            setting = connection.execute(
                text("SELECT current_setting('app.institution_id', true)")
            ).scalar_one()
            assert setting == ""
            assert connection.execute(text("SELECT count(*) FROM students")).scalar_one() == 0
            assert connection.execute(text("SELECT count(*) FROM institutions")).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_thousand_alternating_units_of_work_never_see_the_other_institution(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    engine = app_engine(pg.app_url, pool_size=1, max_overflow=0)
    unfiltered = text(
        "SELECT (SELECT array_agg(DISTINCT institution_id) FROM students), "
        "(SELECT array_agg(DISTINCT institution_id) FROM class_sessions), "
        "pg_backend_pid()"
    )
    pids: set[int] = set()
    try:
        for i in range(1000):
            iid = A if i % 2 == 0 else B
            with SqlUnitOfWork(engine).for_institution(iid) as uow:
                students, sessions, pid = uow.execute(unfiltered).one()
                assert (students, sessions) == ([iid], [iid]), i
                if i % 100 == 0:
                    assert {s.institution_id for s in uow.students.list()} == {iid}
                pids.add(pid)
                if i % 3 == 0:
                    uow.commit()
            if i % 10 == 9:
                # whatever the unit of work did, nothing of its scope outlives it
                with engine.connect() as connection:
                    leftover = connection.execute(
                        text("SELECT count(*) FROM students")
                    ).scalar_one()
                    assert leftover == 0, i
    finally:
        engine.dispose()
    assert len(pids) == 1


# -- T7 no session-level SET -----------------------------------------------------------------

SESSION_SET = re.compile(r"\bSET\s+(?!LOCAL\b)(SESSION\s+)?\"?app\.", re.IGNORECASE)
#: the third argument (is_local) of a set_config call
SET_CONFIG_FLAG = re.compile(r"set_config\s*\(\s*[^,]+,\s*[^,]+,\s*([^\s)]+)\s*\)", re.IGNORECASE)


@pytest.fixture
def statements(pg: PostgresDatabase) -> Iterator[list[str]]:
    """Every statement the API's engine sends while the test runs."""
    seen: list[str] = []

    def spy(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        seen.append(statement)

    event.listen(pg.app, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(pg.app, "before_cursor_execute", spy)


def test_use_cases_only_ever_set_the_scope_transaction_locally(
    pg: PostgresDatabase, statements: list[str]
) -> None:
    colleges = seed_two_colleges(pg.app)
    a = colleges.a
    session = colleges.session(a, a.alice_cs_a.id)
    uow = SqlUnitOfWork(pg.app)
    stopped = clock()
    random = SeededRandomSource(3)
    student = a.as_student(0)
    BindDevice(uow, stopped)(BindDeviceCommand(student, "phone-N210001"))
    opened = OpenAttendance(uow, stopped, random)(OpenAttendanceCommand(a.as_alice(), session.id))
    CheckIn(uow, stopped, random)(CheckInCommand(student, session.id, opened.code, "phone-N210001"))
    MarkAttendance(uow, stopped)(
        MarkAttendanceCommand(
            a.as_alice(), session.id, [MarkEntry(a.students[1].id, AttendanceStatus.LATE)]
        )
    )
    CompleteSession(uow, stopped)(CompleteSessionCommand(a.as_alice(), session.id))
    GetSessionRoster(uow)(GetSessionRosterCommand(a.as_alice(), session.id))
    GetAttendanceSummary(uow, stopped)(GetAttendanceSummaryCommand(student))
    GetFacultyDashboard(uow, stopped)(GetFacultyDashboardCommand(a.as_alice()))

    assert len(statements) > 50
    session_sets = [s for s in statements if SESSION_SET.search(s)]
    assert session_sets == []
    flags = [flag.lower() for s in statements for flag in SET_CONFIG_FLAG.findall(s)]
    assert len(flags) == sum(s.lower().count("set_config") for s in statements)
    assert len(flags) >= 2 * 8, "the spy missed the scope of some units of work"
    assert set(flags) == {"true"}


def test_the_statement_spy_recognises_session_level_settings() -> None:
    """Guard for the test above: the patterns do match the forbidden forms."""
    assert SESSION_SET.search("SET app.institution_id = 'x'")
    assert SESSION_SET.search("set session app.scope to 'platform'")
    assert not SESSION_SET.search("SET LOCAL app.institution_id = 'x'")
    flags = SET_CONFIG_FLAG.findall(
        "SELECT set_config('app.institution_id', %(i)s, false), set_config('app.scope', 'x', TRUE)"
    )
    assert flags == ["false", "TRUE"]


# -- T8 the login cannot switch RLS off ------------------------------------------------------


@pytest.mark.parametrize(
    "ddl",
    [
        "ALTER TABLE students DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE students NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY institution_isolation ON students",
        "ALTER POLICY institution_isolation ON students USING (true)",
        "CREATE POLICY open_door ON students USING (true)",
    ],
)
def test_the_login_role_cannot_weaken_row_level_security(pg: PostgresDatabase, ddl: str) -> None:
    with pg.app.connect() as connection:
        with pytest.raises(sa_exc.DBAPIError) as refused:
            connection.execute(text(ddl))
        assert sqlstate(refused.value) == "42501"
        connection.rollback()


def test_switching_row_security_off_makes_queries_fail_instead_of_seeing_everything(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    with pg.app.connect() as connection:
        connection.execute(text("SET LOCAL row_security = off"))
        with pytest.raises(sa_exc.DBAPIError) as refused:
            connection.execute(text("SELECT count(*) FROM students"))
        assert sqlstate(refused.value) == "42501"
        connection.rollback()


# -- T9 composite foreign keys, T10 per-institution unique keys -------------------------------


def test_a_row_cannot_reference_a_parent_of_another_institution(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    only_in_b = Section(SectionId("ONLY-B"), B, 3, "ECE", "C")
    with SqlUnitOfWork(pg.app).for_institution(B) as uow:
        uow.sections.add(only_in_b)
        uow.commit()
    # as the owner, RLS is out of the way: only the composite key can refuse
    with pg.owner.connect() as connection:
        with pytest.raises(sa_exc.IntegrityError) as refused:
            connection.execute(
                t.students.insert().values(
                    institution_id=A,
                    id="N21X",
                    name="Crossed",
                    email="crossed@a.edu",
                    section_id=only_in_b.id,
                )
            )
        assert sqlstate(refused.value) == "23503"
        connection.rollback()
        with pytest.raises(sa_exc.IntegrityError) as cover:
            connection.execute(
                t.covers.insert().values(
                    institution_id=A,
                    id="C-X",
                    session_id=colleges.b_sessions[0].id,
                    substitute_id=colleges.a.bob.id,
                    starts_at=datetime(2026, 11, 16, 3, 30, tzinfo=UTC),
                    ends_at=datetime(2026, 11, 16, 4, 30, tzinfo=UTC),
                    booked_at=datetime(2026, 11, 15, tzinfo=UTC),
                )
            )
        assert sqlstate(cover.value) == "23503"
        connection.rollback()
    with SqlUnitOfWork(pg.app).for_institution(A) as uow, pytest.raises(NotFoundError):
        uow.students.add(Student(StudentId("N21X"), A, "Crossed", "crossed@a.edu", only_in_b.id))


def test_the_same_email_can_exist_in_two_institutions(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    for iid in (A, B):
        with SqlUnitOfWork(pg.app).for_institution(iid) as uow:
            uow.students.add(
                Student(
                    StudentId(f"S-{iid}"), iid, "Twin", "twin@shared.edu", SectionId("E2-CSE-A")
                )
            )
            uow.commit()
    for iid in (A, B):
        with SqlUnitOfWork(pg.app).for_institution(iid) as uow:
            found = uow.students.find_by_email("twin@shared.edu")
            assert found is not None
            assert (found.institution_id, found.id) == (iid, f"S-{iid}")


# -- the repositories in one scope -------------------------------------------------------------


def complete_monday_classes(pg: PostgresDatabase, colleges: TwoColleges) -> None:
    """A: alice's CS101 with everybody present. B: CS101 and MA101 with nobody marked."""
    uow = SqlUnitOfWork(pg.app)
    stopped = clock()
    stopped.set(datetime(2026, 11, 16, 12, 0, tzinfo=UTC))
    a = colleges.a
    cs_a = colleges.session(a, a.alice_cs_a.id)
    MarkAttendance(uow, stopped)(
        MarkAttendanceCommand(
            a.as_alice(),
            cs_a.id,
            [MarkEntry(s.id, AttendanceStatus.PRESENT) for s in a.students],
        )
    )
    CompleteSession(uow, stopped)(CompleteSessionCommand(a.as_alice(), cs_a.id))
    b = colleges.b
    for assignment in (b.alice_cs_a, b.bob_ma_a):
        session = colleges.session(b, assignment.id)
        CompleteSession(uow, stopped)(CompleteSessionCommand(b.admin, session.id))


def test_repositories_in_one_scope_never_return_the_other_institutions_rows(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    complete_monday_classes(pg, colleges)
    b_session = colleges.session(colleges.b, colleges.b.alice_cs_a.id)
    with SqlUnitOfWork(pg.app).for_institution(A) as uow:
        assert uow.sessions.find(b_session.id) is None
        with pytest.raises(NotFoundError):
            uow.sessions.get(b_session.id)
        assert uow.marks.list_for_session(b_session.id) == []
        assert uow.marks.tally(b_session.id).total == 0
        assert uow.institutions.find(B) is None
        assert uow.institutions.find_by_domain("b.edu") is None
        assert [i.id for i in uow.institutions.list()] == [A]
        assert {s.institution_id for s in uow.students.list()} == {A}
        student = uow.students.get(colleges.a.students[0].id)  # the id exists in B too
        assert student.institution_id == A
        assert student.email.endswith("@a.edu")
        assert uow.students.find_by_email("n210001@b.edu") is None
        assert {f.institution_id for f in uow.faculty.list()} == {A}
        sessions = uow.sessions.list_for_section(SectionId("E2-CSE-A"), WEEK_DATES)
        assert {s.id for s in sessions} == {
            s.id for s in colleges.a_sessions if s.section_id == "E2-CSE-A"
        }
        assert [h.institution_id for h in uow.holidays.list()] == [A]
        tallies = uow.marks.tallies(WEEK_DATES)
        assert tallies
        assert all((tally.present, tally.absent) == (1, 0) for tally in tallies.values()), tallies
        assert {code for _, code in tallies} == {SubjectCode("CS101")}
        counts = uow.sessions.subject_counts(WEEK_DATES, MONDAY)
        assert counts[(SectionId("E2-CSE-A"), SubjectCode("CS101"))].held == 1
        assert counts[(SectionId("E2-CSE-A"), SubjectCode("MA101"))].held == 0
    with SqlUnitOfWork(pg.app).for_institution(B) as uow:
        tallies = uow.marks.tallies(WEEK_DATES)
        assert all(tally.absent == 1 and tally.present == 0 for tally in tallies.values())
        counts = uow.sessions.subject_counts(WEEK_DATES, MONDAY)
        assert counts[(SectionId("E2-CSE-A"), SubjectCode("MA101"))].held == 1


def _other(iid: InstitutionId) -> InstitutionId:
    return B if iid == A else A


def _writes(colleges: TwoColleges) -> dict[str, Callable[[SqlUnitOfWork], object]]:
    b = colleges.b
    b_session = colleges.b_sessions[0]
    at = datetime(2026, 11, 16, 3, 30, tzinfo=UTC)
    return {
        "student": lambda uow: uow.students.add(
            dataclasses.replace(b.students[0], id=StudentId("N"))
        ),
        "students": lambda uow: uow.students.add_many([b.outsider]),
        "student update": lambda uow: uow.students.update(b.students[0]),
        "section": lambda uow: uow.sections.add(
            dataclasses.replace(b.section_a, id=SectionId("Z"))
        ),
        "holiday": lambda uow: uow.holidays.add(Holiday(B, date(2026, 10, 9), "x")),
        "session": lambda uow: uow.sessions.update(b_session),
        "sessions": lambda uow: uow.sessions.add_many(
            [dataclasses.replace(b_session, id=SessionId("N"))]
        ),
        "institution": lambda uow: uow.institutions.update(b.institution),
        "device": lambda uow: uow.devices.add(
            DeviceBinding(B, b.students[0].id, DeviceId("phone-x"), at)
        ),
        "marks": lambda uow: uow.marks.put_many(
            [
                AttendanceMark(
                    B,
                    b_session.id,
                    b.students[0].id,
                    AttendanceStatus.PRESENT,
                    at,
                    "x",
                    MarkSource.MANUAL,
                )
            ]
        ),
        "event": lambda uow: uow.security_events.add(
            SecurityEvent(B, SecurityEventKind.WRONG_CODE, at, "x")
        ),
        "cover": lambda uow: uow.covers.add(
            CoverAssignment(
                CoverId("C1"), B, b_session.id, b.bob.id, at, at + timedelta(hours=1), at
            )
        ),
        "absence": lambda uow: uow.absences.add(
            Absence(
                AbsenceId("AB1"),
                B,
                b.bob.id,
                at,
                at + timedelta(hours=8),
                AbsenceKind.SICK,
                AbsenceStatus.REPORTED,
                at,
                "x",
            )
        ),
        "cover plan": lambda uow: uow.cover_plans.add(
            CoverPlan(CoverPlanId("P1"), B, MONDAY, MONDAY, at, "x", "reference", (), ())
        ),
        "preference": lambda uow: uow.substitute_preferences.add(
            SubstitutePreference(
                PreferenceId("PR1"), B, b.bob.id, PreferenceKind.PREFERRED, b.alice.id
            )
        ),
        "sign in": lambda uow: uow.sign_ins.add(_account_rows(B, b.students[0])[0]),
        "password": lambda uow: uow.passwords.put(_account_rows(B, b.students[0])[1]),
        "push token": lambda uow: uow.push_tokens.put(_account_rows(B, b.students[0])[2]),
    }


WRITES = (
    "student",
    "students",
    "student update",
    "section",
    "holiday",
    "session",
    "sessions",
    "institution",
    "device",
    "marks",
    "event",
    "cover",
    "absence",
    "cover plan",
    "preference",
    "sign in",
    "password",
    "push token",
)


@pytest.mark.parametrize("write", WRITES)
def test_writing_another_institutions_entity_inside_a_scope_raises_a_core_error(
    pg: PostgresDatabase, colleges: TwoColleges, write: str
) -> None:
    before = owner_count(pg, "SELECT count(*) FROM students") + owner_count(
        pg, "SELECT sum(version) FROM class_sessions"
    )
    with SqlUnitOfWork(pg.app).for_institution(A) as uow:
        with pytest.raises(AmsError):
            _writes(colleges)[write](uow)
        uow.commit()
    after = owner_count(pg, "SELECT count(*) FROM students") + owner_count(
        pg, "SELECT sum(version) FROM class_sessions"
    )
    assert after == before


def _account_rows(
    iid: InstitutionId, student: Student
) -> tuple[SignIn, PasswordCredential, PushToken]:
    """A sign-in, a password and a push token of ``student`` (the token is the same text in
    every institution)."""
    at = datetime(2026, 11, 16, 3, 30, tzinfo=UTC)
    return (
        SignIn(
            SignInId("SI-1"),
            iid,
            student.email,
            SignInMethod.PASSWORD,
            "0" * 64,
            at,
            at + timedelta(days=30),
        ),
        PasswordCredential(iid, student.email, f"hash-{iid}"),
        PushToken(iid, "same-token", PushPlatform.ANDROID, student.email, at, student.id),
    )


def test_account_rows_are_isolated_by_the_policies_like_every_tenant_row(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    for college in (colleges.a, colleges.b):
        sign_in, password, token = _account_rows(college.id, college.students[0])
        with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
            uow.sign_ins.add(sign_in)
            uow.passwords.put(password)
            uow.push_tokens.put(token)
            uow.commit()
    tables = ("sign_ins", "password_credentials", "push_tokens")
    for name in tables:
        assert owner_count(pg, f"SELECT count(*) FROM {name}") == 2, name  # noqa: S608
    with pg.app.begin() as connection:
        for name in tables:
            assert connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() == 0  # noqa: S608
    with pg.app.begin() as connection:
        connection.execute(text("SELECT set_config('app.scope', 'platform', true)"))
        for name in tables:
            assert connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() == 0  # noqa: S608
    with pg.app.begin() as connection:
        scoped(connection, A)
        for name in tables:
            owners = connection.execute(text(f"SELECT institution_id FROM {name}")).scalars()  # noqa: S608
            assert list(owners) == [A], name
        revoked = connection.execute(text("UPDATE sign_ins SET revoked_at = now()"))
        assert revoked.rowcount == 1
        assert connection.execute(text("DELETE FROM push_tokens")).rowcount == 1
    assert owner_count(pg, "SELECT count(*) FROM sign_ins WHERE revoked_at IS NULL") == 1
    assert owner_count(pg, "SELECT count(*) FROM push_tokens WHERE institution_id = :b", b=B) == 1
    with SqlUnitOfWork(pg.app).for_institution(B) as uow:
        found = uow.sign_ins.find(SignInId("SI-1"))
        assert found is not None
        assert found.revoked_at is None
        assert [
            t.institution_id for t in uow.push_tokens.for_students([colleges.b.students[0].id])
        ] == [B]


# -- history is never removed by a cascade ------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM students WHERE institution_id = 'inst-a' AND id = 'N210001'",
        "DELETE FROM subjects WHERE institution_id = 'inst-a' AND code = 'CS101'",
        "DELETE FROM faculty WHERE institution_id = 'inst-a' AND id = 'F001'",
        "DELETE FROM sections WHERE institution_id = 'inst-a' AND id = 'E2-CSE-A'",
        "DELETE FROM assignments WHERE institution_id = 'inst-a' AND id = 'A1'",
        "DELETE FROM class_sessions WHERE institution_id = 'inst-a' AND status = 'completed'",
        "DELETE FROM institutions WHERE id = 'inst-a'",
    ],
)
def test_deleting_a_parent_of_attendance_history_is_refused(
    pg: PostgresDatabase, colleges: TwoColleges, statement: str
) -> None:
    complete_monday_classes(pg, colleges)
    marks = owner_count(pg, "SELECT count(*) FROM attendance_marks")
    assert (
        owner_count(
            pg,
            "SELECT count(*) FROM attendance_marks WHERE institution_id = 'inst-a' "
            "AND student_id = 'N210001'",
        )
        == 1
    )
    with pg.owner.connect() as connection:
        with pytest.raises(sa_exc.IntegrityError) as refused:
            connection.execute(text(statement))
        assert sqlstate(refused.value) == "23503"
        connection.rollback()
    assert owner_count(pg, "SELECT count(*) FROM attendance_marks") == marks


def test_no_foreign_key_cascades_deletes_from_people_subjects_or_sessions(
    pg: PostgresDatabase,
) -> None:
    with pg.owner.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT conname, confrelid::regclass::text, confdeltype FROM pg_constraint "
                "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
            )
        ).all()
    referenced = {row[1] for row in rows}
    assert set(HISTORY_PARENTS) <= referenced
    cascading = [row[0] for row in rows if row[1] in HISTORY_PARENTS and row[2] == "c"]
    assert cascading == []
    assert all(row[2] == "r" for row in rows if row[1] in HISTORY_PARENTS)


def test_an_id_used_by_another_institution_is_free_in_this_one(
    pg: PostgresDatabase, colleges: TwoColleges
) -> None:
    """Keys are per institution: B's session id can be taken in A, and A then sees its own."""
    b_session = colleges.b_sessions[0]
    copy = dataclasses.replace(b_session, institution_id=A, slot_id=None, date=date(2026, 11, 30))
    with SqlUnitOfWork(pg.app).for_institution(A) as uow:
        uow.sessions.add_many([copy])
        uow.commit()
    with SqlUnitOfWork(pg.app).for_institution(A) as uow:
        assert uow.sessions.get(b_session.id).date == date(2026, 11, 30)
    with SqlUnitOfWork(pg.app).for_institution(B) as uow:
        assert uow.sessions.get(b_session.id).date == b_session.date
