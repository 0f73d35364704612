"""The application as ``ams serve`` (or any ASGI server) runs it, configured from ``AMS_*``."""

from __future__ import annotations

import logging
import os

from litestar import Litestar

from ams_adapters.composition import build_providers
from ams_adapters.identity import IdentitySettings
from ams_adapters.settings import SqlSettings
from ams_http.app import create_app
from ams_http.settings import HttpSettings


def app_from_env() -> Litestar:
    """Build the app from the environment (the factory ``uvicorn --factory`` calls)."""
    logging.basicConfig(
        level=os.environ.get("AMS_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s",
    )
    providers = build_providers(sql=SqlSettings.from_env(), identity=IdentitySettings.from_env())
    return create_app(*providers, settings=HttpSettings.from_env())
