"""Every setting a serving process reads, read and checked at once before it serves.

``ams serve`` calls :func:`load_settings` before it starts any worker and the ASGI factory
calls it again in each worker, so a bad setting stops the server at start with one line
naming the variable instead of answering 500 to every request.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ams_adapters.identity import IdentitySettings
from ams_adapters.settings import BackgroundSettings, SqlSettings
from ams_http.settings import HttpSettings

#: the levels ``AMS_LOG_LEVEL`` accepts (uvicorn's, which include Python's)
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """The settings of one API process."""

    sql: SqlSettings
    identity: IdentitySettings
    http: HttpSettings
    log_level: str
    background: BackgroundSettings = field(default_factory=BackgroundSettings)


def log_level(environ: Mapping[str, str] | None = None) -> str:
    """``AMS_LOG_LEVEL`` in lower case (default ``info``).

    Raises:
        ValueError: not a level uvicorn and Python's logging know.
    """
    env = os.environ if environ is None else environ
    level = env.get("AMS_LOG_LEVEL", "info").strip().lower()
    if level not in LOG_LEVELS:
        raise ValueError(
            f"AMS_LOG_LEVEL: unknown level {env.get('AMS_LOG_LEVEL')!r}; use one of "
            + ", ".join(LOG_LEVELS)
        )
    return level


def configure_logging(level: str) -> None:
    """Log lines with time, level, logger and process id at ``level`` (``AMS_LOG_LEVEL``)."""
    logging.basicConfig(
        level=level.upper().replace("TRACE", "DEBUG"),
        format="%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s",
    )


def load_settings(environ: Mapping[str, str] | None = None) -> ServerSettings:
    """Read and check every ``AMS_*`` setting of a serving process.

    Raises:
        ValueError: the first bad setting, in one line naming its variable.
    """
    env = os.environ if environ is None else environ
    http = HttpSettings.from_env(env)
    if http.redis_url is not None and not http.redis_url.startswith(_REDIS_SCHEMES):
        raise ValueError("AMS_REDIS_URL: use redis://host:6379/0, rediss://… or unix://…")
    return ServerSettings(
        sql=SqlSettings.from_env(env),
        identity=IdentitySettings.from_env(env),
        http=http,
        log_level=log_level(env),
        background=BackgroundSettings.from_env(env),
    )
