"""The application as ``ams serve`` (or any ASGI server) runs it, configured from ``AMS_*``."""

from __future__ import annotations

import logging
import sys

from litestar import Litestar

from ams_adapters.composition import build_providers
from ams_http.app import create_app
from ams_http.serve.startup import load_settings


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
    logging.basicConfig(
        level=settings.log_level.upper().replace("TRACE", "DEBUG"),
        format="%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s",
    )
    providers = build_providers(sql=settings.sql, identity=settings.identity)
    return create_app(*providers, settings=settings.http)
