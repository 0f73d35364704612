"""Settings of the adapters, read from the environment (``AMS_*``).

Every value is checked when the settings are built, so a process with a bad setting stops
at start with one line naming the variable, instead of failing each request later.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ams_core.ports.workbooks import WorkbookLimits

DEFAULT_DATABASE_URL = "sqlite:///./ams.db"
#: what to write instead of an unsupported URL
URL_HINT = "use postgresql://… or sqlite:///…"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
#: the scheme of a SQLAlchemy URL: ``dialect[+driver]://``
_SCHEME = re.compile(r"^(?P<dialect>\w+)(?:\+(?P<driver>[\w]+))?://")
#: the drivers AMS runs on, per database (``None``: the URL names none)
_DRIVERS: dict[str, set[str | None]] = {
    "postgresql": {None, "psycopg"},
    "postgres": {None, "psycopg"},
    "sqlite": {None, "pysqlite"},
}


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{name}: expected true or false, not {value!r}")


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, not {value!r}") from None


def _float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}: expected a number, not {value!r}") from None


def check_database_url(url: str, name: str = "AMS_DATABASE_URL") -> None:
    """Refuse a URL AMS cannot run on, with one line that never shows its password.

    Raises:
        ValueError: the URL is empty, not a URL, or names another database or driver.
    """
    if not url.strip():
        raise ValueError(f"{name} is empty; {URL_HINT}")
    match = _SCHEME.match(url.strip())
    if match is None:
        raise ValueError(f"{name}: not a database URL; {URL_HINT}")
    dialect, driver = match.group("dialect"), match.group("driver")
    if dialect not in _DRIVERS:
        raise ValueError(f"{name}: unsupported database {dialect!r}; {URL_HINT}")
    if driver not in _DRIVERS[dialect]:
        plain = (
            "postgresql://… (AMS drives PostgreSQL with psycopg 3)"
            if dialect.startswith("postgres")
            else "sqlite:///… (AMS uses Python's sqlite3)"
        )
        raise ValueError(f"{name}: unsupported driver {driver!r}; write {plain}")
    try:  # the rest of the URL as SQLAlchemy reads it, when it is installed
        from sqlalchemy.engine import make_url
    except ImportError:  # pragma: no cover - the sql extra is not installed
        return
    try:
        make_url(url.strip())
    except Exception as error:  # noqa: BLE001 - ArgumentError, or ValueError for the port
        reason = "a port that is not a number" if "int()" in str(error) else "cannot be read"
        raise ValueError(f"{name}: {reason}; {URL_HINT}") from None


@dataclass(frozen=True, slots=True)
class SqlSettings:
    """How to reach the database.

    Attributes:
        url: SQLAlchemy URL of PostgreSQL (``postgresql://``, driven by psycopg 3) or
            SQLite (``sqlite:///path``); anything else is refused when the settings are built.
        pool_size: connections kept open per process (PostgreSQL), at least 1.
        max_overflow: extra connections allowed under load (PostgreSQL), 0 or more.
        pool_timeout: seconds to wait for a free connection before answering "unavailable".
        statement_timeout_ms: PostgreSQL ``statement_timeout`` for every statement (0 = none).
        pre_ping: test each connection on checkout (one extra round trip per transaction).
        echo: log every statement (debugging only).

    Raises:
        ValueError: a setting AMS cannot run with; the message names its variable.
    """

    url: str = DEFAULT_DATABASE_URL
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 5.0
    statement_timeout_ms: int = 5000
    pre_ping: bool = False
    echo: bool = False

    def __post_init__(self) -> None:
        check_database_url(self.url)
        if self.pool_size < 1:
            raise ValueError("AMS_DATABASE_POOL_SIZE must be at least 1")
        if self.max_overflow < 0:
            raise ValueError("AMS_DATABASE_MAX_OVERFLOW must be 0 or more")
        if not self.pool_timeout > 0:
            raise ValueError("AMS_DATABASE_POOL_TIMEOUT must be more than 0 seconds")
        if self.statement_timeout_ms < 0:
            raise ValueError("AMS_DATABASE_STATEMENT_TIMEOUT_MS must be 0 (none) or more")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SqlSettings:
        """Read ``AMS_DATABASE_URL``, ``AMS_DATABASE_POOL_SIZE``, ``AMS_DATABASE_MAX_OVERFLOW``,
        ``AMS_DATABASE_POOL_TIMEOUT``, ``AMS_DATABASE_STATEMENT_TIMEOUT_MS``,
        ``AMS_DATABASE_PRE_PING`` and ``AMS_DATABASE_ECHO``.

        Raises:
            ValueError: a value AMS cannot run with; the message names the variable.
        """
        env = os.environ if environ is None else environ
        defaults = cls()
        get = _getter(env)
        return cls(
            url=env.get("AMS_DATABASE_URL", defaults.url),
            pool_size=_int(*get("AMS_DATABASE_POOL_SIZE", defaults.pool_size)),
            max_overflow=_int(*get("AMS_DATABASE_MAX_OVERFLOW", defaults.max_overflow)),
            pool_timeout=_float(*get("AMS_DATABASE_POOL_TIMEOUT", defaults.pool_timeout)),
            statement_timeout_ms=_int(
                *get("AMS_DATABASE_STATEMENT_TIMEOUT_MS", defaults.statement_timeout_ms)
            ),
            pre_ping=_bool(*get("AMS_DATABASE_PRE_PING", "false")),
            echo=_bool(*get("AMS_DATABASE_ECHO", "false")),
        )


def _getter(env: Mapping[str, str]) -> Callable[[str, object], tuple[str, str]]:
    """``get(name, default)``: the variable's name and its text (the default's if unset)."""

    def get(name: str, default: object) -> tuple[str, str]:
        return name, env.get(name, str(default))

    return get


@dataclass(frozen=True, slots=True)
class BackgroundSettings:
    """Where background work runs and how notifications are pushed.

    Attributes:
        redis_url: dramatiq's broker (``ams worker``); ``None``: jobs run in an API process.
        in_process: without Redis, whether an API process runs the relay, the jobs and the
            scheduler (one process per database and machine; off: nothing is delivered).
        fcm_credentials: a Firebase service-account JSON file; ``None``: the log notifier.
        relay_interval_seconds: how often the outbox relay looks for new notifications.
        redeliver_after_seconds: how long a relayed notification waits for its job before
            the relay hands it over again.
        worker_threads: threads per ``ams worker`` process.
        prefetch: messages a worker process takes from Redis at once (the default of 2
            caps a worker near 550 jobs/s; 64 gave ~6,000/s on our machines).
        push_part_size: with ``ams worker``, a notification for more devices than this goes
            out in parts, one job each, shared by the worker processes.
    """

    redis_url: str | None = None
    in_process: bool = True
    fcm_credentials: str | None = None
    relay_interval_seconds: float = 0.5
    redeliver_after_seconds: int = 600
    worker_threads: int = 8
    prefetch: int = 64
    push_part_size: int = 2_000

    def __post_init__(self) -> None:
        if not 0 < self.relay_interval_seconds <= 60:
            raise ValueError("AMS_RELAY_INTERVAL_SECONDS must be more than 0 and at most 60")
        if self.redeliver_after_seconds < 10:
            raise ValueError("AMS_REDELIVER_AFTER_SECONDS must be at least 10")
        if not 1 <= self.worker_threads <= 256:
            raise ValueError("AMS_WORKER_JOB_THREADS must be 1 to 256")
        if not 1 <= self.prefetch <= 10_000:
            raise ValueError("AMS_WORKER_PREFETCH must be 1 to 10000")
        if not 100 <= self.push_part_size <= 100_000:
            raise ValueError("AMS_PUSH_PART_SIZE must be 100 to 100000")
        if self.fcm_credentials is not None and not os.path.isfile(self.fcm_credentials):
            raise ValueError(f"AMS_FCM_CREDENTIALS: no such file {self.fcm_credentials!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BackgroundSettings:
        """Read ``AMS_REDIS_URL``, ``AMS_BACKGROUND_IN_PROCESS``, ``AMS_FCM_CREDENTIALS``,
        ``AMS_RELAY_INTERVAL_SECONDS``, ``AMS_REDELIVER_AFTER_SECONDS``,
        ``AMS_WORKER_JOB_THREADS``, ``AMS_WORKER_PREFETCH`` and ``AMS_PUSH_PART_SIZE``.

        Raises:
            ValueError: a value AMS cannot run with; the message names the variable.
        """
        env = os.environ if environ is None else environ
        defaults = cls()
        get = _getter(env)
        return cls(
            redis_url=env.get("AMS_REDIS_URL") or None,
            in_process=_bool(*get("AMS_BACKGROUND_IN_PROCESS", "true")),
            fcm_credentials=env.get("AMS_FCM_CREDENTIALS") or None,
            relay_interval_seconds=_float(
                *get("AMS_RELAY_INTERVAL_SECONDS", defaults.relay_interval_seconds)
            ),
            redeliver_after_seconds=_int(
                *get("AMS_REDELIVER_AFTER_SECONDS", defaults.redeliver_after_seconds)
            ),
            worker_threads=_int(*get("AMS_WORKER_JOB_THREADS", defaults.worker_threads)),
            prefetch=_int(*get("AMS_WORKER_PREFETCH", defaults.prefetch)),
            push_part_size=_int(*get("AMS_PUSH_PART_SIZE", defaults.push_part_size)),
        )


def workbook_limits_from_env(environ: Mapping[str, str] | None = None) -> WorkbookLimits:
    """Read ``AMS_IMPORT_MAX_BYTES`` and ``AMS_IMPORT_MAX_ROWS`` (the other archive bounds
    follow the defaults of :class:`WorkbookLimits`).

    Raises:
        ValueError: a value is not a whole number, or is below 1.
    """
    env = os.environ if environ is None else environ
    get = _getter(env)
    defaults = WorkbookLimits()
    max_bytes = _int(*get("AMS_IMPORT_MAX_BYTES", defaults.max_bytes))
    max_rows = _int(*get("AMS_IMPORT_MAX_ROWS", defaults.max_rows))
    if max_bytes < 1:
        raise ValueError("AMS_IMPORT_MAX_BYTES must be at least 1")
    if max_rows < 1:
        raise ValueError("AMS_IMPORT_MAX_ROWS must be at least 1")
    return dataclasses.replace(defaults, max_bytes=max_bytes, max_rows=max_rows)
