"""Liveness and readiness probes for the load balancer and the operator."""

from __future__ import annotations

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Response, get

from ams_core.ports import HealthChecks
from ams_http.controllers._run import run
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


@get("/health/live", tags=["operations"], operation_id="live", cache=False)
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
    cache=False,
    responses={},
)
@inject
async def ready(checks: FromDishka[HealthChecks]) -> Response[ReadyOut]:
    """The database (and Redis when configured) answer; 503 when one does not."""
    report = await run(_probe, checks)
    status = 200 if report.status == "ok" else 503
    headers = {} if status == 200 else {"Retry-After": "5"}
    return Response(report, status_code=status, headers=headers)


ROUTES = [live, ready]
