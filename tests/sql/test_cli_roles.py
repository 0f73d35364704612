"""On PostgreSQL the API's login runs no DDL: `ams migrate` as it, and `ams demo` or
`ams token` before the owner has migrated, stop with one line saying what to run instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from ams_adapters.sql.migrate import head_revision
from tests.http.cli_support import SECRET, clean_env, run_ams
from tests.sql.conftest import APP_LOGIN, PostgresDatabase
from tests.sql.helpers import scratch_database

pytestmark = pytest.mark.postgres


def _as_api(owner_url: str) -> str:
    return (
        make_url(owner_url)
        .set(username=APP_LOGIN, password=None)
        .render_as_string(hide_password=False)
    )


def _line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    return stderr.splitlines()[-1]


def test_the_api_login_cannot_migrate_and_is_told_to_use_the_owner(
    postgres: PostgresDatabase, tmp_path: Path
) -> None:
    with scratch_database("ams_cli_api") as owner_url:
        env = clean_env(AMS_DATABASE_URL=_as_api(owner_url), AMS_SECRET_KEY=SECRET)

        migrated = run_ams("migrate", cwd=tmp_path, env=env)
        demo = run_ams("demo", "--no-serve", cwd=tmp_path, env=env)
        token = run_ams("token", "--email", "someone@demo.ams.local", cwd=tmp_path, env=env)

    assert migrated.returncode == 1
    line = _line(migrated.stderr)
    assert line.startswith("ams: migrate: permission denied")
    assert "run `ams migrate` as the owner of the database" in line
    assert len(migrated.stderr.splitlines()) == 2  # `migrating …`, then the reason

    not_migrated = f"ams: the database is at migration none, not {head_revision()}"
    assert demo.returncode == token.returncode == 1
    assert _line(demo.stderr).startswith(not_migrated)
    assert "as the database's owner" in _line(demo.stderr)
    assert token.stderr.splitlines() == [_line(token.stderr)]
    assert _line(token.stderr).startswith(not_migrated)
    assert list(tmp_path.iterdir()) == []  # the key was given: no secret file
