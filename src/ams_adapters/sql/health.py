"""What `ams db check` and the readiness probe report: connectivity, migration head, pool
and whether row-level security holds for the login."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from ams_adapters.sql.migrate import current_revision, head_revision
from ams_adapters.sql.tables import PLATFORM_ONLY_TABLES, TENANT_TABLES
from ams_core.ports import HealthCheck, HealthStatus


@dataclass(frozen=True)
class DatabaseReport:
    """The state of the database as the running role sees it."""

    url: str
    reachable: bool
    error: str | None = None
    server_version: str | None = None
    round_trip_ms: float | None = None
    revision: str | None = None
    head: str | None = None
    pool: str = ""
    role: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        """Whether the schema is at the newest migration."""
        return self.revision is not None and self.revision == self.head

    @property
    def healthy(self) -> bool:
        """Reachable, migrated and without security warnings."""
        return self.reachable and self.up_to_date and not self.warnings

    def lines(self) -> list[str]:
        """Human-readable lines for the CLI."""
        out = [f"database   {self.url}"]
        if not self.reachable:
            return [*out, f"reachable  NO — {self.error}"]
        out += [
            f"reachable  yes ({self.round_trip_ms:.2f} ms round trip), {self.server_version}",
            f"migration  {self.revision or 'none'} (head {self.head})"
            + ("" if self.up_to_date else "  ← run `ams migrate`"),
            f"pool       {self.pool}",
        ]
        if self.role:
            out.append(f"role       {self.role}")
        out += [f"WARNING    {w}" for w in self.warnings]
        return out


#: what a login the API connects as must be, for row-level security to hold
SAFE_LOGIN = (
    "connect as a login role that is a member of ams_app and is no superuser, has no "
    "BYPASSRLS and owns no tables (docs/operations.md, Roles on PostgreSQL)"
)


@dataclass(frozen=True)
class LoginRisk:
    """What lets the connected PostgreSQL login escape row-level security.

    Attributes:
        role: the login (``current_user``).
        superuser: superusers bypass row-level security.
        bypassrls: so do roles with ``BYPASSRLS``.
        owned: tenant tables the login owns (or has its owner's rights on): it can switch
            row-level security off or rewrite the policies.
        unprotected: tenant and platform-only tables without row-level security enabled and
            forced.
    """

    role: str
    superuser: bool
    bypassrls: bool
    owned: tuple[str, ...]
    unprotected: tuple[str, ...]

    def reasons(self) -> list[str]:
        """One phrase per risk; empty when the login is safe."""
        found = []
        if self.superuser:
            found.append("it is a superuser")
        if self.bypassrls:
            found.append("it has BYPASSRLS")
        if self.owned:
            found.append(
                f"it owns the tenant tables ({len(self.owned)}, e.g. {self.owned[0]}) and can "
                "switch row-level security off"
            )
        if self.unprotected:
            found.append(f"row-level security is off on {', '.join(self.unprotected)}")
        return found

    def detail(self) -> str:
        """The readiness detail: who, why, and what to do."""
        return (
            f"unsafe database login {self.role}: {'; '.join(self.reasons())} — row-level "
            f"security does not keep institutions apart for it; {SAFE_LOGIN}"
        )


def login_risk(connection: Connection) -> LoginRisk:
    """Judge the PostgreSQL login of ``connection``."""
    names = [t.name for t in (*TENANT_TABLES, *PLATFORM_ONLY_TABLES)]
    role, superuser, bypassrls = connection.execute(
        text(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
    ).one()
    tables = connection.execute(
        text(
            "SELECT relname, pg_has_role(relowner, 'USAGE') AS owned, "
            "relrowsecurity AND relforcerowsecurity AS protected "
            "FROM pg_class WHERE relname = ANY(:names) AND relkind = 'r' "
            "AND pg_table_is_visible(oid) ORDER BY relname"
        ),
        {"names": names},
    ).all()
    return LoginRisk(
        role=str(role),
        superuser=bool(superuser),
        bypassrls=bool(bypassrls),
        # a superuser "has the rights" of every owner: say so once, as a superuser
        owned=() if superuser else tuple(t.relname for t in tables if t.owned),
        unprotected=tuple(t.relname for t in tables if not t.protected),
    )


def check_database(engine: Engine) -> DatabaseReport:
    """Connect once and report."""
    url = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            started = time.perf_counter()
            connection.execute(text("SELECT 1"))
            round_trip = (time.perf_counter() - started) * 1000
            warnings: list[str] = []
            role = None
            if engine.dialect.name == "postgresql":
                version = str(connection.execute(text("SHOW server_version")).scalar())
                risk = login_risk(connection)
                role = f"{risk.role} (superuser={risk.superuser}, bypassrls={risk.bypassrls})"
                if risk.superuser or risk.bypassrls:
                    warnings.append(
                        "the API connects as a role that bypasses row-level security "
                        f"({'superuser' if risk.superuser else 'BYPASSRLS'}); {SAFE_LOGIN}"
                    )
                if risk.owned:
                    warnings.append(
                        f"the API connects as the owner of {len(risk.owned)} tenant tables, "
                        f"which can switch row-level security off; {SAFE_LOGIN}"
                    )
                if risk.unprotected:
                    warnings.append(f"row-level security is off on {', '.join(risk.unprotected)}")
            else:
                version = "SQLite " + str(
                    connection.execute(text("SELECT sqlite_version()")).scalar()
                )
        revision = current_revision(engine)
    except sa_exc.SQLAlchemyError as error:
        return DatabaseReport(url=url, reachable=False, error=one_line(error))
    return DatabaseReport(
        url=url,
        reachable=True,
        server_version=version,
        round_trip_ms=round_trip,
        revision=revision,
        head=head_revision(),
        pool=engine.pool.status(),
        role=role,
        warnings=warnings,
    )


def one_line(error: BaseException) -> str:
    """The driver's message of a database error on one line (no SQL, no links)."""
    original = getattr(error, "orig", None) or error.__cause__ or error
    # PostgreSQL's own words, without the statement excerpt psycopg appends
    primary = getattr(getattr(original, "diag", None), "message_primary", None)
    return " ".join(str(primary or original).split()) or type(original).__name__


class SqlHealthCheck(HealthCheck):
    """Readiness probe: one round trip, the schema at the newest migration and, on
    PostgreSQL, a login that row-level security holds for (no superuser, no BYPASSRLS, not
    the tables' owner). The last two are checked until they pass once."""

    name = "database"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._verified = False

    def check(self) -> HealthStatus:
        started = time.perf_counter()
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                latency = round((time.perf_counter() - started) * 1000, 2)
                risk = (
                    login_risk(conn)
                    if not self._verified and self._engine.dialect.name == "postgresql"
                    else None
                )
            if risk is not None and risk.reasons():
                return HealthStatus(self.name, False, risk.detail())
            if not self._verified:
                # a second connection: SQLite's write lock must not be held meanwhile
                revision = current_revision(self._engine)
                if revision != head_revision():
                    return HealthStatus(
                        self.name, False, f"schema at {revision or 'none'}; run `ams migrate`"
                    )
                self._verified = True
        except sa_exc.SQLAlchemyError as error:
            return HealthStatus(self.name, False, type(error).__name__)
        return HealthStatus(self.name, True, "", latency)
