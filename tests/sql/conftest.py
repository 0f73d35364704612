"""Databases for the SQL adapter tests.

SQLite runs everywhere. PostgreSQL tests use the server on 127.0.0.1:5432 (override with
``AMS_TEST_POSTGRES_URL``): a throw-away database is created for the run, migrated as the
owner (``postgres``), and the adapter connects as ``ams_api_test``, a login member of the
``ams_app`` role that owns nothing and cannot bypass row-level security. With ``CI=true`` a
missing server fails the run; elsewhere those tests skip with the reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from ams_adapters.settings import SqlSettings
from ams_adapters.sql.engine import make_engine
from ams_adapters.sql.migrate import upgrade
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_adapters.sql.tables import metadata

ADMIN_URL = os.environ.get(
    "AMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
APP_LOGIN = "ams_api_test"


def _postgres_problem() -> str | None:
    engine = create_engine(ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means "not available"
        return f"PostgreSQL at {make_url(ADMIN_URL).render_as_string()} is not reachable: {error}"
    finally:
        engine.dispose()
    return None


@dataclass(frozen=True)
class PostgresDatabase:
    """A migrated database: ``owner`` runs DDL and cleanup, ``app`` is what the API uses."""

    name: str
    owner: Engine
    app: Engine
    app_url: str

    def truncate(self) -> None:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        with self.owner.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        # rows vanished behind the adapter's back: forget the cached reference data too
        SqlUnitOfWork(self.app).cache.clear()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabase]:
    problem = _postgres_problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI=true needs PostgreSQL: {problem}")
        pytest.skip(problem)
    name = f"ams_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    owner_url = make_url(ADMIN_URL).set(database=name)
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
    app_url = owner_url.set(username=APP_LOGIN, password=None)
    app_url_text = app_url.render_as_string(hide_password=False)
    app = make_engine(SqlSettings(url=app_url_text, pool_size=20, max_overflow=220))
    try:
        yield PostgresDatabase(name, owner, app, app_url_text)
    finally:
        app.dispose()
        owner.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg(postgres: PostgresDatabase) -> PostgresDatabase:
    """The session's PostgreSQL database, emptied before the test."""
    postgres.truncate()
    return postgres


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per run; tests get a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(SqlSettings(url=f"sqlite:///{path}"))
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_engine(tmp_path: Path, migrated_sqlite_file: Path) -> Iterator[Engine]:
    path = tmp_path / "ams.db"
    shutil.copyfile(migrated_sqlite_file, path)
    engine = make_engine(SqlSettings(url=f"sqlite:///{path}"))
    yield engine
    engine.dispose()
