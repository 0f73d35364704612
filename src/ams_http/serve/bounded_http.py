"""uvicorn's httptools protocol with bounds: on the request head, and on the queue.

uvicorn limits header size only for its h11 parser; with httptools a client can send a
32 MB header and the worker holds all of it. Here the request line and headers together
may take at most ``max_head_bytes`` and at most ``max_header_count`` headers: above that
the connection is answered ``431 Request Header Fields Too Large`` and closed, before the
application sees anything.

A process also holds at most ``queue_limit`` requests at once, running or waiting for the
event loop, and runs none that has waited longer than ``queue_wait_ms`` (ADR 0020). Any
other is answered ``503`` with ``Retry-After`` by a few lines that never reach the
application: under a burst above capacity the process keeps answering at its capacity
with a bounded wait, and the rest are told to come back, instead of every request waiting
behind all the others.

A request's wait counts from when it reached the process, not from when the loop read it:
while the loop runs the requests it holds, the next ones wait unread in their sockets. A
timer ticking every ``TICK_SECONDS`` tells how long the loop has been busy: a head read
while the tick is overdue is taken to have arrived at the last tick (:class:`LoopLag`).
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections import deque
from typing import Any

import httptools
from prometheus_client import Counter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from ams_http.settings import HttpSettings

MAX_HEAD_BYTES = HttpSettings().max_header_bytes
MAX_HEADER_COUNT = HttpSettings().max_header_count
QUEUE_LIMIT = HttpSettings().queue_limit
QUEUE_WAIT_MS = HttpSettings().queue_wait_ms
#: the ASGI scope key holding when the request's head arrived (``time.monotonic()``)
ARRIVED = "ams.arrived"
#: how long a shed client is asked to wait (seconds)
RETRY_AFTER_SECONDS = 1
#: at most one warning about shed requests per process in this many seconds
SHED_LOG_SECONDS = 10.0
#: how often the loop's timer ticks to tell how long the loop has been busy (seconds)
TICK_SECONDS = 0.01

SHED = Counter(
    "ams_http_requests_shed",
    "requests answered 503 overloaded: the process held AMS_QUEUE_LIMIT requests (full), "
    "or the request waited longer than AMS_QUEUE_WAIT_MS (late)",
    ["reason"],
)
shed_logger = logging.getLogger("ams.http.shed")


class HeadTooLargeError(Exception):
    """Raised from a parser callback when the request head passes a bound."""


def _problem(
    status: int, title: str, detail: str, code: str
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """An RFC 9457 problem body and its headers."""
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}
    ).encode()
    return body, [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]


def _response(status: int, reason: str, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """A whole HTTP/1.1 response as bytes, for writing straight to the connection."""
    lines = [f"HTTP/1.1 {status} {reason}".encode(), *(k + b": " + v for k, v in headers)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def problem_431(detail: str) -> bytes:
    """A complete ``431`` response carrying an RFC 9457 problem; the connection closes."""
    title = "Request Header Fields Too Large"
    body, headers = _problem(431, title, detail, "headers_too_large")
    return _response(431, title, [*headers, (b"connection", b"close")], body)


_OVERLOADED_BODY, _PROBLEM_HEADERS = _problem(
    503,
    "Service Unavailable",
    f"the server is busy: try again in {RETRY_AFTER_SECONDS} s",
    "overloaded",
)
_OVERLOADED_HEADERS = [
    *_PROBLEM_HEADERS,
    (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
    (b"cache-control", b"no-store"),
]
_OVERLOADED_KEEP_ALIVE = _response(
    503, "Service Unavailable", _OVERLOADED_HEADERS, _OVERLOADED_BODY
)
_OVERLOADED_CLOSE = _response(
    503, "Service Unavailable", [*_OVERLOADED_HEADERS, (b"connection", b"close")], _OVERLOADED_BODY
)


async def overloaded(scope: Any, receive: Any, send: Any) -> None:
    """The ASGI answer to a request over the queue limit: a ``503`` problem, ``overloaded``."""
    await send({"type": "http.response.start", "status": 503, "headers": _OVERLOADED_HEADERS})
    await send({"type": "http.response.body", "body": _OVERLOADED_BODY})


class _ShedLog:
    """Counts shed requests and warns about them at most every ``SHED_LOG_SECONDS``."""

    def __init__(self) -> None:
        self.unreported = 0
        self.reported_at = 0.0

    def shed(self, why: str) -> None:
        SHED.labels(why).inc()
        self.unreported += 1
        now = time.monotonic()
        if now - self.reported_at >= SHED_LOG_SECONDS:
            shed_logger.warning(
                "overloaded: answered %d requests 503 in %.0f s, the last because %s",
                self.unreported,
                now - self.reported_at if self.reported_at else 0.0,
                why,
            )
            self.unreported, self.reported_at = 0, now


_shed_log = _ShedLog()


class LoopLag:
    """How long the event loop has been too busy to read its sockets.

    A timer ticks every ``TICK_SECONDS`` on the loop. While the loop runs the requests it
    holds, one after another, the tick is late; a head read then may have waited in its
    socket since about the last tick, which is when it is taken to have arrived. An idle
    or lightly loaded loop ticks on time, and a head counts from when it was read.
    """

    loop: Any = None
    tick = 0.0

    @classmethod
    def watch(cls, loop: Any) -> None:
        """Tick on ``loop`` (once per loop; a new loop, as in tests, takes over)."""
        if cls.loop is not loop:
            cls.loop = loop
            cls._tick(loop)

    @classmethod
    def _tick(cls, loop: Any) -> None:
        if cls.loop is loop and not loop.is_closed():
            cls.tick = time.monotonic()
            loop.call_later(TICK_SECONDS, cls._tick, loop)

    @classmethod
    def arrived(cls, read_at: float) -> float:
        """When a head read at ``read_at`` reached the process, as far as can be told."""
        return cls.tick if read_at - cls.tick > 2 * TICK_SECONDS else read_at


class _Held:
    """The requests this process holds: admitted, not answered yet (any connection)."""

    count = 0


class WaitBound:
    """The application, run only for requests that waited at most ``max_wait`` seconds
    since their head arrived; the others are answered ``overloaded`` at once."""

    def __init__(self, app: Any, max_wait: float) -> None:
        self.app = app
        self.max_wait = max_wait

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        arrived = scope.get(ARRIVED)
        if arrived is not None and time.monotonic() - arrived > self.max_wait:
            _shed_log.shed("late")
            await overloaded(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` refusing request heads above the configured bounds, and
    requests above the process's queue limit."""

    max_head_bytes = MAX_HEAD_BYTES
    max_header_count = MAX_HEADER_COUNT
    #: requests the process holds at once (every connection's, running or waiting); 0: no limit
    queue_limit = QUEUE_LIMIT
    #: longest wait before a request runs (ms); 0: no limit
    queue_wait_ms = QUEUE_WAIT_MS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bound_wait()
        self._in_head = True
        self._received_in_head = 0  # bytes fed while the head was incomplete
        self._chunk_bytes = 0  # bytes of the chunk being fed
        #: per request of this connection not answered yet, in order: whether it was admitted
        self._unanswered: deque[bool] = deque()
        #: the request being read was answered 503 already: its body is skipped
        self._shed_at_once = False

    def _bound_wait(self) -> None:
        if self.queue_wait_ms > 0:
            self.app = WaitBound(self.app, self.queue_wait_ms / 1000)
            LoopLag.watch(self.loop)

    def data_received(self, data: bytes) -> None:
        # uvicorn's own data_received, plus the bounds
        self._unset_keepalive_if_required()
        self._chunk_bytes = len(data)
        if self._in_head:
            self._received_in_head += self._chunk_bytes
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            if isinstance(error.__context__, HeadTooLargeError):
                self._refuse(str(error.__context__))
                return
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        # still inside one head: every byte since it began belongs to it
        if self._in_head and self._received_in_head > self.max_head_bytes:
            self._refuse(f"the request line and headers exceed {self.max_head_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._received_in_head = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._check_head()
        # counted from the head's arrival to the answer's last byte: uvicorn's own task set
        # also holds tasks still tidying up after their answer, which would shed too early
        arrived = LoopLag.arrived(time.monotonic())
        self.scope[ARRIVED] = arrived  # type: ignore[literal-required]
        if 0 < self.queue_limit <= _Held.count:
            _shed_log.shed("full")
            self._unanswered.append(False)
            if self._nothing_pending():
                # answered right here, while the loop reads: no task waits behind the queue
                self._shed_at_once = True
                keep_alive = self.parser.should_keep_alive()
                self.transport.write(_OVERLOADED_KEEP_ALIVE if keep_alive else _OVERLOADED_CLOSE)
                if not keep_alive:
                    self.transport.close()
                return
            app, self.app = self.app, overloaded
            try:
                super().on_headers_complete()
            finally:
                self.app = app
            return
        _Held.count += 1
        self._unanswered.append(True)
        super().on_headers_complete()

    def _nothing_pending(self) -> bool:
        """No earlier request of this connection is still to be answered (answers go out in
        the order the requests came)."""
        cycle: RequestResponseCycle | None = self.cycle  # None before the first request
        return not self.pipeline and (cycle is None or cycle.response_complete)

    def on_body(self, body: bytes) -> None:
        if not self._shed_at_once:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._shed_at_once:
            self._shed_at_once = False
            if not self.transport.is_closing():
                self.on_response_complete()  # keep-alive timer, next pipelined request
            return
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self._unanswered and self._unanswered.popleft():
            _Held.count -= 1
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        _Held.count -= sum(self._unanswered)  # never answered now
        self._unanswered.clear()
        super().connection_lost(exc)

    def _check_head(self) -> None:
        """Refuse a complete head above the bounds (raised inside the parser's callback).

        Checked once the head is complete, from what uvicorn kept of it: a head still
        incomplete is cut off in ``data_received`` as it grows, so what is kept here never
        exceeds the bound by more than one read. The exact size is added up only when the
        bytes read since the head began could exceed the bound.
        """
        headers = self.headers
        if len(headers) > self.max_header_count:
            raise HeadTooLargeError(f"a request may carry at most {self.max_header_count} headers")
        if self._received_in_head + self._chunk_bytes > self.max_head_bytes:
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in headers)
            if size > self.max_head_bytes:
                raise HeadTooLargeError(
                    f"the request line and headers exceed {self.max_head_bytes} bytes"
                )

    def _refuse(self, detail: str) -> None:
        self.logger.info("refused a request head from %s: %s", self.client, detail)
        if not self.transport.is_closing():
            self.transport.write(problem_431(detail))
            self.transport.close()


@functools.cache
def _configured_bounds() -> tuple[int, int, int, int]:
    settings = HttpSettings.from_env()
    return (
        settings.max_header_bytes,
        settings.max_header_count,
        settings.queue_limit,
        settings.queue_wait_ms,
    )


class ConfiguredHttpToolsProtocol(BoundedHttpToolsProtocol):
    """The bounds of ``AMS_MAX_HEADER_BYTES``, ``AMS_MAX_HEADER_COUNT``,
    ``AMS_QUEUE_LIMIT`` and ``AMS_QUEUE_WAIT_MS``.

    uvicorn takes a protocol class and pickles it by name into spawned workers, so the
    bounds are read from the environment in each process rather than set on a new class.
    """

    def _bound_wait(self) -> None:
        bounds = _configured_bounds()
        self.max_head_bytes, self.max_header_count, self.queue_limit, self.queue_wait_ms = bounds
        super()._bound_wait()
