"""Migrations: the stairway (every revision up, down to base, up again) leaves a schema
identical to the table definitions on PostgreSQL and SQLite, and `ams migrate` / `ams db
check` work from the command line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url

from ams_adapters.memory import FixedClock
from ams_adapters.settings import SqlSettings
from ams_adapters.sql.engine import make_engine
from ams_adapters.sql.migrate import current_revision, downgrade, head_revision, revisions, upgrade
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_adapters.sql.tables import PLATFORM_ONLY_TABLES, TENANT_TABLES, metadata
from ams_core.domain import AttendanceStatus
from ams_core.use_cases import (
    CompleteSession,
    CompleteSessionCommand,
    MarkAttendance,
    MarkAttendanceCommand,
    MarkEntry,
)
from tests.sql.conftest import APP_LOGIN, PostgresDatabase
from tests.sql.helpers import monday_class, scratch_database


def schema_differences(engine: Engine) -> list[Any]:
    """What Alembic's autogenerate would change to match the table definitions."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def walk_the_stairway(engine: Engine) -> None:
    """Every revision up one by one, down one by one to base, then up to head."""
    steps = revisions()
    assert steps, "no migrations are shipped"
    assert current_revision(engine) is None
    for revision in steps:
        upgrade(engine, revision)
        assert current_revision(engine) == revision
    for revision, below in reversed(list(zip(steps, ["base", *steps[:-1]], strict=True))):
        assert current_revision(engine) == revision
        downgrade(engine, below)
        assert current_revision(engine) == (None if below == "base" else below)
    assert inspect(engine).get_table_names() == ["alembic_version"]
    upgrade(engine)
    assert current_revision(engine) == head_revision() == steps[-1]


def test_the_stairway_on_postgresql_ends_in_exactly_the_declared_schema(
    postgres: PostgresDatabase,
) -> None:
    with scratch_database("ams_stairway") as url:
        engine = make_engine(SqlSettings(url=url))
        try:
            walk_the_stairway(engine)
            assert schema_differences(engine) == []
            assert set(inspect(engine).get_table_names()) == {
                *metadata.tables,
                "alembic_version",
            }
            with engine.connect() as connection:
                unprotected = connection.execute(
                    text(
                        "SELECT relname FROM pg_class WHERE relname = ANY(:names) "
                        "AND NOT (relrowsecurity AND relforcerowsecurity)"
                    ),
                    {"names": [t.name for t in (*TENANT_TABLES, *PLATFORM_ONLY_TABLES)]},
                ).all()
            assert unprotected == []
        finally:
            engine.dispose()


def test_downgrading_postgresql_to_base_leaves_only_the_version_table_and_no_policies(
    postgres: PostgresDatabase,
) -> None:
    with scratch_database("ams_downgrade") as url:
        engine = make_engine(SqlSettings(url=url))
        try:
            upgrade(engine)
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM pg_policy")).scalar_one() > 0
            downgrade(engine, "base")
            assert inspect(engine).get_table_names() == ["alembic_version"]
            with engine.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM pg_policy")).scalar_one() == 0
                assert (
                    connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
                    == 0
                )
        finally:
            engine.dispose()


def test_the_stairway_on_sqlite_ends_in_exactly_the_declared_schema(tmp_path: Path) -> None:
    engine = make_engine(SqlSettings(url=f"sqlite:///{tmp_path / 'stairway.db'}"))
    try:
        walk_the_stairway(engine)
        assert schema_differences(engine) == []
        assert set(inspect(engine).get_table_names()) == {*metadata.tables, "alembic_version"}
    finally:
        engine.dispose()


def test_schema_comparison_notices_a_table_the_migrations_do_not_create(tmp_path: Path) -> None:
    """Guard for the tests above: an extra table in the database is a difference."""
    engine = make_engine(SqlSettings(url=f"sqlite:///{tmp_path / 'drift.db'}"))
    try:
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
        differences = schema_differences(engine)
        assert [d[0] for d in differences] == ["remove_table"]
    finally:
        engine.dispose()


# -- the command line ----------------------------------------------------------------------


def ams(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the `ams` command in a subprocess (environment without AMS_* settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMS_")}
    return subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "-m", "ams_http.serve.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_ams_migrate_creates_the_schema_and_db_check_judges_the_connecting_role(
    postgres: PostgresDatabase, tmp_path: Path
) -> None:
    with scratch_database("ams_cli") as owner_url:
        head = head_revision()
        assert head is not None
        migrated = ams("--database-url", owner_url, "migrate", cwd=tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        assert f"database at {head}" in migrated.stdout

        engine = make_engine(SqlSettings(url=owner_url))
        try:
            assert set(inspect(engine).get_table_names()) >= set(metadata.tables)
            assert current_revision(engine) == head
        finally:
            engine.dispose()

        again = ams("--database-url", owner_url, "migrate", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "already up to date" in again.stdout

        app_url = (
            make_url(owner_url)
            .set(username=APP_LOGIN, password=None)
            .render_as_string(hide_password=False)
        )
        as_app = ams("--database-url", app_url, "db", "check", cwd=tmp_path)
        assert as_app.returncode == 0, as_app.stdout + as_app.stderr
        assert f"migration  {head} (head {head})" in as_app.stdout
        assert f"role       {APP_LOGIN} (superuser=False, bypassrls=False)" in as_app.stdout
        assert "WARNING" not in as_app.stdout

        as_owner = ams("--database-url", owner_url, "db", "check", cwd=tmp_path)
        assert as_owner.returncode == 1, as_owner.stdout + as_owner.stderr
        assert f"migration  {head} (head {head})" in as_owner.stdout
        assert "WARNING    the API connects as a role that bypasses row-level security" in (
            as_owner.stdout
        )


def test_ams_db_check_on_an_unmigrated_database_fails_and_asks_for_a_migration(
    postgres: PostgresDatabase, tmp_path: Path
) -> None:
    with scratch_database("ams_cli_empty") as owner_url:
        checked = ams("--database-url", owner_url, "db", "check", cwd=tmp_path)
        assert checked.returncode == 1
        assert "migration  none" in checked.stdout
        assert "run `ams migrate`" in checked.stdout


def test_downgrading_below_0010_gives_each_absence_of_a_completion_its_own_entry_again(
    postgres: PostgresDatabase,
) -> None:
    with scratch_database("ams_audit_down") as url:
        engine = make_engine(SqlSettings(url=url))
        try:
            upgrade(engine)
            college, session = monday_class(engine)
            clock = FixedClock(session.starts_at(college.institution.tz) + timedelta(minutes=50))
            first, *unmarked = [s.id for s in college.students]
            MarkAttendance(SqlUnitOfWork(engine), clock)(
                MarkAttendanceCommand(
                    college.as_alice(), session.id, [MarkEntry(first, AttendanceStatus.PRESENT)]
                )
            )
            CompleteSession(SqlUnitOfWork(engine), clock)(
                CompleteSessionCommand(college.as_alice(), session.id, "Arrays")
            )

            downgrade(engine, "0009")

            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT student_id, actor, at, old_status, new_status, reason "
                        "FROM attendance_audit ORDER BY id"
                    )
                ).all()
            alice, at = college.as_alice().email, clock.now()
            assert [tuple(r) for r in rows] == [
                (first, alice, at, None, "present", ""),
                *(
                    (s, alice, at, None, "absent", "unmarked when the class was completed")
                    for s in sorted(unmarked)
                ),
            ]
            upgrade(engine)
            assert current_revision(engine) == head_revision()
        finally:
            engine.dispose()
