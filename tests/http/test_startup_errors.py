"""A setting AMS cannot run with stops every process at start with one line on stderr and
a non-zero status: no traceback, no server answering 500 with a live /health/live."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.http.cli_support import SECRET, clean_env, free_port, run_ams

BAD_URLS = {
    "mysql://ams@db.example/ams": (
        "ams: AMS_DATABASE_URL: unsupported database 'mysql'; use postgresql://… or sqlite:///…"
    ),
    "postgresql+asyncpg://ams@db.example/ams": (
        "ams: AMS_DATABASE_URL: unsupported driver 'asyncpg'; write postgresql://… "
        "(AMS drives PostgreSQL with psycopg 3)"
    ),
    "nonsense": "ams: AMS_DATABASE_URL: not a database URL; use postgresql://… or sqlite:///…",
}

COMMANDS = {
    "serve": ["serve", "--workers", "2"],
    "demo": ["demo"],
    "demo --no-serve": ["demo", "--no-serve"],
    "migrate": ["migrate"],
    "db check": ["db", "check"],
    "token": ["token", "--email", "someone@demo.ams.local"],
    "institution create": [
        "institution",
        "create",
        "--name",
        "North",
        "--domain",
        "north.edu",
        "--admin",
        "head@north.edu",
    ],
}


def _assert_refused(done: subprocess.CompletedProcess[str], line: str, status: int = 2) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines() == [line], done.stderr
    assert done.returncode == status
    assert done.stdout == ""


@pytest.mark.parametrize("url", list(BAD_URLS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unsupported_database_url_stops_every_command_with_one_line(
    tmp_path: Path, url: str, command: str
) -> None:
    args = [*COMMANDS[command]]
    if command in ("serve", "demo"):
        args += ["--port", str(free_port())]

    done = run_ams(*args, cwd=tmp_path, env=clean_env(AMS_DATABASE_URL=url, AMS_SECRET_KEY=SECRET))

    _assert_refused(done, BAD_URLS[url])
    assert list(tmp_path.iterdir()) == []  # nothing created: no database, no secret file


def test_the_database_url_option_is_checked_the_same_way(tmp_path: Path) -> None:
    done = run_ams(
        "--database-url", "mysql://ams@db.example/ams", "migrate", cwd=tmp_path, env=clean_env()
    )
    _assert_refused(done, BAD_URLS["mysql://ams@db.example/ams"])


@pytest.mark.parametrize("url", list(BAD_URLS))
def test_the_asgi_factory_refuses_to_start_with_one_line(tmp_path: Path, url: str) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "ams_http.serve.asgi:app_from_env",
            "--port",
            str(free_port()),
            "--log-level",
            "warning",
        ],
        cwd=tmp_path,
        env=clean_env(AMS_DATABASE_URL=url, AMS_SECRET_KEY=SECRET),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    _assert_refused(done, BAD_URLS[url])


SETTINGS = {
    "AMS_SECRET_KEY=too-short": (
        {"AMS_SECRET_KEY": "too-short"},
        "ams: invalid identity setting: AMS_SECRET_KEY must be at least 32 bytes long",
    ),
    "no AMS_SECRET_KEY": ({}, "ams: AMS_SECRET_KEY is not set: set it to a random string"),
    "AMS_DATABASE_POOL_SIZE=many": (
        {"AMS_DATABASE_POOL_SIZE": "many"},
        "ams: AMS_DATABASE_POOL_SIZE: expected a whole number, not 'many'",
    ),
    "AMS_DATABASE_POOL_TIMEOUT=0": (
        {"AMS_DATABASE_POOL_TIMEOUT": "0"},
        "ams: AMS_DATABASE_POOL_TIMEOUT must be more than 0 seconds",
    ),
    "AMS_DATABASE_PRE_PING=ture": (
        {"AMS_DATABASE_PRE_PING": "ture"},
        "ams: AMS_DATABASE_PRE_PING: expected true or false, not 'ture'",
    ),
    "AMS_DATABASE_URL empty": ({"AMS_DATABASE_URL": ""}, "ams: AMS_DATABASE_URL is empty"),
    "AMS_DATABASE_URL port": (
        {"AMS_DATABASE_URL": "postgresql://ams@db.example:five/ams"},
        "ams: AMS_DATABASE_URL: a port that is not a number",
    ),
    "AMS_LOG_LEVEL=loud": ({"AMS_LOG_LEVEL": "loud"}, "ams: AMS_LOG_LEVEL: unknown level 'loud'"),
    "AMS_REDIS_URL=http": (
        {"AMS_REDIS_URL": "http://127.0.0.1:6379"},
        "ams: AMS_REDIS_URL: use redis://host:6379/0",
    ),
    "AMS_TRUSTED_PROXIES=campus": (
        {"AMS_TRUSTED_PROXIES": "campus"},
        "ams: invalid AMS_* HTTP setting: 'campus' does not appear to be an IPv4 or IPv6 network",
    ),
    "AMS_WORKER_THREADS=0": (
        {"AMS_WORKER_THREADS": "0"},
        "ams: invalid AMS_* HTTP setting: worker_threads must be at least 1",
    ),
}


@pytest.mark.parametrize("case", list(SETTINGS))
def test_a_bad_setting_stops_ams_serve_before_any_worker_starts(tmp_path: Path, case: str) -> None:
    settings, start = SETTINGS[case]
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{tmp_path / 'ams.db'}", AMS_SECRET_KEY=SECRET)
    env |= settings
    if case == "no AMS_SECRET_KEY":
        del env["AMS_SECRET_KEY"]

    done = run_ams("serve", "--workers", "2", "--port", str(free_port()), cwd=tmp_path, env=env)

    assert "Traceback" not in done.stderr, done.stderr
    (line,) = done.stderr.splitlines()  # no "serving" line, no worker started
    assert line.startswith(start), line
    assert done.returncode == 2
    assert not (tmp_path / "ams.db").exists()
