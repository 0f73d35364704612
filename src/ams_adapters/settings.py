"""Settings of the adapters, read from the environment (``AMS_*``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///./ams.db"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class SqlSettings:
    """How to reach the database.

    Attributes:
        url: SQLAlchemy URL; ``postgresql://`` is upgraded to ``postgresql+psycopg://``.
        pool_size: connections kept open per process (PostgreSQL).
        max_overflow: extra connections allowed under load (PostgreSQL).
        pool_timeout: seconds to wait for a free connection before answering "unavailable".
        statement_timeout_ms: PostgreSQL ``statement_timeout`` for every statement (0 = none).
        pre_ping: test each connection on checkout (one extra round trip per transaction).
        echo: log every statement (debugging only).
    """

    url: str = DEFAULT_DATABASE_URL
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 5.0
    statement_timeout_ms: int = 5000
    pre_ping: bool = False
    echo: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SqlSettings:
        """Read ``AMS_DATABASE_URL``, ``AMS_DATABASE_POOL_SIZE``, ``AMS_DATABASE_MAX_OVERFLOW``,
        ``AMS_DATABASE_POOL_TIMEOUT``, ``AMS_DATABASE_STATEMENT_TIMEOUT_MS``,
        ``AMS_DATABASE_PRE_PING`` and ``AMS_DATABASE_ECHO``."""
        env = os.environ if environ is None else environ
        defaults = cls()
        try:
            return cls(
                url=env.get("AMS_DATABASE_URL", defaults.url),
                pool_size=int(env.get("AMS_DATABASE_POOL_SIZE", defaults.pool_size)),
                max_overflow=int(env.get("AMS_DATABASE_MAX_OVERFLOW", defaults.max_overflow)),
                pool_timeout=float(env.get("AMS_DATABASE_POOL_TIMEOUT", defaults.pool_timeout)),
                statement_timeout_ms=int(
                    env.get("AMS_DATABASE_STATEMENT_TIMEOUT_MS", defaults.statement_timeout_ms)
                ),
                pre_ping=_bool(env.get("AMS_DATABASE_PRE_PING", str(defaults.pre_ping))),
                echo=_bool(env.get("AMS_DATABASE_ECHO", str(defaults.echo))),
            )
        except ValueError as error:
            raise ValueError(f"invalid AMS_DATABASE_* setting: {error}") from None
