"""`ams serve` bounds the request head: a huge header or too many headers answer 431 and
close the connection; the worker keeps serving and a large body is still a body."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http.live_server import LiveServer, is_live, live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    limits = {"AMS_MAX_HEADER_BYTES": "8192", "AMS_MAX_HEADER_COUNT": "32"}
    with live_server(tmp_path_factory.mktemp("heads"), env=limits) as served:
        yield served


@pytest.fixture
def port(server: LiveServer) -> int:
    return server.port


def _exchange(port: int, head: bytes, body: bytes = b"", chunk: int = 65536) -> bytes:
    """Send ``head`` and ``body`` in chunks, then read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        payload = head + body
        try:
            for start in range(0, len(payload), chunk):
                sock.sendall(payload[start : start + chunk])
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before reading everything
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except OSError:
            pass  # closed with unread data: the kernel may drop the answer (a reset)
    return answer


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_a_32_mb_header_is_cut_off_without_growing_the_worker(server: LiveServer) -> None:
    head = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (32 * 1024 * 1024)
    before = server.rss_kib()

    answer = _exchange(server.port, head, b"\r\n\r\n")

    # the server answers 431 and closes while the client is still sending, so the client's
    # kernel may discard the answer on the reset; either way the worker never held 32 MB
    assert answer == b"" or _status(answer) == 431
    assert server.rss_kib() - before < 8 * 1024
    assert is_live(server.port)


def test_a_431_is_a_problem_with_a_stable_code(port: int) -> None:
    head = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"

    answer = _exchange(port, head)

    assert _status(answer) == 431
    problem = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert problem["code"] == "headers_too_large"
    assert problem["status"] == 431


def test_a_header_just_over_the_bound_in_one_packet_is_refused(port: int) -> None:
    head = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"

    assert _status(_exchange(port, head)) == 431


def test_too_many_headers_are_refused(port: int) -> None:
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(40))
    head = b"GET /health/live HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"

    assert _status(_exchange(port, head)) == 431


def test_an_ordinary_request_with_a_large_body_sent_at_once_is_not_mistaken_for_a_head(
    port: int,
) -> None:
    body = json.dumps({"email": "x@a.edu", "password": "p" * 200, "pad": "z" * 60000}).encode()
    head = (
        b"POST /api/v1/auth/password HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    )

    answer = _exchange(port, head, body, chunk=len(head) + len(body))

    assert _status(answer) == 422  # read as a body, refused for its unknown field


def test_headers_within_the_bounds_are_served(port: int) -> None:
    some = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 100) for n in range(20))
    head = b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + some + b"\r\n"

    assert _status(_exchange(port, head)) == 200


def test_the_bounds_are_settings_checked_at_start(tmp_path: Path) -> None:
    from ams_http.settings import HttpSettings

    with pytest.raises(ValueError, match="header"):
        HttpSettings.from_env({"AMS_MAX_HEADER_BYTES": "10"})
