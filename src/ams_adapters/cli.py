"""The `ams` command: database commands (serving arrives with the HTTP API)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine

from ams_adapters.settings import SqlSettings


def _engine(database_url: str | None) -> Engine:
    from ams_adapters.sql.engine import make_engine

    settings = SqlSettings.from_env()
    if database_url:
        settings = dataclasses.replace(settings, url=database_url)
    return make_engine(settings)


def _migrate(args: argparse.Namespace) -> int:
    from ams_adapters.sql.migrate import current_revision, head_revision, upgrade

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    engine = _engine(args.database_url)
    before = current_revision(engine)
    print(f"migrating {engine.url.render_as_string(hide_password=True)}", file=sys.stderr)
    upgrade(engine, args.revision)
    after = current_revision(engine)
    state = "already up to date" if before == after else f"{before or 'empty'} → {after}"
    print(f"database at {after} (head {head_revision()}): {state}")
    engine.dispose()
    return 0


def _db_check(args: argparse.Namespace) -> int:
    from ams_adapters.sql.health import check_database

    engine = _engine(args.database_url)
    report = check_database(engine)
    print("\n".join(report.lines()))
    engine.dispose()
    return 0 if report.healthy else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `ams`."""
    parser = argparse.ArgumentParser(prog="ams", description="AMS attendance and cover platform")
    parser.add_argument(
        "--database-url", help="overrides AMS_DATABASE_URL (default sqlite:///./ams.db)"
    )
    add_database_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return parser


def add_database_commands(commands: Any) -> None:
    """Add `migrate` and `db check` to a command group (the HTTP edge's `ams` reuses them)."""
    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--revision", default="head", help="target revision (default head)")
    migrate.set_defaults(run=_migrate)
    db = commands.add_parser("db", help="database tools")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    check = db_commands.add_parser(
        "check", help="connectivity, migration head, pool and row-level security"
    )
    check.set_defaults(run=_db_check)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ams` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ValueError as error:  # bad settings
        print(f"ams: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
