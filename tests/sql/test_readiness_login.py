"""Readiness judges the PostgreSQL login: row-level security does not hold for a superuser,
a role with BYPASSRLS or the owner of the tenant tables, so the API is not ready on one;
the API's proper login (a member of ams_app that owns nothing) is."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ams_adapters.composition import build_providers
from ams_adapters.identity import IdentitySettings
from ams_adapters.settings import SqlSettings
from ams_adapters.sql.engine import make_engine
from ams_adapters.sql.health import SqlHealthCheck, check_database
from ams_adapters.sql.migrate import upgrade
from ams_core.ports import HealthStatus
from ams_http.app import create_app
from ams_http.settings import HttpSettings
from tests.sql.conftest import ADMIN_URL, PostgresDatabase

pytestmark = pytest.mark.postgres


def _check(url: str) -> HealthStatus:
    engine = make_engine(SqlSettings(url=url, pool_size=1, max_overflow=0))
    try:
        return SqlHealthCheck(engine).check()
    finally:
        engine.dispose()


def _ready(url: str) -> tuple[int, dict[str, Any]]:
    """``GET /health/ready`` of the app built as `ams serve` builds it."""
    providers = build_providers(
        sql=SqlSettings(url=url, pool_size=1, max_overflow=0),
        identity=IdentitySettings(secret_key=b"k" * 40),
    )
    with TestClient(app=create_app(*providers, settings=HttpSettings(expose_docs=False))) as client:
        answer = client.get("/health/ready")
    return answer.status_code, answer.json()


@contextmanager
def _role(attributes: str) -> Iterator[str]:
    """A throw-away login role with ``attributes``; dropped afterwards."""
    name = f"ams_login_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE ROLE {name} LOGIN {attributes}"))
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP ROLE IF EXISTS {name}"))
        admin.dispose()


def test_the_api_login_is_ready(postgres: PostgresDatabase) -> None:
    status = _check(postgres.app_url)
    assert status.ok, status.detail
    assert status.detail == ""

    code, body = _ready(postgres.app_url)
    assert code == 200, body
    assert body["checks"] == [
        {"name": "database", "ok": True, "detail": "", "latencyMs": body["checks"][0]["latencyMs"]}
    ]


def test_a_superuser_login_is_not_ready_and_the_detail_says_why(
    postgres: PostgresDatabase,
) -> None:
    superuser_url = postgres.owner.url.render_as_string(hide_password=False)

    status = _check(superuser_url)
    assert not status.ok
    assert status.detail.startswith("unsafe database login postgres: it is a superuser")
    assert "row-level security does not keep institutions apart" in status.detail
    assert "member of ams_app" in status.detail

    code, body = _ready(superuser_url)
    assert code == 503
    assert body["code"] == "not_ready"
    assert "database (unsafe database login postgres: it is a superuser" in body["detail"]


def test_a_login_with_bypassrls_is_not_ready(postgres: PostgresDatabase) -> None:
    with _role("NOSUPERUSER BYPASSRLS IN ROLE ams_app") as name:
        url = make_url(postgres.app_url).set(username=name)
        status = _check(url.render_as_string(hide_password=False))
    assert not status.ok
    assert status.detail.startswith(f"unsafe database login {name}: it has BYPASSRLS")


def test_the_owner_of_the_tables_is_not_ready_and_db_check_warns(tmp_path: Path) -> None:
    """A non-superuser owner (as the README sets one up) runs the migrations; connecting the
    API as it would let the API switch row-level security off."""
    database = f"ams_owned_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with _role("NOSUPERUSER NOBYPASSRLS") as owner:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{database}" OWNER {owner}'))
            url = (
                make_url(ADMIN_URL)
                .set(username=owner, password=None, database=database)
                .render_as_string(hide_password=False)
            )
            engine = make_engine(SqlSettings(url=url))
            try:
                upgrade(engine)
                report = check_database(engine)
            finally:
                engine.dispose()
            status = _check(url)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()

    assert not status.ok
    assert status.detail.startswith(f"unsafe database login {owner}: it owns the tenant tables")
    assert "can switch row-level security off" in status.detail
    assert not report.healthy
    assert any("the API connects as the owner of" in w for w in report.warnings)
    assert report.role == f"{owner} (superuser=False, bypassrls=False)"
