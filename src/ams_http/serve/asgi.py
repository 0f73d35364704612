"""The application as ``ams serve`` (or any ASGI server) runs it, configured from ``AMS_*``."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable

import anyio
import anyio.to_thread
from dishka import Provider, make_container
from litestar import Litestar

from ams_adapters.composition import build_providers
from ams_core.ports import HealthChecks
from ams_core.use_cases import Authenticate
from ams_http.app import create_app
from ams_http.serve.background import start_in_process
from ams_http.serve.startup import configure_logging, load_settings

#: longest a process waits at start for its dependencies to answer before it serves anyway
WARM_UP_SECONDS = 5.0

log = logging.getLogger("ams.http.startup")


async def warm_up(app: Litestar) -> None:
    """Do before serving what a new process's first request would otherwise do on the
    event loop while every request arriving meanwhile waits behind it (ADR 0020): build
    the authenticator and the database adapter (their modules are imported on first use,
    0.25–0.45 s) and open the first database connection (the readiness checks).

    A dependency that does not answer within ``WARM_UP_SECONDS`` does not stop the process:
    it serves, and ``/health/ready`` says what is missing.
    """
    container = app.state.dishka_container
    await container.get(Authenticate)
    checks = await container.get(HealthChecks)
    with anyio.move_on_after(WARM_UP_SECONDS) as waited:
        statuses = await anyio.to_thread.run_sync(checks.run, abandon_on_cancel=True)
        for status in statuses:
            if not status.ok:
                log.warning("at start, %s is not ready: %s", status.name, status.detail)
    if waited.cancelled_caught:
        log.warning("at start, the dependencies did not answer in %g s", WARM_UP_SECONDS)


def freeze_startup_heap() -> None:
    """Keep what start-up built (modules, the app, the container), which lives as long as
    the process, out of the collector's full passes: each pass would otherwise walk it all
    and stall the event loop, and every request waiting on it (ADR 0020)."""
    gc.collect()
    gc.freeze()


def app_from_env() -> Litestar:
    """Build the app from the environment (the factory ``uvicorn --factory`` calls).

    A bad setting ends the process with one line on stderr and status 2 (not a traceback,
    and not a server answering 500 to every request).
    """
    try:
        settings = load_settings()
    except ValueError as error:
        print(f"ams: {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    configure_logging(settings.log_level)

    def providers() -> list[Provider]:
        return build_providers(
            sql=settings.sql, identity=settings.identity, background=settings.background
        )

    app = create_app(*providers(), settings=settings.http)
    # warmed up first, so that what the warm-up builds is frozen with the rest
    app.on_startup.extend([warm_up, freeze_startup_heap])
    background = settings.background
    if background.redis_url is None and background.in_process:  # no broker: relay here
        stops: list[Callable[[], None]] = []

        def start_background() -> None:
            stops.append(
                start_in_process(lambda: make_container(*providers()), background, settings.sql.url)
            )

        def stop_background() -> None:
            for stop in stops:
                stop()

        app.on_startup.append(start_background)
        app.on_shutdown.append(stop_background)
    return app
