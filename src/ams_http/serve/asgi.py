"""The application as ``ams serve`` (or any ASGI server) runs it, configured from ``AMS_*``."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

from dishka import Provider, make_container
from litestar import Litestar

from ams_adapters.composition import build_providers
from ams_http.app import create_app
from ams_http.serve.background import start_in_process
from ams_http.serve.startup import configure_logging, load_settings


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
    app.on_startup.append(freeze_startup_heap)
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
