"""The `ams` command: serve, demo, tokens, institutions, and the database commands."""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import shlex
import socket
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from ams_adapters.cli import add_database_commands
from ams_adapters.settings import SqlSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _sql_settings(args: argparse.Namespace) -> SqlSettings:
    settings = SqlSettings.from_env()
    if args.database_url:
        settings = dataclasses.replace(settings, url=args.database_url)
    return settings


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

    if args.database_url:
        os.environ["AMS_DATABASE_URL"] = args.database_url
    workers = args.workers or max(2, os.cpu_count() or 1)
    print(
        f"AMS serving on http://{args.host}:{args.port} with {workers} worker processes "
        f"(API docs at /schema)",
        file=sys.stderr,
    )
    config = uvicorn.Config(
        "ams_http.asgi:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        log_level=os.environ.get("AMS_LOG_LEVEL", "info").lower(),
        access_log=args.access_log,
        server_header=False,
        proxy_headers=False,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return 0
    from ams_http.workers import Workers, reuse_port_supported

    if reuse_port_supported():
        return Workers(config, workers).run()
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[_tcp_socket(config.bind_socket())]).run()
    return 0


def _demo_secret(database_url: str) -> str:
    """A per-demo signing key kept next to the SQLite file, so printed tokens keep working."""
    sqlite_file = database_url.removeprefix("sqlite:///")
    path = Path(f"{sqlite_file}.secret" if sqlite_file != database_url else ".ams-demo.secret")
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return key


def _demo(args: argparse.Namespace) -> int:
    from ams_adapters.composition import build_providers
    from ams_adapters.identity import IdentitySettings
    from ams_adapters.sql.engine import make_engine
    from ams_adapters.sql.migrate import upgrade
    from ams_adapters.sql.persistence import SqlUnitOfWork
    from ams_core.ports import Clock, RandomSource
    from ams_core.use_cases import IssueLocalToken, IssueLocalTokenCommand
    from ams_http.demo import OPERATOR, seed_demo

    sql = _sql_settings(args)
    os.environ.setdefault("AMS_SECRET_KEY", _demo_secret(sql.url))
    os.environ.setdefault("AMS_ACCESS_TOKEN_MINUTES", str(12 * 60))  # a demo lasts a while
    os.environ["AMS_DATABASE_URL"] = sql.url
    engine = make_engine(sql)
    print(
        f"preparing the demo in {engine.url.render_as_string(hide_password=True)}", file=sys.stderr
    )
    upgrade(engine)
    from dishka import make_container

    identity = IdentitySettings.from_env()
    container = make_container(*build_providers(sql=sql, identity=identity))
    try:
        people = seed_demo(SqlUnitOfWork(engine), container.get(Clock), container.get(RandomSource))
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
        engine.dispose()
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
    from ams_core.ports import AccessTokens, Clock
    from ams_core.use_cases import IssueLocalToken, IssueLocalTokenCommand, issue_operator_token
    from ams_http.demo import OPERATOR

    if os.environ.get("AMS_ENV", "local") == "production":
        print("ams token: refused in production (AMS_ENV=production)", file=sys.stderr)
        return 2
    identity = IdentitySettings.from_env()
    container = make_container(*build_providers(sql=_sql_settings(args), identity=identity))
    try:
        if args.operator:
            token = issue_operator_token(
                container.get(AccessTokens), container.get(Clock), args.email
            ).access_token
        else:
            with container() as request:
                issue = request.get(IssueLocalToken)
                token = issue(IssueLocalTokenCommand(OPERATOR, args.email)).access_token
    finally:
        container.close()
    print(token)
    return 0


def _institution_create(args: argparse.Namespace) -> int:
    from dishka import make_container

    from ams_adapters.composition import build_providers
    from ams_adapters.identity import IdentitySettings
    from ams_core.use_cases import CreateInstitution, CreateInstitutionCommand
    from ams_http.demo import OPERATOR

    identity = IdentitySettings.from_env(allow_ephemeral_secret=True)
    container = make_container(*build_providers(sql=_sql_settings(args), identity=identity))
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

    for name, run, help_text in (
        ("serve", _serve, "run the API (production server)"),
        ("demo", _demo, "create a demo institution on SQLite, print tokens and serve"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--host", default=DEFAULT_HOST)
        sub.add_argument("--port", type=int, default=DEFAULT_PORT)
        sub.add_argument("--workers", type=int, default=0, help="processes (default ≥ 2)")
        sub.add_argument("--access-log", action="store_true", help="log every request")
        if name == "demo":
            sub.add_argument("--no-serve", action="store_true", help="prepare and print only")
        sub.set_defaults(run=run)

    token = commands.add_parser("token", help="mint an access token (local and demo only)")
    token.add_argument("--email", required=True)
    token.add_argument("--operator", action="store_true", help="a platform-operator token")
    token.set_defaults(run=_token)

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
    """Entry point of the `ams` console script."""
    from ams_core.domain import AmsError

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except AmsError as error:
        print(f"ams: {error.message} ({error.code})", file=sys.stderr)
        return 1
    except ValueError as error:  # bad settings
        print(f"ams: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
