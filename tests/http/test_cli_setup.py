"""The set-up paths of `ams` as an operator meets them: expected failures end in one line
(database down or not migrated, port taken), Ctrl-C is quiet, the demo keeps no secret file
when given a key, `ams migrate` never claims "up to date" for a way down, the help tells
the real defaults."""

from __future__ import annotations

import shlex
import socket
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ams_adapters.sql.migrate import head_revision
from tests.http.cli_support import (
    SECRET,
    clean_env,
    free_port,
    get,
    interrupt,
    run_ams,
    start_ams,
    wait_until_ready,
)

ROOT = Path(__file__).resolve().parents[2]


def _one_line(done: subprocess.CompletedProcess[str], start: str, status: int = 1) -> str:
    """The single stderr line of a command that failed as expected."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(start), lines[0]
    assert done.returncode == status, done.stderr
    return lines[0]


def _exports(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            found[name] = shlex.split(value)[0]
    return found


def _tables(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        connection.close()
    return {name for (name,) in rows}


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port nothing listens on (bound, never listening, so nothing else takes it)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


# -- expected failures: one line --------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["migrate"],
        ["token", "--email", "someone@demo.ams.local"],
        ["institution", "create", "--name", "N", "--domain", "n.edu", "--admin", "a@n.edu"],
        ["demo", "--no-serve"],
    ],
    ids=lambda command: command[0],
)
def test_an_unreachable_database_is_one_line(
    tmp_path: Path, closed_port: int, command: list[str]
) -> None:
    url = f"postgresql://ams_api@127.0.0.1:{closed_port}/ams"
    env = clean_env(AMS_DATABASE_URL=url, AMS_SECRET_KEY=SECRET)

    done = run_ams(*command, cwd=tmp_path, env=env)

    assert "Traceback" not in done.stderr, done.stderr
    line = done.stderr.splitlines()[-1]  # after `migrating …` / `preparing …`
    assert line.startswith("ams: database: connection failed"), done.stderr
    assert f"port {closed_port} failed" in line
    assert len(done.stderr.splitlines()) <= 2, done.stderr
    assert done.returncode == 1


@pytest.mark.parametrize(
    "command",
    [
        ["token", "--email", "someone@demo.ams.local"],
        ["institution", "create", "--name", "N", "--domain", "n.edu", "--admin", "a@n.edu"],
    ],
    ids=lambda command: command[0],
)
def test_a_database_that_is_not_migrated_is_one_line(tmp_path: Path, command: list[str]) -> None:
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}", AMS_SECRET_KEY=SECRET)

    done = run_ams(*command, cwd=tmp_path, env=env)

    line = _one_line(done, "ams: the database is at migration none")
    assert f"not {head_revision()}: run `ams migrate` first" in line


@pytest.mark.parametrize("command", [["serve", "--workers", "1"], ["demo"]], ids=" ".join)
def test_a_port_already_taken_is_one_line(
    tmp_path: Path, taken_port: int, command: list[str]
) -> None:
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{tmp_path / 'ams.db'}", AMS_SECRET_KEY=SECRET)

    done = run_ams(*command, "--port", str(taken_port), cwd=tmp_path, env=env)

    _one_line(done, f"ams: cannot listen on 127.0.0.1:{taken_port}: Address already in use")
    assert not (tmp_path / "ams.db").exists()  # the demo stopped before preparing anything


# -- the demo's secret -------------------------------------------------------------------------


def test_the_demo_keeps_no_secret_file_when_a_key_is_given(tmp_path: Path) -> None:
    done = run_ams("demo", "--no-serve", cwd=tmp_path, env=clean_env(AMS_SECRET_KEY=SECRET))

    assert done.returncode == 0, done.stderr
    assert _exports(done.stdout)["AMS_SECRET_KEY"] == SECRET
    assert sorted(p.name for p in tmp_path.iterdir() if "secret" in p.name) == []
    assert (tmp_path / "ams.db").exists()


def test_without_a_key_the_demo_keeps_one_beside_its_database_for_the_next_run(
    tmp_path: Path,
) -> None:
    first = run_ams("demo", "--no-serve", cwd=tmp_path, env=clean_env())
    second = run_ams("demo", "--no-serve", cwd=tmp_path, env=clean_env())

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    kept = tmp_path / "ams.db.secret"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert _exports(first.stdout)["AMS_SECRET_KEY"] == kept.read_text()
    assert _exports(second.stdout)["AMS_SECRET_KEY"] == kept.read_text()


def test_git_ignores_the_demo_database_and_its_secrets() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert {"*.secret", ".ams-demo.secret", "ams.db*"} <= set(ignored)


# -- ams migrate: up only, down with --down-to ---------------------------------------------------


def test_migrate_to_base_is_refused_and_down_to_base_goes_down(tmp_path: Path) -> None:
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{tmp_path / 'ams.db'}")
    head = head_revision()
    assert run_ams("migrate", cwd=tmp_path, env=env).returncode == 0

    refused = run_ams("migrate", "--revision", "base", cwd=tmp_path, env=env)
    line = _one_line(refused, f"ams: --revision base is below the database's revision {head}")
    assert "`ams migrate --down-to base`" in line
    assert "already up to date" not in refused.stdout + refused.stderr
    assert "alembic_version" in _tables(tmp_path / "ams.db")
    assert "students" in _tables(tmp_path / "ams.db")

    down = run_ams("migrate", "--down-to", "base", cwd=tmp_path, env=env)
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == f"database at base (head {head}): {head} → base"
    assert "Running downgrade 0001 -> , " in down.stderr
    assert _tables(tmp_path / "ams.db") == {"alembic_version"}

    up = run_ams("migrate", cwd=tmp_path, env=env)
    assert up.stdout.strip() == f"database at {head} (head {head}): base → {head}"


def test_down_to_a_revision_above_the_database_is_refused(tmp_path: Path) -> None:
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{tmp_path / 'ams.db'}")
    assert run_ams("migrate", "--revision", "0001", cwd=tmp_path, env=env).returncode == 0

    refused = run_ams("migrate", "--down-to", "0002", cwd=tmp_path, env=env)

    _one_line(refused, "ams: --down-to 0002 is above the database's revision 0001")


def test_an_unknown_revision_is_one_line(tmp_path: Path) -> None:
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{tmp_path / 'ams.db'}")

    done = run_ams("migrate", "--revision", "nosuch", cwd=tmp_path, env=env)

    _one_line(done, "ams: migrate: Can't locate revision identified by 'nosuch'")


def test_revision_and_down_to_together_are_a_usage_error(tmp_path: Path) -> None:
    done = run_ams(
        "migrate", "--revision", "head", "--down-to", "base", cwd=tmp_path, env=clean_env()
    )
    assert done.returncode == 2
    assert "not allowed with argument --revision" in done.stderr


# -- help --------------------------------------------------------------------------------------


def test_the_help_states_the_real_worker_defaults(tmp_path: Path) -> None:
    demo = run_ams("demo", "--help", cwd=tmp_path, env=clean_env())
    serve = run_ams("serve", "--help", cwd=tmp_path, env=clean_env())

    assert demo.returncode == serve.returncode == 0
    assert "worker processes (default 1)" in " ".join(demo.stdout.split())
    assert "one per CPU core, plus one" in " ".join(serve.stdout.split())
    assert "≥ 2" not in demo.stdout


# -- Ctrl-C --------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [["demo"], ["serve", "--workers", "1"], ["serve", "--workers", "2"]],
    ids=" ".join,
)
def test_ctrl_c_stops_quietly(tmp_path: Path, command: list[str]) -> None:
    port = free_port()
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{tmp_path / 'ams.db'}", AMS_SECRET_KEY=SECRET)
    if command[0] == "serve":
        assert run_ams("migrate", cwd=tmp_path, env=env).returncode == 0
    log = tmp_path / "ams.log"
    process = start_ams(*command, "--port", str(port), cwd=tmp_path, env=env, log=log)
    try:
        assert wait_until_ready(port, process, log) == 200
        assert get(port, "/health/live")[0] == 200
    finally:
        status = interrupt(process)

    output = log.read_text()
    assert status in (0, 130), output
    assert "Traceback" not in output
    assert "KeyboardInterrupt" not in output
