"""The `ams` command: serve, demo, tokens, institutions, background work and the database
commands."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import secrets
import shlex
import socket
import stat
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ams_adapters.cli import CommandError, add_database_commands, run_command
from ams_adapters.settings import SqlSettings
from ams_http.serve.background_cli import add_background_commands
from ams_http.serve.import_cli import add_import_command

if TYPE_CHECKING:
    from dishka import Container
    from sqlalchemy.engine import Engine

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEMO_HELP = (
    "create a demo institution (in ./ams.db unless --database-url or AMS_DATABASE_URL says "
    "otherwise), print tokens and serve it"
)


def _sql_settings(args: argparse.Namespace) -> SqlSettings:
    settings = SqlSettings.from_env()
    if args.database_url:
        settings = dataclasses.replace(settings, url=args.database_url)
    return settings


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return port


def _workers(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r}")
    return count


def default_workers() -> int:
    """One process per core and one more: requests run on each process's event loop
    (ADR 0020), so while one process waits on PostgreSQL the spare one uses the core."""
    return (os.cpu_count() or 1) + 1


def _check_port(host: str, port: int) -> None:
    """Refuse at once, in one line, an address the server could not listen on."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def _check_server(args: argparse.Namespace) -> None:
    """Every setting of the server and its port, checked before any worker starts."""
    from ams_http.serve.startup import load_settings

    if args.database_url:
        os.environ["AMS_DATABASE_URL"] = args.database_url
    load_settings()
    _check_port(args.host, args.port)


def _not_migrated(revision: str | None, head: str | None) -> CommandError:
    return CommandError(
        f"the database is at migration {revision or 'none'}, not {head}: run `ams migrate` "
        "first (on PostgreSQL as the database's owner: `ams --database-url "
        "postgresql://OWNER@HOST/DB migrate`)"
    )


def _require_database(sql: SqlSettings) -> None:
    """Reach the database and find it migrated, or stop with one line."""
    from ams_adapters.sql.engine import make_engine
    from ams_adapters.sql.migrate import current_revision, head_revision

    engine = make_engine(sql)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if revision != head_revision():
        raise _not_migrated(revision, head_revision())


def _tcp_socket(sock: socket.socket) -> socket.socket:
    """The listening socket with its protocol named as TCP.

    uvicorn binds the socket it shares with its workers with protocol 0, and asyncio sets
    ``TCP_NODELAY`` only on connections accepted from an ``IPPROTO_TCP`` socket; without it
    a response written in two parts waits for the client's delayed ACK (~40 ms a request on
    a keep-alive connection).
    """
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return sock
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ams_http.serve.bounded_http import ConfiguredHttpToolsProtocol

    _check_server(args)
    workers = args.workers or default_workers()
    print(
        f"AMS serving on http://{args.host}:{args.port} with {workers} worker processes "
        f"(API docs at /schema)",
        file=sys.stderr,
    )
    config = uvicorn.Config(
        "ams_http.serve.asgi:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        log_level=os.environ.get("AMS_LOG_LEVEL", "info").lower(),
        access_log=args.access_log,
        server_header=False,
        proxy_headers=False,
        http=ConfiguredHttpToolsProtocol,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return 0
    from ams_http.serve.workers import Workers, reuse_port_supported

    if reuse_port_supported():
        return Workers(config, workers).run()
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[_tcp_socket(config.bind_socket())]).run()
    return 0


def _demo_secret(database_url: str) -> str:
    """A per-demo signing key kept next to the SQLite file, so printed tokens keep working
    (only when ``AMS_SECRET_KEY`` is not given)."""
    sqlite_file = database_url.removeprefix("sqlite:///")
    path = Path(f"{sqlite_file}.secret" if sqlite_file != database_url else ".ams-demo.secret")
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return key


def _prepare_schema(engine: Engine) -> None:
    """Migrate the demo's SQLite file; a PostgreSQL database must already be migrated by its
    owner (the API's login may not run DDL, and must not: docs/operations.md)."""
    from ams_adapters.sql.migrate import current_revision, head_revision, upgrade

    if engine.dialect.name == "sqlite":
        upgrade(engine)
        return
    revision = current_revision(engine)
    if revision != head_revision():
        raise _not_migrated(revision, head_revision())


def _demo(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import Engine

    from ams_adapters.composition import build_providers
    from ams_adapters.identity import IdentitySettings
    from ams_core.ports import Clock, RandomSource, UnitOfWork
    from ams_core.use_cases import IssueLocalToken, IssueLocalTokenCommand
    from ams_http.serve.demo import OPERATOR, seed_demo

    sql = _sql_settings(args)
    if not os.environ.get("AMS_SECRET_KEY"):
        os.environ["AMS_SECRET_KEY"] = _demo_secret(sql.url)
    os.environ.setdefault("AMS_ACCESS_TOKEN_MINUTES", str(12 * 60))  # a demo lasts a while
    os.environ["AMS_DATABASE_URL"] = sql.url
    if not args.no_serve:
        _check_server(args)  # a bad setting or a taken port stops the demo before it starts
    identity = IdentitySettings.from_env()
    from dishka import make_container

    container = make_container(*build_providers(sql=sql, identity=identity))
    try:
        engine = container.get(Engine)  # the container's one engine (it disposes of it)
        print(
            f"preparing the demo in {engine.url.render_as_string(hide_password=True)}",
            file=sys.stderr,
        )
        _prepare_schema(engine)
        with container() as request:
            people = seed_demo(
                request.get(UnitOfWork), container.get(Clock), container.get(RandomSource)
            )
        with container() as request:
            issue = request.get(IssueLocalToken)
            tokens = {
                role: issue(IssueLocalTokenCommand(OPERATOR, email)).access_token
                for role, email in (
                    ("student", people.student),
                    ("class representative", people.class_representative),
                    ("faculty", people.faculty),
                    ("admin", people.admin),
                )
            }
    finally:
        container.close()
    base = f"http://{args.host}:{args.port}"
    print(
        f"AMS demo ready: {base} (API docs {base}/schema); the session happening now is "
        f"{people.session_now}, taught by {people.faculty}; the student's phone is "
        f"{people.student_device}. Shell variables for the README walk:",
        file=sys.stderr,
    )
    exports = {
        "AMS_SECRET_KEY": os.environ["AMS_SECRET_KEY"],
        "AMS_ACCESS_TOKEN_MINUTES": os.environ["AMS_ACCESS_TOKEN_MINUTES"],
        "AMS_DATABASE_URL": sql.url,
        "AMS_STUDENT": tokens["student"],
        "AMS_CR": tokens["class representative"],
        "AMS_FACULTY": tokens["faculty"],
        "AMS_ADMIN": tokens["admin"],
        "AMS_SESSION": people.session_now,
        "AMS_DEVICE": people.student_device,
    }
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    sys.stdout.flush()
    if args.no_serve:
        return 0
    args.workers = args.workers or 1
    return _serve(args)


def _token(args: argparse.Namespace) -> int:
    from dishka import make_container

    from ams_adapters.composition import build_providers
    from ams_adapters.identity import IdentitySettings
    from ams_core.use_cases import (
        IssueLocalToken,
        IssueLocalTokenCommand,
        IssueOperatorToken,
        IssueOperatorTokenCommand,
    )
    from ams_http.serve.demo import OPERATOR

    if args.email is None:
        raise CommandError(
            "`ams token` mints a token for --email EMAIL; operator tokens are listed by "
            "`ams token list --operators` and revoked by `ams token revoke`"
        )
    if os.environ.get("AMS_ENV", "local") == "production":
        print("ams token: refused in production (AMS_ENV=production)", file=sys.stderr)
        return 2
    identity = IdentitySettings.from_env()
    sql = _sql_settings(args)
    _require_database(sql)
    container = make_container(*build_providers(sql=sql, identity=identity))
    try:
        with container() as request:
            if args.operator:
                issued = request.get(IssueOperatorToken)(IssueOperatorTokenCommand(args.email))
                token = issued.access_token
                print(
                    f"operator token {issued.sign_in.id} for {issued.sign_in.email}, expires "
                    f"{issued.sign_in.expires_at.isoformat(timespec='seconds')} (revoke it with "
                    f"`ams token revoke --id {issued.sign_in.id}`)",
                    file=sys.stderr,
                )
            else:
                issue = request.get(IssueLocalToken)
                token = issue(IssueLocalTokenCommand(OPERATOR, args.email)).access_token
    finally:
        container.close()
    print(token)
    return 0


@contextlib.contextmanager
def _keyless_request(args: argparse.Namespace) -> Iterator[Container]:
    """A request scope over the migrated database, for commands that sign no token."""
    from dishka import make_container

    from ams_adapters.composition import build_providers
    from ams_adapters.identity import IdentitySettings

    identity = IdentitySettings.from_env(allow_ephemeral_secret=True)
    sql = _sql_settings(args)
    _require_database(sql)
    container = make_container(*build_providers(sql=sql, identity=identity))
    try:
        with container() as request:
            yield request
    finally:
        container.close()


def _token_list(args: argparse.Namespace) -> int:
    """`ams token list --operators`: the active platform-operator tokens."""
    from ams_core.use_cases import ListOperatorTokens, ListOperatorTokensCommand
    from ams_http.serve.demo import OPERATOR

    with _keyless_request(args) as request:
        active = request.get(ListOperatorTokens)(ListOperatorTokensCommand(OPERATOR))
    if not active:
        print("no active operator tokens", file=sys.stderr)
        return 0
    rows = [("ID", "EMAIL", "ISSUED", "EXPIRES")] + [
        (
            s.id,
            s.email,
            s.issued_at.isoformat(timespec="seconds"),
            s.expires_at.isoformat(timespec="seconds"),
        )
        for s in active
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        padded = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        print("  ".join([*padded, row[3]]))
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    """`ams token revoke --id ID | --email EMAIL | --all-operators`."""
    from ams_core.domain import SignInId
    from ams_core.use_cases import RevokeOperatorTokens, RevokeOperatorTokensCommand
    from ams_http.serve.demo import OPERATOR

    command = RevokeOperatorTokensCommand(
        OPERATOR,
        sign_in_id=SignInId(args.id) if args.id is not None else None,
        email=args.revoke_email,
        everyone=args.all_operators,
    )
    with _keyless_request(args) as request:
        ended = request.get(RevokeOperatorTokens)(command).revoked
    for sign_in in ended:
        print(f"revoked {sign_in.id} {sign_in.email}")
    if ended:
        summary = f"revoked {len(ended)} operator token(s); servers refuse them within seconds"
    else:
        summary = "no active operator token matched (already revoked or expired)"
    print(summary, file=sys.stderr)
    return 0


def _institution_create(args: argparse.Namespace) -> int:
    from dishka import make_container

    from ams_adapters.composition import build_providers
    from ams_adapters.identity import IdentitySettings
    from ams_core.use_cases import CreateInstitution, CreateInstitutionCommand
    from ams_http.serve.demo import OPERATOR

    identity = IdentitySettings.from_env(allow_ephemeral_secret=True)
    sql = _sql_settings(args)
    _require_database(sql)
    container = make_container(*build_providers(sql=sql, identity=identity))
    try:
        with container() as request:
            create = request.get(CreateInstitution)
            institution = create(
                CreateInstitutionCommand(
                    OPERATOR,
                    name=args.name,
                    timezone=args.timezone,
                    email_domains=args.domain,
                    admin_email=args.admin,
                )
            )
    finally:
        container.close()
    print(f"created institution {institution.id} ({institution.name}); admin {args.admin}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `ams`."""
    parser = argparse.ArgumentParser(prog="ams", description="AMS attendance and cover platform")
    parser.add_argument(
        "--database-url", help="overrides AMS_DATABASE_URL (default sqlite:///./ams.db)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_database_commands(commands)
    add_background_commands(commands)
    add_import_command(commands, _keyless_request)

    for name, run, help_text, workers_help in (
        (
            "serve",
            _serve,
            "run the API (production server)",
            "worker processes (default: one per CPU core, plus one; ADR 0020)",
        ),
        (
            "demo",
            _demo,
            DEMO_HELP,
            "worker processes (default 1)",
        ),
    ):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
        sub.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
        sub.add_argument("--workers", type=_workers, default=0, help=workers_help)
        sub.add_argument("--access-log", action="store_true", help="log every request")
        if name == "demo":
            sub.add_argument("--no-serve", action="store_true", help="prepare and print only")
        sub.set_defaults(run=run)

    token = commands.add_parser(
        "token",
        help="mint an access token (local and demo only); list or revoke operator tokens",
        description="`ams token --email X [--operator]` mints a token; the subcommands list "
        "and revoke the recorded platform-operator tokens.",
    )
    token.add_argument("--email", help="who the minted token is for")
    token.add_argument(
        "--operator", action="store_true", help="a platform-operator token (recorded, revocable)"
    )
    token.set_defaults(run=_token)
    token_commands = token.add_subparsers(dest="token_command", metavar="{list,revoke}")
    listing = token_commands.add_parser("list", help="active platform-operator tokens")
    listing.add_argument(
        "--operators", action="store_true", required=True, help="platform-operator tokens"
    )
    listing.set_defaults(run=_token_list)
    revoking = token_commands.add_parser("revoke", help="revoke platform-operator tokens")
    which = revoking.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", help="one token, by the id printed when it was minted")
    which.add_argument(
        "--email", dest="revoke_email", metavar="EMAIL", help="every token of one operator"
    )
    which.add_argument("--all-operators", action="store_true", help="every platform-operator token")
    revoking.set_defaults(run=_token_revoke)

    institution = commands.add_parser("institution", help="institutions")
    inst_commands = institution.add_subparsers(dest="inst_command", required=True)
    create = inst_commands.add_parser("create", help="create an institution and its admin")
    create.add_argument("--name", required=True)
    create.add_argument("--domain", required=True, action="append", help="repeat for several")
    create.add_argument("--admin", required=True, help="email of the first administrator")
    create.add_argument("--timezone", default="UTC", help="IANA name, e.g. Asia/Kolkata")
    create.set_defaults(run=_institution_create)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ams` console script: an expected failure (a bad setting, the
    database down or not migrated, a taken port) prints one line, Ctrl-C exits with 130."""
    args = build_parser().parse_args(argv)
    return run_command(lambda: args.run(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
