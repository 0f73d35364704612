"""`ams serve` bounds each process's queue: a burst above ``AMS_QUEUE_LIMIT`` is answered
503 ``overloaded`` with ``Retry-After`` at once, the rest are served, and the process goes
on serving afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from ams_http.serve.bounded_http import ARRIVED, TICK_SECONDS, LoopLag, WaitBound
from tests.http.live_server import LiveServer, is_live, live_server

pytestmark = pytest.mark.slow

LIMIT = 4
BURST = 20
REQUEST = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("queue"), env={"AMS_QUEUE_LIMIT": str(LIMIT)}) as s:
        yield s


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One complete answer (``Content-Length`` framing) read from a keep-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(lines[0].split(" ")[1]), headers, body


def _burst(
    server: LiveServer, request: bytes = REQUEST, *, then: bytes | None = None
) -> list[tuple[int, dict[str, str], bytes]]:
    """``BURST`` requests arriving together: sent while the process is stopped, so that
    they are all waiting when it next looks at its sockets. With ``then``, every connection
    sends that request afterwards and must get a 200 on the same connection."""
    with ExitStack() as stack:
        socks = [
            stack.enter_context(socket.create_connection(("127.0.0.1", server.port), timeout=10))
            for _ in range(BURST)
        ]
        for sock in socks:  # every connection accepted and idle before the stop
            sock.sendall(REQUEST)
            assert _answer(sock)[0] == 200
        os.kill(server.pid, signal.SIGSTOP)
        try:
            for sock in socks:
                sock.sendall(request)
        finally:
            os.kill(server.pid, signal.SIGCONT)
        answers = [_answer(sock) for sock in socks]
        if then is not None:
            for sock in socks:
                sock.sendall(then)
                assert _answer(sock)[0] == 200
        return answers


def test_a_burst_above_the_queue_limit_is_partly_shed_with_503_and_retry_after(
    server: LiveServer,
) -> None:
    answers = _burst(server)

    statuses = [status for status, _, _ in answers]
    assert statuses.count(200) >= LIMIT
    shed = [(headers, body) for status, headers, body in answers if status == 503]
    assert len(shed) >= BURST - 2 * LIMIT
    for headers, body in shed:
        assert headers["retry-after"] == "1"
        assert headers["content-type"] == "application/problem+json"
        problem = json.loads(body)
        assert (problem["status"], problem["code"]) == (503, "overloaded")


def test_a_shed_request_with_a_body_leaves_its_connection_usable(server: LiveServer) -> None:
    body = b'{"code":"123456","deviceId":"phone"}'
    post = (
        b"POST /api/v1/sessions/S1/check-in HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    ) + body

    answers = _burst(server, post, then=REQUEST)

    statuses = [status for status, _, _ in answers]
    assert statuses.count(503) >= BURST - 2 * LIMIT
    assert set(statuses) <= {401, 503}  # admitted ones reach the app: no token


def test_shed_requests_are_counted_in_the_metrics(server: LiveServer) -> None:
    _burst(server)

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = _answer(sock)

    assert status == 200
    line = next(
        line
        for line in body.decode().splitlines()
        if line.startswith('ams_http_requests_shed_total{reason="full"}')
    )
    assert float(line.split()[-1]) >= BURST - 2 * LIMIT


def test_the_process_serves_again_once_the_burst_is_answered(server: LiveServer) -> None:
    _burst(server)

    assert is_live(server.port)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for _ in range(3 * LIMIT):  # one at a time: never over the limit
            sock.sendall(REQUEST)
            assert _answer(sock)[0] == 200


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[dict[str, object]] = []
        self.called = False

    async def app(self, scope: object, receive: object, send: object) -> None:
        self.called = True

    async def send(self, message: dict[str, object]) -> None:
        self.messages.append(message)


async def _never() -> dict[str, object]:
    raise AssertionError("the body is never read")


@pytest.mark.parametrize(
    ("waited", "runs"), [(0.01, True), (0.3, False)], ids=["fresh", "waited too long"]
)
def test_a_request_that_waited_past_the_bound_is_answered_503_instead_of_run(
    waited: float, runs: bool
) -> None:
    recorder = _Recorder()
    bounded = WaitBound(recorder.app, max_wait=0.2)
    scope = {"type": "http", ARRIVED: time.monotonic() - waited}

    asyncio.run(bounded(scope, _never, recorder.send))

    assert recorder.called is runs
    if not runs:
        start, body = recorder.messages
        assert start["status"] == 503
        assert (b"retry-after", b"1") in start["headers"]  # type: ignore[operator]
        assert json.loads(body["body"])["code"] == "overloaded"  # type: ignore[arg-type]


def test_a_head_read_after_the_loop_was_busy_counts_from_before_the_busy_stretch() -> None:
    async def scenario() -> tuple[float, float, float, float]:
        LoopLag.watch(asyncio.get_running_loop())
        first = LoopLag.tick
        await asyncio.sleep(5 * TICK_SECONDS)  # the timer is due before the sleep ends
        ticked = LoopLag.tick
        time.sleep(0.3)  # noqa: ASYNC251 - the loop busy running requests, reading no socket
        busy_read = time.monotonic()
        return first, ticked, busy_read, LoopLag.arrived(busy_read)

    first, ticked, busy_read, busy_arrived = asyncio.run(scenario())

    assert ticked > first  # an idle loop's timer ticks on time
    soon_after = ticked + TICK_SECONDS
    assert LoopLag.arrived(soon_after) == soon_after  # read then: counts from the read
    assert busy_arrived == ticked  # read after the busy stretch: counts from before it
    assert busy_read - busy_arrived >= 0.3
