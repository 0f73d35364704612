"""Liveness and readiness probes for the load balancer and the operator."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, cast

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Request, Response, get

from ams_core.ports import HealthChecks
from ams_http.controllers._run import run_in_thread
from ams_http.edge.ratelimit import EXEMPT, RATE_LIMIT
from ams_http.openapi import PublicOperation, not_ready_problem
from ams_http.problems import problem
from ams_http.schemas.base import CamelStruct


class LiveOut(CamelStruct):
    status: str


class DependencyOut(CamelStruct):
    name: str
    ok: bool
    detail: str
    latency_ms: float | None


class ReadyOut(CamelStruct):
    status: str
    checks: list[DependencyOut]


@get(
    "/health/live",
    tags=["operations"],
    operation_id="live",
    operation_class=PublicOperation,
    cache=False,
    opt={RATE_LIMIT: EXEMPT},
)
async def live() -> LiveOut:
    """The process is up and serving (no dependency is touched)."""
    return LiveOut(status="ok")


def _probe(checks: HealthChecks) -> ReadyOut:
    results = checks.run()
    return ReadyOut(
        status="ok" if all(r.ok for r in results) else "unavailable",
        checks=[
            DependencyOut(name=r.name, ok=r.ok, detail=r.detail, latency_ms=r.latency_ms)
            for r in results
        ],
    )


@get(
    "/health/ready",
    tags=["operations"],
    operation_id="ready",
    operation_class=PublicOperation,
    cache=False,
    opt={RATE_LIMIT: EXEMPT},
    responses=not_ready_problem(),
)
@inject
async def ready(
    request: Request[Any, Any, Any], checks: FromDishka[HealthChecks]
) -> Response[ReadyOut]:
    """The database (and Redis when configured) answer; a 503 problem names what does not."""
    report = await run_in_thread(_probe, checks)
    if report.status == "ok":
        return Response(report)
    failing = [check for check in report.checks if not check.ok]
    answer = problem(
        request,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "not_ready",
        "not ready: " + ", ".join(f"{c.name} ({c.detail or 'down'})" for c in failing),
        headers={"Retry-After": "5"},
        checks=[
            {"name": c.name, "ok": c.ok, "detail": c.detail, "latencyMs": c.latency_ms}
            for c in report.checks
        ],
    )
    return cast("Response[ReadyOut]", answer)  # the 503 is documented as NotReadyProblem


ROUTES = [live, ready]
