"""uvicorn's httptools protocol with a bound on the request head (line and headers).

uvicorn limits header size only for its h11 parser; with httptools a client can send a
32 MB header and the worker holds all of it. Here the request line and headers together
may take at most ``max_head_bytes`` and at most ``max_header_count`` headers: above that
the connection is answered ``431 Request Header Fields Too Large`` and closed, before the
application sees anything.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ams_http.settings import HttpSettings

MAX_HEAD_BYTES = HttpSettings().max_header_bytes
MAX_HEADER_COUNT = HttpSettings().max_header_count


class HeadTooLargeError(Exception):
    """Raised from a parser callback when the request head passes a bound."""


def problem_431(detail: str) -> bytes:
    """A complete ``431`` response carrying an RFC 9457 problem; the connection closes."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Request Header Fields Too Large",
            "status": 431,
            "detail": detail,
            "code": "headers_too_large",
        }
    ).encode()
    return b"".join(
        [
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            b"content-type: application/problem+json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` refusing request heads above the configured bounds."""

    max_head_bytes = MAX_HEAD_BYTES
    max_header_count = MAX_HEADER_COUNT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._received_in_head = 0  # bytes fed while the head was incomplete
        self._head_bytes = 0  # url and header bytes the parser has handed over
        self._header_count = 0

    def data_received(self, data: bytes) -> None:
        # uvicorn's own data_received, plus the bounds
        self._unset_keepalive_if_required()
        if self._in_head:
            self._received_in_head += len(data)
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
        self._received_in_head = self._head_bytes = self._header_count = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.max_header_count:
            raise HeadTooLargeError(f"a request may carry at most {self.max_header_count} headers")
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_head_bytes:
            raise HeadTooLargeError(
                f"the request line and headers exceed {self.max_head_bytes} bytes"
            )

    def _refuse(self, detail: str) -> None:
        self.logger.info("refused a request head from %s: %s", self.client, detail)
        if not self.transport.is_closing():
            self.transport.write(problem_431(detail))
            self.transport.close()


@functools.cache
def _configured_bounds() -> tuple[int, int]:
    settings = HttpSettings.from_env()
    return settings.max_header_bytes, settings.max_header_count


class ConfiguredHttpToolsProtocol(BoundedHttpToolsProtocol):
    """The bounds of ``AMS_MAX_HEADER_BYTES`` and ``AMS_MAX_HEADER_COUNT``.

    uvicorn takes a protocol class and pickles it by name into spawned workers, so the
    bounds are read from the environment in each process rather than set on a new class.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_head_bytes, self.max_header_count = _configured_bounds()
