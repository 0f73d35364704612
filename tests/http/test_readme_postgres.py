"""The README's PostgreSQL set-up runs as written: roles and database as the superuser,
`ams migrate` as the owner, `ams db check` and `ams demo` as the API's login, which the
readiness probe then finds safe; Ctrl-C ends the demo quietly."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.http.cli_support import (
    clean_env,
    free_port,
    get,
    interrupt,
    wait_until_ready,
)
from tests.sql.conftest import ADMIN_URL, _postgres_problem

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _postgres_block() -> str:
    section = README.read_text().split("### On PostgreSQL", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README lost its PostgreSQL block"
    return match.group(1)


@pytest.fixture
def names() -> Iterator[dict[str, str]]:
    """Unique names for what the block creates (as ``AMS_PG_*``); all dropped afterwards."""
    problem = _postgres_problem()
    if problem is None and shutil.which("psql") is None:
        problem = "the README's PostgreSQL block needs psql (the PostgreSQL client)"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI=true needs PostgreSQL: {problem}")
        pytest.skip(problem)
    suffix = uuid.uuid4().hex[:10]
    created = {
        "AMS_PG_DATABASE": f"ams_readme_{suffix}",
        "AMS_PG_OWNER": f"ams_readme_owner_{suffix}",
        "AMS_PG_API": f"ams_readme_api_{suffix}",
    }
    try:
        yield created
    finally:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                database = created["AMS_PG_DATABASE"]
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                for role in (created["AMS_PG_API"], created["AMS_PG_OWNER"]):
                    connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        finally:
            admin.dispose()


def test_the_readme_postgresql_block_sets_up_migrates_and_serves_the_demo(
    tmp_path: Path, names: dict[str, str]
) -> None:
    port = free_port()
    # as written, but on a free port (the block serves on 8000) and without PATH (ours is set)
    script = _postgres_block().replace('export PATH="$PWD/.venv/bin:$PATH"\n', "")
    assert script.rstrip().endswith("\nams demo")
    script = script.rstrip() + f" --port {port}\n"
    server = make_url(ADMIN_URL)
    env = clean_env(
        AMS_PG_HOST=server.host or "127.0.0.1",
        AMS_PG_SUPERUSER=server.username or "postgres",
        PGPORT=str(server.port or 5432),
        **names,
    )
    if server.password:
        env["PGPASSWORD"] = server.password
    env.pop("AMS_LOG_LEVEL")  # the block sets nothing else; the demo logs as it does for you
    log = tmp_path / "block.log"
    out = tmp_path / "block.out"
    with log.open("wb") as stderr, out.open("wb") as stdout:
        process = subprocess.Popen(  # noqa: S603 - the README's own block
            ["bash", "-euo", "pipefail", "-c", script],  # noqa: S607 - bash from PATH
            cwd=tmp_path,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        ready = wait_until_ready(port, process, log, seconds=120)
        readiness = json.loads(get(port, "/health/ready")[1])
        exports = {
            name: shlex.split(value)[0]
            for name, _, value in (
                line.removeprefix("export ").partition("=")
                for line in out.read_text().splitlines()
                if line.startswith("export ")
            )
        }
        me_status, me = get(port, "/api/v1/me", token=exports["AMS_STUDENT"])
    finally:
        status = interrupt(process)

    output = out.read_text()
    errors = log.read_text()
    assert ready == 200, readiness  # the API's login is one row-level security holds for
    assert [(c["name"], c["ok"]) for c in readiness["checks"]] == [("database", True)]
    assert "base → " in output  # the owner migrated the empty database
    assert f"role       {names['AMS_PG_API']} (superuser=False, bypassrls=False)" in output
    assert "WARNING" not in output  # ams db check found nothing to warn about
    assert me_status == 200, me
    assert json.loads(me)["roles"] == ["student"]
    assert exports["AMS_DATABASE_URL"].startswith(f"postgresql://{names['AMS_PG_API']}:")
    assert status in (0, 130), errors[-3000:]
    assert "Traceback" not in errors
