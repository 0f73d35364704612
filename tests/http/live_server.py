"""A real `ams serve` on a free loopback port, for tests that need the whole process."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SECRET = "live-server-test-key-" + "0" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_live(port: int) -> bool:
    """Whether ``/health/live`` answers 200; the connection is closed whatever happens."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/health/live")
        with connection.getresponse() as answer:
            answer.read()
            return answer.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@dataclass(frozen=True)
class LiveServer:
    port: int
    pid: int

    def rss_kib(self) -> int:
        """Resident memory of the server process (with one worker, the worker itself)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


@contextmanager
def live_server(
    tmp_path: Path,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    start_seconds: float = 60.0,
) -> Iterator[LiveServer]:
    """Serve AMS (SQLite in ``tmp_path`` unless ``env`` says otherwise)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AMS_")}
    environment |= {
        "AMS_DATABASE_URL": f"sqlite:///{tmp_path / 'ams.db'}",
        "AMS_SECRET_KEY": SECRET,
        "AMS_LOG_LEVEL": "warning",
        **(env or {}),
    }
    command = [sys.executable, "-m", "ams_http.serve.cli", "serve", "--port", str(port)]
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - our own command
            [*command, "--workers", str(workers)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + start_seconds
        while not is_live(port):
            if server.poll() is not None or time.monotonic() > deadline:
                log_text = (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"the server did not start:\n{log_text}")
            time.sleep(0.2)
        yield LiveServer(port, server.pid)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
