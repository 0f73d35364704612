"""Request metrics: Litestar's Prometheus series, each labelled series looked up once.

Litestar's ``PrometheusMiddleware`` looks up four labelled series (``.labels(...)``, a lock
and a tuple of strings each) on every request. :class:`RequestMetrics` keeps the same
metrics, names, labels and buckets (``<prefix>_requests_total``,
``<prefix>_request_duration_seconds``, ``<prefix>_requests_in_progress``,
``<prefix>_requests_error_total``; labels method, path template, status code, app name)
and keeps each labelled series it has used, so a request costs the counts themselves. It
serves AMS's configuration (``group_path``, no extra labels, no exemplars). A request
refused by a middleware inside it (401, 429, ...) counts under the status its problem is
answered with, where Litestar's counted it as 200.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.types import Message, Receive, Scope, Send

from ams_http.problems import answered_status

#: (method, path template, status, app name)
_Key = tuple[str, str, int, str]


class RequestMetrics(PrometheusMiddleware):
    """Count, time and gauge every request as Litestar's middleware does, with the labelled
    series kept per process (``PrometheusConfig(middleware_class=RequestMetrics)``)."""

    _series: ClassVar[dict[tuple[str, _Key], Any]] = {}

    def _labelled(self, metric: Callable[[dict[str, str | int | float]], Any], key: _Key) -> Any:
        """The series of ``metric`` (one of the parent's metric getters) for ``key``."""
        found = self._series.get((metric.__name__, key))
        if found is None:
            method, path, status, app_name = key
            labels: dict[str, str | int | float] = {
                "method": method,
                "path": path,
                "status_code": status,
                "app_name": app_name,
            }
            found = metric(labels).labels(*key)
            self._series[(metric.__name__, key)] = found
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"] if scope["type"] == ScopeType.HTTP else str(scope["type"])
        path = scope["path_template"] if self._config.group_path else scope["path"]
        app_name = self._config.app_name
        started = time.perf_counter()
        span = [200, 0.0]  # status, duration to the last body message

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                span[0] = message["status"]
            elif message["type"] == "http.response.body":
                span[1] = time.perf_counter() - started
            await send(message)

        progress = self._labelled(self.requests_in_progress, (method, path, 200, app_name))
        progress.inc()
        try:
            await self.app(scope, receive, timed_send)
        except BaseException as error:
            # the problem this error becomes is answered outside this middleware: count it
            # under that status, not as the 200 nothing was sent for yet
            span[0] = answered_status(error)
            span[1] = time.perf_counter() - started
            raise
        finally:
            progress.dec()
            status = int(span[0])
            key = (method, path, status, app_name)
            if status >= 500:
                self._labelled(self.requests_error_count, key).inc()
            self._labelled(self.request_count, key).inc()
            self._labelled(self.request_time, key).observe(span[1])
