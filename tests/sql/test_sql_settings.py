"""SqlSettings refuse what AMS cannot run on when they are built, naming the variable and
never showing the URL's password."""

from __future__ import annotations

import pytest

from ams_adapters.settings import SqlSettings


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///./ams.db",
        "sqlite:////var/lib/ams/ams.db",
        "sqlite://",
        "sqlite+pysqlite:///ams.db",
        "postgresql://ams_api:secret@db.example/ams",
        "postgresql://ams_api@db.example:6432/ams?sslmode=require",
        "postgres://ams_api@db.example/ams",
        "postgresql+psycopg://ams_api@db.example/ams",
    ],
)
def test_postgresql_through_psycopg_and_sqlite_are_accepted(url: str) -> None:
    assert SqlSettings(url=url).url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://ams:hunter2@db/ams", "AMS_DATABASE_URL: unsupported database 'mysql'"),
        ("oracle+cx_oracle://ams:hunter2@db/ams", "unsupported database 'oracle'"),
        ("POSTGRESQL://ams:hunter2@db/ams", "unsupported database 'POSTGRESQL'"),
        ("postgresql+asyncpg://ams:hunter2@db/ams", "unsupported driver 'asyncpg'"),
        ("postgresql+psycopg2://ams:hunter2@db/ams", "unsupported driver 'psycopg2'"),
        ("sqlite+aiosqlite:///ams.db", "unsupported driver 'aiosqlite'; write sqlite:///…"),
        ("nonsense", "AMS_DATABASE_URL: not a database URL"),
        ("db.example/ams hunter2", "AMS_DATABASE_URL: not a database URL"),
        ("", "AMS_DATABASE_URL is empty"),
        ("postgresql://ams:hunter2@db:port/ams", "a port that is not a number"),
    ],
)
def test_anything_else_is_refused_in_one_line_without_the_password(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        SqlSettings(url=url)
    text = str(refused.value)
    assert "hunter2" not in text
    assert "\n" not in text
    assert "postgresql://… or sqlite:///…" in text or "write " in text


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AMS_DATABASE_POOL_SIZE", "ten", "AMS_DATABASE_POOL_SIZE: expected a whole number"),
        ("AMS_DATABASE_POOL_SIZE", "0", "AMS_DATABASE_POOL_SIZE must be at least 1"),
        ("AMS_DATABASE_MAX_OVERFLOW", "-1", "AMS_DATABASE_MAX_OVERFLOW must be 0 or more"),
        ("AMS_DATABASE_POOL_TIMEOUT", "soon", "AMS_DATABASE_POOL_TIMEOUT: expected a number"),
        ("AMS_DATABASE_POOL_TIMEOUT", "0", "AMS_DATABASE_POOL_TIMEOUT must be more than 0"),
        ("AMS_DATABASE_STATEMENT_TIMEOUT_MS", "-5", "must be 0 \\(none\\) or more"),
        ("AMS_DATABASE_PRE_PING", "ture", "AMS_DATABASE_PRE_PING: expected true or false"),
        ("AMS_DATABASE_ECHO", "loud", "AMS_DATABASE_ECHO: expected true or false"),
    ],
)
def test_a_bad_number_or_flag_is_refused_naming_its_variable(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SqlSettings.from_env({name: value})


def test_the_environment_is_read_with_defaults_for_what_is_missing() -> None:
    settings = SqlSettings.from_env(
        {
            "AMS_DATABASE_URL": "postgresql://ams_api@db/ams",
            "AMS_DATABASE_POOL_SIZE": "4",
            "AMS_DATABASE_STATEMENT_TIMEOUT_MS": "0",
            "AMS_DATABASE_PRE_PING": "yes",
            "AMS_DATABASE_ECHO": "off",
        }
    )
    assert settings == SqlSettings(
        url="postgresql://ams_api@db/ams",
        pool_size=4,
        statement_timeout_ms=0,
        pre_ping=True,
        echo=False,
    )
    assert SqlSettings.from_env({}) == SqlSettings()
