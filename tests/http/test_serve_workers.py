"""`ams serve --workers 2`: each worker listens on a socket of its own, so connections
opened together are spread over both; a worker that dies is replaced; SIGTERM stops all;
a port already taken is refused at once."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http.live_server import free_port, is_live

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="reads /proc to see who holds a socket"
    ),
]

LISTEN, ESTABLISHED = "0A", "01"


def _start(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMS_")}
    env |= {
        "AMS_DATABASE_URL": f"sqlite:///{tmp_path / 'ams.db'}",
        "AMS_SECRET_KEY": "serve-workers-test-key-" + "0" * 32,
        "AMS_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "ams_http.serve.cli", "serve", "--port", str(port)]
    with (tmp_path / "serve.log").open("wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own command
            [*command, "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Kill the server's whole process group (if still running) and reap it."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(10)


def _sockets(port: int) -> dict[str, str]:
    """inode → state of every TCP socket whose local port is ``port``."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                found[fields[9]] = fields[3]
    return found


def _inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _workers(supervisor: int, port: int) -> dict[int, set[str]]:
    """Each child of the supervisor that listens on the port → its socket inodes."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    listening = {inode for inode, state in _sockets(port).items() if state == LISTEN}
    found = {}
    for child in map(int, children):
        try:
            inodes = _inodes(child)
        except OSError:
            continue
        if inodes & listening:
            found[child] = inodes
    return found


def _wait_for(condition: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.2)
    pytest.fail("timed out waiting")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    server = _start(tmp_path, port)
    try:
        _wait_for(lambda: is_live(port) and len(_workers(server.pid, port)) == 2)
        yield server, port
    finally:
        _stop(server)


def test_connections_opened_together_reach_both_workers(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = served
    connections: list[http.client.HTTPConnection] = []
    try:
        for _ in range(32):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connections.append(connection)
            connection.connect()
        for connection in connections:  # keep-alive: each stays open with its worker
            connection.request("GET", "/health/live")
            assert connection.getresponse().read()

        established = {inode for inode, state in _sockets(port).items() if state == ESTABLISHED}
        workers = _workers(server.pid, port)
        held = {pid: len(inodes & established) for pid, inodes in workers.items()}
    finally:
        for connection in connections:
            connection.close()

    assert sum(held.values()) == 32
    assert min(held.values()) >= 4, held  # by the kernel's hash; 0 on one side was the bug


def test_a_dead_worker_is_replaced_and_sigterm_stops_everything(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    server, port = served
    victim = min(_workers(server.pid, port))

    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: victim not in _workers(server.pid, port))
    _wait_for(lambda: len(_workers(server.pid, port)) == 2)
    assert is_live(port)

    workers = list(_workers(server.pid, port))
    server.send_signal(signal.SIGTERM)
    assert server.wait(40) == 0
    for pid in workers:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )


def test_a_port_already_taken_is_refused_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        server = _start(tmp_path, port)
        try:
            status = server.wait(30)
        finally:
            _stop(server)
    assert status == 1
    assert "cannot listen on 127.0.0.1:" in (tmp_path / "serve.log").read_text()


def test_workers_that_keep_failing_to_start_stop_the_server(tmp_path: Path) -> None:
    # every worker fails at start: its app cannot be imported (a bad setting would not do,
    # `ams serve` refuses those before it starts any worker: test_startup_errors.py)
    program = (
        "import sys, uvicorn\n"
        "from ams_http.serve.workers import Workers\n"
        "config = uvicorn.Config('ams_http.no_such_module:app', port=int(sys.argv[1]))\n"
        "sys.exit(Workers(config, 2).run())\n"
    )
    with (tmp_path / "serve.log").open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our own program
            [sys.executable, "-c", program, str(free_port())],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        status = server.wait(90)
    finally:
        _stop(server)
    log = (tmp_path / "serve.log").read_text()
    assert status == 1
    assert "workers keep exiting right after they start; stopping" in log


SLOW_APP = """
import asyncio
import os


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await asyncio.sleep(float(os.environ["SLOW_STARTUP_SECONDS"]))
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def test_a_restarted_worker_takes_connections_only_once_its_app_has_started(
    tmp_path: Path,
) -> None:
    # a worker listening while its app still starts holds the connections the kernel
    # hands it until the start is over: here 3 s, in AMS the import and the pools
    (tmp_path / "slow_app.py").write_text(SLOW_APP)
    program = (
        "import sys, uvicorn\n"
        "from ams_http.serve.workers import Workers\n"
        "config = uvicorn.Config('slow_app:app', port=int(sys.argv[1]), log_level='warning')\n"
        "sys.exit(Workers(config, 2).run())\n"
    )
    port = free_port()
    env = os.environ | {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with (tmp_path / "serve.log").open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our own program
            [sys.executable, "-c", program, str(port)],
            env=env | {"SLOW_STARTUP_SECONDS": "3"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(lambda: is_live(port) and len(_workers(server.pid, port)) == 2)
        victim = min(_workers(server.pid, port))
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: victim not in _workers(server.pid, port))

        # a new connection every 0.1 s while the replacement starts, each from a port of its own
        deadline, slow = time.monotonic() + 5, 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            answered = is_live(port)
            slow += not answered or time.monotonic() - started > 1
            time.sleep(0.1)
        assert slow == 0, f"{slow} connections waited on a worker still starting"
        _wait_for(lambda: len(_workers(server.pid, port)) == 2)
    finally:
        _stop(server)
