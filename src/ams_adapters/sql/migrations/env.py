"""Alembic environment: runs on a connection handed in by ams_adapters.sql.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from ams_adapters.sql.tables import metadata

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=getattr(connection, "dialect").name == "sqlite",  # noqa: B009
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///./ams.db")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():  # pragma: no cover - we never render SQL scripts offline
    raise SystemExit("offline migrations are not supported; run `ams migrate`")
run_migrations_online()
