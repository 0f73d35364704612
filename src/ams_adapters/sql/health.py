"""What `ams db check` reports: connectivity, migration head, pool and security state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import Engine

from ams_adapters.sql.migrate import current_revision, head_revision
from ams_adapters.sql.tables import TENANT_TABLES
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
                row = connection.execute(
                    text(
                        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                        "WHERE rolname = current_user"
                    )
                ).one()
                role = f"{row[0]} (superuser={row[1]}, bypassrls={row[2]})"
                if row[1] or row[2]:
                    warnings.append(
                        "the API connects as a role that bypasses row-level security; "
                        "use a member of ams_app"
                    )
                unprotected = (
                    connection.execute(
                        text(
                            "SELECT relname FROM pg_class WHERE relname = ANY(:names) "
                            "AND NOT (relrowsecurity AND relforcerowsecurity)"
                        ),
                        {"names": [t.name for t in TENANT_TABLES]},
                    )
                    .scalars()
                    .all()
                )
                if unprotected:
                    warnings.append(f"row-level security is off on {', '.join(unprotected)}")
            else:
                version = "SQLite " + str(
                    connection.execute(text("SELECT sqlite_version()")).scalar()
                )
        revision = current_revision(engine)
    except sa_exc.SQLAlchemyError as error:
        return DatabaseReport(url=url, reachable=False, error=str(error.__cause__ or error))
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


class SqlHealthCheck(HealthCheck):
    """Readiness probe: one round trip, and the schema at the newest migration."""

    name = "database"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._migrated = False

    def check(self) -> HealthStatus:
        started = time.perf_counter()
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            latency = round((time.perf_counter() - started) * 1000, 2)
            if not self._migrated:
                # a second connection: SQLite's write lock must not be held meanwhile
                revision = current_revision(self._engine)
                if revision != head_revision():
                    return HealthStatus(
                        self.name, False, f"schema at {revision or 'none'}; run `ams migrate`"
                    )
                self._migrated = True
        except sa_exc.SQLAlchemyError as error:
            return HealthStatus(self.name, False, type(error).__name__)
        return HealthStatus(self.name, True, "", latency)
