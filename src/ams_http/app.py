"""The composition root of the HTTP edge: ``create_app(*providers)``."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from dishka import Provider, Scope, from_context, make_async_container
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import BeforeRequestHookHandler

from ams_http.api_docs import OfflineSwaggerRenderPlugin
from ams_http.auth import OPEN_PATHS, BearerAuthenticationMiddleware, PrincipalProvider
from ams_http.controllers import (
    absences,
    attendance,
    audit,
    auth,
    calendar,
    cover,
    health,
    imports,
    messaging,
    people,
    reports,
    sessions,
    teaching,
)
from ams_http.edge.edge import EdgeServices
from ams_http.edge.request_metrics import RequestMetrics
from ams_http.edge.security_headers import SecurityHeaders
from ams_http.openapi import ClosedStructSchemaPlugin
from ams_http.problems import EXCEPTION_HANDLERS
from ams_http.settings import HttpSettings
from ams_http.text_guard import TextGuardMiddleware
from ams_http.wiring import RequestScopeMiddleware, prebuild

API_VERSION = "1.0.0"
DOCS_PATH = "/schema"
#: response headers a browser client may read (CORS)
EXPOSED_HEADERS = ("Retry-After", "Idempotent-Replayed", "Content-Disposition", "Location")
#: what a multipart upload adds around the file (boundaries, part headers, form fields)
MULTIPART_ENVELOPE_BYTES = 64 * 1024

ROUTES: list[Any] = [
    *auth.ROUTES,
    *attendance.ROUTES,
    *reports.ROUTES,
    *messaging.ROUTES,
    *people.ROUTES,
    *teaching.ROUTES,
    *calendar.ROUTES,
    *sessions.ROUTES,
    *absences.ROUTES,
    *cover.ROUTES,
    *audit.ROUTES,
    *health.ROUTES,
]


def _write_request_metrics(request: Any) -> None:
    """Before a scrape: this process's tallied request metrics into the series."""
    RequestMetrics.flush()


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False
    before_request: BeforeRequestHookHandler | None = _write_request_metrics


class HttpProvider(Provider):
    """The edge's own settings, handed to ``create_app``."""

    settings = from_context(provides=HttpSettings, scope=Scope.APP)


def _openapi(settings: HttpSettings) -> OpenAPIConfig | None:
    if not settings.expose_docs:
        return None
    return OpenAPIConfig(
        title="AMS API",
        version=API_VERSION,
        description=(
            "Attendance and teaching cover. Sign in with `POST /api/v1/auth/google` and send "
            "`Authorization: Bearer <accessToken>`. Errors are RFC 9457 problems with a stable "
            "`code`. Requests are rate limited (429 `rate_limited` with `Retry-After`); "
            "state-changing calls accept an `Idempotency-Key` header so a retry is answered "
            "once."
        ),
        path=DOCS_PATH,
        render_plugins=[OfflineSwaggerRenderPlugin()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
        security=[{"bearer": []}],
        use_handler_docstrings=True,
    )


def create_app(*providers: Provider, settings: HttpSettings | None = None) -> Litestar:
    """Build the API from dishka providers (choose adapters by choosing providers).

    The providers must provide the use cases, ``Authenticate``, ``HealthChecks`` and an
    ``HttpSettings`` (``ams_adapters.composition.build_providers`` does).
    """
    settings = settings or HttpSettings()
    edge = EdgeServices(settings)  # rate limits, Idempotency-Key, the Redis probe, xlsx exports
    container = make_async_container(
        HttpProvider(),
        PrincipalProvider(),
        *providers,
        edge.provider,
        context={HttpSettings: settings},
    )
    prometheus = PrometheusConfig(
        app_name="ams",
        prefix="ams",
        group_path=True,
        exclude=["^/metrics", "^/health/", "^/schema"],
        middleware_class=RequestMetrics,
    )

    def size_thread_pool() -> None:
        # use cases run in anyio's worker threads; more threads than pooled connections
        # would make SQLAlchemy open and close overflow connections on every request
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads

    async def close_container(app: Litestar) -> None:
        await app.state.dishka_container.close()

    return Litestar(
        route_handlers=[
            *ROUTES,
            # a workbook upload may be larger than a JSON body: its own limit, plus room for
            # the multipart envelope
            Router(
                "/",
                route_handlers=imports.ROUTES,
                request_max_body_size=settings.import_max_bytes + MULTIPART_ENVELOPE_BYTES,
            ),
            *([MetricsController] if settings.expose_metrics else []),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            *([prometheus.middleware] if settings.expose_metrics else []),
            TextGuardMiddleware(),
            DefineMiddleware(BearerAuthenticationMiddleware, exclude=list(OPEN_PATHS)),
            *edge.middleware,
            # innermost: a request refused by authentication or a limit opens no scope
            RequestScopeMiddleware,
        ],
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_origins), expose_headers=list(EXPOSED_HEADERS)
        )
        if settings.cors_origins
        else None,
        openapi_config=_openapi(settings),
        plugins=[ClosedStructSchemaPlugin()],
        before_send=[
            SecurityHeaders(
                docs_path=DOCS_PATH if settings.expose_docs else None,
                hsts_seconds=settings.hsts_seconds,
            )
        ],
        request_max_body_size=settings.max_body_bytes,
        on_startup=[size_thread_pool, prebuild(*attendance.PREBUILT)],
        on_shutdown=[close_container, edge.aclose, RequestMetrics.flush],
        state=State({"settings": settings, "dishka_container": container}),
        debug=False,
        logging_config=None,
    )
