"""Running the Alembic migrations from code (`ams migrate`, tests, the demo)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration pointing at the migrations shipped in this package."""
    config = Config()
    config.set_main_option("script_location", "ams_adapters.sql:migrations")
    if engine is not None:
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (each migration in its own transaction)."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database down to ``revision`` (``base`` removes everything)."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()


def head_revision() -> str | None:
    """The newest migration shipped."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (``None`` when it has none)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def resolve(revision: str | None) -> str | None:
    """The full id of ``revision`` (``head``, a full or partial id); ``None`` for ``base``
    or an empty database.

    Raises:
        alembic.util.CommandError: no shipped migration has that name.
    """
    if revision is None or revision == "base":
        return None
    return ScriptDirectory.from_config(alembic_config()).get_revision(revision).revision


def position(revision: str | None) -> int:
    """Where ``revision`` stands in the (linear) history: -1 for ``base``, 0 for the first
    migration, and so on; compares a target with the database's revision."""
    full = resolve(revision)
    return -1 if full is None else revisions().index(full)
