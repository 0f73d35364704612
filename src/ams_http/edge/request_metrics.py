"""Request metrics: Litestar's Prometheus series, tallied in the process and written in batches.

Litestar's ``PrometheusMiddleware`` updates four labelled series on every request; with
``PROMETHEUS_MULTIPROC_DIR`` (several processes, docs/operations.md) each update takes a
lock, checks the process id and writes the memory-mapped file, five times a request: about a
twentieth of a check-in's work. :class:`RequestMetrics` keeps the same metrics, names,
labels and buckets (``<prefix>_requests_total``, ``<prefix>_request_duration_seconds``,
``<prefix>_requests_in_progress``, ``<prefix>_requests_error_total``; labels method, path
template, status code, app name) but tallies each request in plain numbers and writes the
tallies to the series at most ``FLUSH_SECONDS`` later, before every ``/metrics`` answer of
the process and at shutdown. So a scrape sees its own process's requests exactly and the
other processes' as of at most a second before; a process killed outright loses at most
its last second of counts. It serves AMS's configuration (``group_path``, no extra labels,
no exemplars). A request refused by a middleware inside it (401, 429, ...) counts under the
status its problem is answered with, where Litestar's counted it as 200.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.types import Message, Receive, Scope, Send
from prometheus_client import Histogram

from ams_http.problems import answered_status

#: (method, path template, status, app name)
_Key = tuple[str, str, int, str]
#: how long a tally may wait before it is written to the series (seconds)
FLUSH_SECONDS = 1.0


class _Tally:
    """One series key's requests since the last flush, and the series they go to."""

    __slots__ = (
        "buckets",
        "count",
        "errors",
        "request_count",
        "request_errors",
        "request_time",
        "seconds",
    )

    def __init__(self, request_count: Any, request_errors: Any, request_time: Any) -> None:
        self.request_count, self.request_errors, self.request_time = (
            request_count,
            request_errors,
            request_time,
        )
        self.count = self.errors = 0
        self.seconds = 0.0
        # prometheus_client's own per-bucket counts: a duration counts in the first bucket
        # whose upper bound is at least it (Histogram.observe)
        self.buckets = [0] * len(request_time._upper_bounds)

    def add(self, seconds: float, bounds: list[float], error: bool) -> None:
        self.count += 1
        self.errors += error
        self.seconds += seconds
        self.buckets[bisect.bisect_left(bounds, seconds)] += 1

    def write(self) -> None:
        self.request_count.inc(self.count)
        if self.errors:
            self.request_errors.inc(self.errors)
        histogram = self.request_time
        histogram._sum.inc(self.seconds)
        for bucket, count in zip(histogram._buckets, self.buckets, strict=True):
            if count:
                bucket.inc(count)


class _InProgress:
    """Requests of one series key running now, and the gauge they are written to."""

    __slots__ = ("gauge", "running", "written")

    def __init__(self, gauge: Any) -> None:
        self.gauge = gauge
        self.running = self.written = 0


class RequestMetrics(PrometheusMiddleware):
    """Count, time and gauge every request as Litestar's middleware does, tallied in the
    process and written in batches (``PrometheusConfig(middleware_class=RequestMetrics)``)."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _tallies: ClassVar[dict[_Key, _Tally]] = {}
    _in_progress: ClassVar[dict[_Key, _InProgress]] = {}
    _timer: ClassVar[asyncio.TimerHandle | None] = None
    _timer_loop: ClassVar[asyncio.AbstractEventLoop | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        buckets = [float(b) for b in self._kwargs.get("buckets", Histogram.DEFAULT_BUCKETS)]
        if buckets[-1] != float("inf"):
            buckets.append(float("inf"))
        self._bounds = buckets

    def _labelled(self, metric: Callable[[dict[str, str | int | float]], Any], key: _Key) -> Any:
        """The series of ``metric`` (one of the parent's metric getters) for ``key``."""
        method, path, status, app_name = key
        labels: dict[str, str | int | float] = {
            "method": method,
            "path": path,
            "status_code": status,
            "app_name": app_name,
        }
        return metric(labels).labels(*key)

    def _tally(self, key: _Key) -> _Tally:
        tally = _Tally(
            self._labelled(self.request_count, key),
            self._labelled(self.requests_error_count, key),
            self._labelled(self.request_time, key),
        )
        if len(tally.buckets) != len(self._bounds):
            raise RuntimeError("the request histogram's buckets are not the configured ones")
        return tally

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

        running_key = (method, path, 200, app_name)
        with self._lock:
            running = self._in_progress.get(running_key)
            if running is None:
                running = self._in_progress[running_key] = _InProgress(
                    self._labelled(self.requests_in_progress, running_key)
                )
            running.running += 1
        try:
            await self.app(scope, receive, timed_send)
        except BaseException as error:
            # the problem this error becomes is answered outside this middleware: count it
            # under that status, not as the 200 nothing was sent for yet
            span[0] = answered_status(error)
            span[1] = time.perf_counter() - started
            raise
        finally:
            status = int(span[0])
            key = (method, path, status, app_name)
            with self._lock:
                running.running -= 1
                tally = self._tallies.get(key)
                if tally is None:
                    tally = self._tallies[key] = self._tally(key)
                tally.add(span[1], self._bounds, status >= 500)
            self._flush_soon()

    @classmethod
    def _flush_soon(cls) -> None:
        """Have this process's tallies written within ``FLUSH_SECONDS`` (a timer on the
        running loop; a loop closed before its timer ran, as in tests, is replaced)."""
        loop = asyncio.get_running_loop()
        if cls._timer is None or cls._timer_loop is not loop:
            cls._timer_loop = loop
            cls._timer = loop.call_later(FLUSH_SECONDS, cls.flush)

    @classmethod
    def flush(cls, *_: Any) -> None:
        """Write this process's tallies to the series now (also a shutdown hook and run
        before every ``/metrics`` answer)."""
        with cls._lock:
            tallies = cls._tallies
            cls._tallies = {}
            cls._timer = None
            for running in cls._in_progress.values():
                if running.running != running.written:
                    running.gauge.inc(running.running - running.written)
                    running.written = running.running
        for tally in tallies.values():
            tally.write()
