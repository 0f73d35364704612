"""The database commands of `ams` (`migrate`, `db check`), added to its one parser by the HTTP
edge's `ams_http.serve.cli`.

Expected failures — a bad setting, a database that is down, refuses the password or is not
migrated, a migration the login may not run — end a command with one line on stderr
(``ams: …``) and a non-zero status, never a traceback: :func:`run_command`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from ams_adapters.settings import SqlSettings
from ams_core.domain import AmsError

#: exit status of a command refused because of its settings or arguments
SETTINGS_ERROR = 2
#: exit status after Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED = 128 + signal.SIGINT


class CommandError(Exception):
    """An expected failure of a command; its message is the one line the operator sees."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def explain(error: BaseException) -> tuple[str, int] | None:
    """The line (without ``ams:``) and exit status for an expected failure; ``None`` for
    anything else, which is a bug and keeps its traceback."""
    from alembic.util import CommandError as AlembicCommandError

    if isinstance(error, CommandError):
        return _one_line(error), 1
    if isinstance(error, AmsError):
        return f"{_one_line(error.message)} ({error.code})", 1
    if isinstance(error, sa_exc.SQLAlchemyError):
        from ams_adapters.sql.health import one_line

        return f"database: {one_line(error)}", 1
    if isinstance(error, AlembicCommandError):
        return f"migrate: {_one_line(error)}", 1
    if isinstance(error, ValueError):  # settings, checked when they are read
        return _one_line(error), SETTINGS_ERROR
    return None


def run_command(run: Callable[[], int]) -> int:
    """Run a command; an expected failure prints one line, Ctrl-C ends quietly (130)."""
    try:
        return int(run())
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as error:
        explained = explain(error)
        if explained is None:
            raise
        line, status = explained
        print(f"ams: {line}", file=sys.stderr)
        return status


def _engine(database_url: str | None) -> Engine:
    from ams_adapters.sql.engine import make_engine

    settings = SqlSettings.from_env()
    if database_url:
        settings = dataclasses.replace(settings, url=database_url)
    return make_engine(settings)


def _show_steps() -> None:
    """Print each migration step Alembic runs (not its chatter about the connection)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(lambda record: record.getMessage().startswith("Running "))
    migrations = logging.getLogger("alembic.runtime.migration")
    migrations.addHandler(handler)
    migrations.setLevel(logging.INFO)


def _name(revision: str | None) -> str:
    return revision or "base"


def _migrate(args: argparse.Namespace) -> int:
    from ams_adapters.sql.migrate import (
        current_revision,
        downgrade,
        head_revision,
        position,
        resolve,
        upgrade,
    )

    _show_steps()
    engine = _engine(args.database_url)
    try:
        before = current_revision(engine)
        head = head_revision()
        going_down = args.down_to is not None
        target = args.down_to if going_down else args.revision
        resolve(target)  # an unknown revision stops here, before anything changes
        if going_down and position(target) > position(before):
            raise CommandError(
                f"--down-to {target} is above the database's revision {_name(before)}; "
                f"`ams migrate --revision {target}` goes up"
            )
        if not going_down and position(target) < position(before):
            raise CommandError(
                f"--revision {target} is below the database's revision {_name(before)} and "
                f"`ams migrate` only goes up; `ams migrate --down-to {target}` takes it down "
                "(dropping what the later migrations added)"
            )
        verb = "downgrading" if going_down else "migrating"
        print(f"{verb} {engine.url.render_as_string(hide_password=True)}", file=sys.stderr)
        try:
            (downgrade if going_down else upgrade)(engine, target)
        except sa_exc.ProgrammingError as error:
            if getattr(error.orig, "sqlstate", None) != "42501":
                raise
            from ams_adapters.sql.health import one_line

            raise CommandError(
                f"migrate: {one_line(error)} — run `ams migrate` as the owner of the "
                "database (`ams --database-url postgresql://OWNER@HOST/DB migrate`), not as "
                "the API's login (docs/operations.md, Roles on PostgreSQL)"
            ) from None
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before != after:
        state = f"{_name(before)} → {_name(after)}"
    elif after == head:
        state = "already up to date"
    else:
        state = f"already at {_name(after)}"
    print(f"database at {_name(after)} (head {head}): {state}")
    return 0


def _db_check(args: argparse.Namespace) -> int:
    from ams_adapters.sql.health import check_database

    engine = _engine(args.database_url)
    try:
        report = check_database(engine)
    finally:
        engine.dispose()
    print("\n".join(report.lines()))
    return 0 if report.healthy else 1


def add_database_commands(commands: Any) -> None:
    """Add `migrate` and `db check` to a command group (the HTTP edge's `ams` reuses them)."""
    migrate = commands.add_parser(
        "migrate",
        help="bring the database schema up to date (as the schema's owner)",
        description=(
            "Upgrade the schema to the newest migration, or to --revision. It never goes "
            "down: --down-to REV downgrades to REV ('base' drops every table AMS made, with "
            "its data). On PostgreSQL run it as the owner of the database, e.g. "
            "`ams --database-url postgresql://ams_owner@host/ams migrate`."
        ),
    )
    direction = migrate.add_mutually_exclusive_group()
    direction.add_argument(
        "--revision",
        default="head",
        metavar="REV",
        help="upgrade to REV (default head); refused when REV is below the database's",
    )
    direction.add_argument(
        "--down-to",
        metavar="REV",
        help="downgrade to REV; 'base' removes every table (and its data)",
    )
    migrate.set_defaults(run=_migrate)
    db = commands.add_parser("db", help="database tools")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    check = db_commands.add_parser(
        "check", help="connectivity, migration head, pool and row-level security"
    )
    check.set_defaults(run=_db_check)
