"""Engines for PostgreSQL (psycopg 3) and SQLite, with the settings that matter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool

from ams_adapters.settings import SqlSettings


def normalise_url(url: str | URL) -> URL:
    """Use psycopg 3 for ``postgresql://`` URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(settings: SqlSettings) -> Engine:
    """Create the engine described by ``settings`` (whose URL ``SqlSettings`` has checked:
    PostgreSQL through psycopg 3, or SQLite)."""
    url = normalise_url(settings.url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, settings)
    options = "-c application_name=ams"
    if settings.statement_timeout_ms:
        options += f" -c statement_timeout={settings.statement_timeout_ms}"
    return create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_pre_ping=settings.pre_ping,
        pool_recycle=3600,
        # the most recently returned connection first: a process on the event loop needs
        # one connection at a time, and the same warm backend serves it (FIFO would cycle
        # through every pooled backend, each with cold caches)
        pool_use_lifo=True,
        echo=settings.echo,
        # psycopg prepares nothing itself: the statements that run often go through
        # ``direct.Wire``, which prepares them by name; psycopg's own cache would send
        # ``DEALLOCATE ALL`` on every rollback, dropping those statements with its own
        connect_args={"options": options, "connect_timeout": 5, "prepare_threshold": None},
    )


def _sqlite_engine(url: URL, settings: SqlSettings) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"echo": settings.echo}
    if in_memory:
        # one shared connection, or each checkout would see a new, empty database
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": settings.pool_timeout}
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy, not the sqlite3 module, decide when transactions begin
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # take the write lock up front: SQLite has one writer, and upgrading a read lock
        # later fails with "database is locked" instead of waiting
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
