"""Running the real `ams` command in subprocesses: environment, ports, readiness, stopping."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

#: a signing key long enough for IdentitySettings
SECRET = "cli-test-secret-key-" + "0" * 32


def ams_command() -> list[str]:
    """The installed `ams` script beside this interpreter (``python -m`` without it)."""
    script = Path(sys.executable).with_name("ams")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ams_http.serve.cli"]


def clean_env(**settings: str) -> dict[str, str]:
    """This environment without any ``AMS_*`` setting, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["AMS_LOG_LEVEL"] = "warning"
    return env | settings


def run_ams(
    *args: str, cwd: Path, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `ams ARGS` to its end."""
    return subprocess.run(  # noqa: S603 - our own command
        [*ams_command(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_ams(*args: str, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `ams ARGS` in a process group of its own (as a shell job), output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own command
            [*ams_command(), *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    """One GET on loopback; status 0 when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:  # closed whatever happens: an open socket is an error in the next test
        connection.request("GET", path, headers=headers)
        with connection.getresponse() as answer:
            return answer.status, answer.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        connection.close()


def wait_until_ready(
    port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 90
) -> int:
    """Poll ``/health/ready`` until it answers (any status); fail if the process ends."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, _ = get(port, "/health/ready")
        if status:
            return status
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"not serving after {seconds} s:\n{log.read_text()[-3000:]}")


def interrupt(process: subprocess.Popen[bytes], seconds: float = 45) -> int:
    """Ctrl-C as a terminal sends it (SIGINT to the whole group); the exit status."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        return process.wait(seconds)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the process group if still running, and reap the process."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):  # gone meanwhile
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
