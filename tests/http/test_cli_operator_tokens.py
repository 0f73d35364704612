"""`ams token --operator`, `ams token list --operators` and `ams token revoke` in
subprocesses over a SQLite file: a minted operator token is recorded, listed, and refused
once revoked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ams_adapters.identity import JwtAccessTokens
from ams_adapters.memory import SystemClock
from ams_adapters.settings import SqlSettings
from ams_adapters.sql.engine import make_engine
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import AuthenticationError, Principal
from ams_core.use_cases import Authenticate, RevocationCache
from tests.http.cli_support import SECRET, clean_env, run_ams


def _authenticate(database: Path, token: str) -> Principal:
    """What a freshly started API process over the same database makes of ``token``."""
    engine = make_engine(SqlSettings(url=f"sqlite:///{database}"))
    try:
        clock = SystemClock()
        revocations = RevocationCache(
            lambda: SqlUnitOfWork(engine), clock, lookback=timedelta(minutes=15)
        )
        return Authenticate(JwtAccessTokens(SECRET.encode(), clock=clock), revocations)(token)
    finally:
        engine.dispose()


def test_an_operator_token_is_minted_listed_and_revoked(tmp_path: Path) -> None:
    database = tmp_path / "ams.db"
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{database}", AMS_SECRET_KEY=SECRET)
    assert run_ams("migrate", cwd=tmp_path, env=env).returncode == 0

    minted = run_ams("token", "--operator", "--email", "Ops@AMS.example", cwd=tmp_path, env=env)
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    assert "\n" not in token
    note = minted.stderr.strip()
    assert note.startswith("operator token ")
    sign_in_id = note.split()[2]
    assert f"`ams token revoke --id {sign_in_id}`" in note
    principal = _authenticate(database, token)
    assert (principal.email, principal.sign_in_id) == ("ops@ams.example", sign_in_id)
    other = run_ams("token", "--operator", "--email", "other@ams.example", cwd=tmp_path, env=env)
    other_token = other.stdout.strip()

    listed = run_ams("token", "list", "--operators", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ID", "EMAIL", "ISSUED", "EXPIRES"]
    assert [row.split()[:2] for row in rows] == [
        [sign_in_id, "ops@ams.example"],
        [other.stderr.split()[2], "other@ams.example"],
    ]

    revoked = run_ams("token", "revoke", "--id", sign_in_id, cwd=tmp_path, env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"revoked {sign_in_id} ops@ams.example"
    with pytest.raises(AuthenticationError) as refused:
        _authenticate(database, token)
    assert refused.value.code == "session_revoked"
    assert _authenticate(database, other_token).email == "other@ams.example"

    again = run_ams("token", "revoke", "--id", sign_in_id, cwd=tmp_path, env=env)
    assert (again.returncode, again.stdout) == (0, "")
    assert "no active operator token matched" in again.stderr
    unknown = run_ams("token", "revoke", "--id", "no-such-id", cwd=tmp_path, env=env)
    assert unknown.returncode == 1
    assert unknown.stderr.strip().endswith("(operator_token_not_found)")

    everyone = run_ams("token", "revoke", "--all-operators", cwd=tmp_path, env=env)
    assert everyone.returncode == 0, everyone.stderr
    assert everyone.stdout.split()[2:] == ["other@ams.example"]
    empty = run_ams("token", "list", "--operators", cwd=tmp_path, env=env)
    assert (empty.returncode, empty.stdout, empty.stderr.strip()) == (
        0,
        "",
        "no active operator tokens",
    )


def test_revoke_takes_exactly_one_of_id_email_or_all_operators(tmp_path: Path) -> None:
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{tmp_path / 'ams.db'}")

    for args in ((), ("--id", "x", "--all-operators"), ("--id", "x", "--email", "a@b.c")):
        done = run_ams("token", "revoke", *args, cwd=tmp_path, env=env)
        assert done.returncode == 2, (args, done.stderr)
        assert "usage: ams token revoke" in done.stderr
