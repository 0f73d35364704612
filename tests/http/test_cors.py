"""CORS: the configured browser origins get the headers, any other origin does not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from ams_http.settings import HttpSettings
from tests.http.conftest import World
from tests.http.edge_support import make_app

ADMIN_SITE = "https://admin.a.edu"
FOREIGN = "https://evil.example"


@pytest.fixture
def client(world: World) -> Iterator[Any]:
    settings = HttpSettings(cors_origins=(ADMIN_SITE,))
    with TestClient(app=make_app(world, settings)) as client:
        yield client


def _preflight(client: Any, origin: str) -> Any:
    return client.options(
        "/api/v1/notifications",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )


def test_an_allowed_origin_gets_a_preflight_answer(client: Any) -> None:
    answer = _preflight(client, ADMIN_SITE)
    assert answer.status_code in (200, 204), answer.text
    assert answer.headers["access-control-allow-origin"] == ADMIN_SITE
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert "idempotency-key" in allowed or "*" in allowed


def test_an_allowed_origin_gets_the_headers_on_a_simple_request(client: Any, world: World) -> None:
    answer = client.get("/api/v1/me", headers={**world.headers("a.admin"), "Origin": ADMIN_SITE})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ADMIN_SITE
    exposed = answer.headers["access-control-expose-headers"].lower()
    assert "retry-after" in exposed
    assert "idempotent-replayed" in exposed
    # problems carry them too, so the browser can read the problem and Retry-After
    refused = client.get("/api/v1/me", headers={"Origin": ADMIN_SITE})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ADMIN_SITE


def test_a_foreign_origin_gets_no_cors_headers(client: Any, world: World) -> None:
    preflight = _preflight(client, FOREIGN)
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get("/api/v1/me", headers={**world.headers("a.admin"), "Origin": FOREIGN})
    assert simple.status_code == 200  # not a browser: the answer itself is not withheld
    assert "access-control-allow-origin" not in simple.headers


def test_no_origin_is_allowed_by_default(world: World) -> None:
    answer = world.client.get(
        "/api/v1/me", headers={**world.headers("a.admin"), "Origin": ADMIN_SITE}
    )
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
    preflight = _preflight(world.client, ADMIN_SITE)
    assert "access-control-allow-origin" not in preflight.headers
