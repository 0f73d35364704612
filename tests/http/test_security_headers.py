"""Every response carries the security headers a browser and an operator expect, and the
docs and metrics are served only when the settings say so."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from litestar.types import Message, Scope

from ams_http.edge.security_headers import API_POLICY, DOCS_POLICY, SecurityHeaders
from ams_http.settings import HttpSettings
from tests.http.conftest import World

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def _assert_secured(headers: Any, policy: str) -> None:
    for name, value in COMMON.items():
        assert headers.get(name) == value, name
    assert headers.get("content-security-policy") == policy
    assert "strict-transport-security" not in headers


def test_api_answers_problems_and_probes_carry_the_api_headers(world: World) -> None:
    client = world.client
    answers = {
        "signed in": client.get("/api/v1/me", headers=world.headers("a.student")),
        "401": client.get("/api/v1/me"),
        "403": client.get("/api/v1/students", headers=world.headers("a.student")),
        "404 route": client.get("/api/v1/no-such-thing"),
        "405": client.delete("/health/live"),
        "422": client.get("/api/v1/me/schedule?from=nope", headers=world.headers("a.student")),
        "live": client.get("/health/live"),
        "ready": client.get("/health/ready"),
        "metrics": client.get("/metrics"),
    }

    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "signed in": 200,
        "401": 401,
        "403": 403,
        "404 route": 404,
        "405": 405,
        "422": 422,
        "live": 200,
        "ready": 200,
        "metrics": 200,
    }
    for answer in answers.values():
        _assert_secured(answer.headers, API_POLICY)


@pytest.mark.parametrize("http_settings", [HttpSettings(refresh_per_minute=1)])
def test_the_rate_limit_answer_carries_them_too(world: World) -> None:
    body = {"refreshToken": "not-a-token"}
    world.client.post("/api/v1/auth/refresh", json=body)

    limited = world.client.post("/api/v1/auth/refresh", json=body)

    assert limited.status_code == 429
    _assert_secured(limited.headers, API_POLICY)


def test_the_docs_get_a_policy_that_lets_them_load_their_own_assets(world: World) -> None:
    for path in (
        "/schema",
        "/schema/swagger",
        "/schema/openapi.json",
        "/schema/assets/swagger-ui-bundle.js",
        "/schema/assets/no-such-file.js",
    ):
        answer = world.client.get(path)
        assert answer.status_code == (404 if "no-such" in path else 200), path
        _assert_secured(answer.headers, DOCS_POLICY)
    assert "script-src 'self'" in DOCS_POLICY
    assert "connect-src 'self'" in DOCS_POLICY
    assert "frame-ancestors 'none'" in DOCS_POLICY
    assert "unsafe" not in DOCS_POLICY
    # a path that only starts like the docs is the API's
    _assert_secured(world.client.get("/schemas").headers, API_POLICY)


@pytest.mark.parametrize("http_settings", [HttpSettings(hsts_seconds=31_536_000)])
def test_strict_transport_security_is_sent_when_configured(world: World) -> None:
    for path in ("/health/live", "/schema", "/api/v1/no-such-thing"):
        assert world.client.get(path).headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.parametrize("http_settings", [HttpSettings(expose_docs=False, expose_metrics=False)])
def test_docs_and_metrics_switched_off_answer_404(world: World) -> None:
    for path in ("/schema", "/schema/openapi.json", "/schema/assets/swagger-ui.css", "/metrics"):
        answer = world.client.get(path)
        assert answer.status_code == 404, path
        _assert_secured(answer.headers, API_POLICY)
    assert world.client.get("/health/live").status_code == 200


def test_docs_and_metrics_are_exposed_by_default_and_switched_by_the_environment() -> None:
    defaults = HttpSettings.from_env({})
    off = HttpSettings.from_env({"AMS_EXPOSE_DOCS": "false", "AMS_EXPOSE_METRICS": "0"})

    assert (defaults.expose_docs, defaults.expose_metrics, defaults.hsts_seconds) == (True, True, 0)
    assert (off.expose_docs, off.expose_metrics) == (False, False)
    assert HttpSettings.from_env({"AMS_HSTS_SECONDS": "600"}).hsts_seconds == 600
    with pytest.raises(ValueError, match="AMS_"):
        HttpSettings.from_env({"AMS_HSTS_SECONDS": "-1"})


def _start(headers: list[tuple[bytes, bytes]]) -> Message:
    return cast(Message, {"type": "http.response.start", "status": 200, "headers": headers})


def test_a_header_the_handler_set_is_kept_and_bodies_are_left_alone() -> None:
    hook = SecurityHeaders(docs_path="/schema")
    scope = cast(Scope, {"type": "http", "path": "/api/v1/x"})
    start = _start([(b"x-frame-options", b"SAMEORIGIN")])
    body = cast(Message, {"type": "http.response.body", "body": b"{}"})

    asyncio.run(hook(start, scope))
    asyncio.run(hook(body, scope))

    headers = cast(dict[str, Any], start)["headers"]
    assert [value for name, value in headers if name == b"x-frame-options"] == [b"SAMEORIGIN"]
    assert (b"content-security-policy", API_POLICY.encode()) in headers
    assert body == {"type": "http.response.body", "body": b"{}"}
