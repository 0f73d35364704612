"""A served process builds its adapters and reaches its database before it serves, so its
first request does not hold up every request arriving behind it; a database that does not
answer delays nothing and is named in the log."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from ams_adapters.sql.migrate import upgrade
from ams_http.serve.asgi import app_from_env
from tests.http.cli_support import SECRET, clean_env


@pytest.fixture
def served_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    wanted = clean_env(AMS_SECRET_KEY=SECRET, AMS_BACKGROUND_IN_PROCESS="false")
    for name in [n for n in os.environ if n.startswith("AMS_") and n not in wanted]:
        monkeypatch.delenv(name)
    for name, value in wanted.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def _pooled_connections(app: Litestar, client: TestClient[Litestar]) -> int:
    engine = client.blocking_portal.call(app.state.dishka_container.get, Engine)
    return int(engine.pool.checkedin())


def test_a_served_process_opens_its_first_database_connection_before_its_first_request(
    served_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ams.db'}"
    migrated = create_engine(url)
    upgrade(migrated)
    migrated.dispose()
    served_env.setenv("AMS_DATABASE_URL", url)
    app = app_from_env()

    with TestClient(app) as client:
        assert _pooled_connections(app, client) == 1  # the warm-up's, back in the pool
        assert client.get("/health/ready").status_code == 200


def test_a_process_whose_database_does_not_answer_still_starts_and_names_it(
    served_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    served_env.setenv("AMS_DATABASE_URL", f"postgresql://ams@127.0.0.1:{port}/ams")
    app = app_from_env()

    with caplog.at_level(logging.WARNING, "ams.http.startup"), TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
        assert client.get("/health/ready").status_code == 503

    warnings = [r.getMessage() for r in caplog.records if r.name == "ams.http.startup"]
    assert len(warnings) == 1
    assert warnings[0].startswith("at start, database is not ready")


def test_a_database_that_accepts_but_never_answers_delays_the_start_only_so_long(
    served_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    served_env.setattr("ams_http.serve.asgi.WARM_UP_SECONDS", 0.5)
    with socket.socket() as silent:  # takes connections into its backlog, says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        served_env.setenv(
            "AMS_DATABASE_URL", f"postgresql://ams@127.0.0.1:{silent.getsockname()[1]}/ams"
        )
        app = app_from_env()

        with caplog.at_level(logging.WARNING, "ams.http.startup"), TestClient(app) as client:
            assert client.get("/health/live").status_code == 200

    warnings = [r.getMessage() for r in caplog.records if r.name == "ams.http.startup"]
    assert warnings == ["at start, the dependencies did not answer in 0.5 s"]
