"""`ams serve` with several processes, each listening on a socket of its own.

uvicorn's own supervisor hands every worker the same listening socket, and whichever
worker wakes first accepts a whole burst of new connections: measured here, 16 keep-alive
connections opened together landed 16/0 on two workers as often as 8/8, and a
server with all of them on one process runs at half its rate (docs/benchmarks.md). Here
each worker binds its own ``SO_REUSEPORT`` socket and listens on it only once its app
has started, so the kernel spreads connections by their addresses across the workers
ready to take them. The supervisor holds the port (bound, never listening, so it is
never handed a connection), restarts a worker that dies, gives up when workers keep
dying right after they start, and stops them all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

# uvicorn configures this logger from the server's --log-level
logger = logging.getLogger("uvicorn.error")

#: a worker that exits sooner than this after starting counts as failing to start
QUICK_EXIT_SECONDS = 10.0
#: quick exits in a row after which the supervisor stops instead of restarting forever
MAX_QUICK_EXITS = 5
#: how long stopping workers get before they are killed
STOP_SECONDS = 30.0


def reuse_port_supported() -> bool:
    """Whether this platform can spread connections over several listening sockets."""
    return hasattr(socket, "SO_REUSEPORT")


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound with ``SO_REUSEPORT``, not listening yet.

    Named ``IPPROTO_TCP`` so asyncio sets ``TCP_NODELAY`` on the connections it accepts.
    """
    family, kind, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _work(config: uvicorn.Config) -> None:
    """One worker process: its own socket, one uvicorn server."""
    config.configure_logging()  # as uvicorn's own workers do: logging is per process
    # bound, not listening: asyncio listens once uvicorn has loaded the app and run its
    # startup, so the kernel never hands a connection to a worker still starting
    sock = reuse_port_socket(config.host, config.port)
    uvicorn.Server(config).run(sockets=[sock])


class Workers:
    """Run and watch ``count`` worker processes serving ``config``."""

    def __init__(self, config: uvicorn.Config, count: int) -> None:
        self._config = config
        self._count = count
        self._stop = threading.Event()
        self._context = multiprocessing.get_context("spawn")

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; the exit status for the command."""
        # fails at once (port taken) instead of in every worker; never listens
        try:
            holder = reuse_port_socket(self._config.host, self._config.port)
        except OSError as error:
            logger.error("cannot listen on %s:%s: %s", self._config.host, self._config.port, error)
            return 1
        previous = {
            sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        processes = [self._start() for _ in range(self._count)]
        started = [time.monotonic()] * self._count
        quick_exits = 0
        try:
            while not self._stop.wait(0.5):
                for index, process in enumerate(processes):
                    if process.is_alive():
                        continue
                    lived = time.monotonic() - started[index]
                    quick_exits = quick_exits + 1 if lived < QUICK_EXIT_SECONDS else 0
                    logger.error(
                        "worker %s exited with status %s after %.1f s",
                        process.pid,
                        process.exitcode,
                        lived,
                    )
                    if quick_exits >= MAX_QUICK_EXITS:
                        logger.error("workers keep exiting right after they start; stopping")
                        return 1
                    processes[index], started[index] = self._start(), time.monotonic()
            return 0
        finally:
            self._stop_all(processes)
            holder.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    def _start(self) -> BaseProcess:
        process = self._context.Process(target=_work, args=(self._config,), daemon=False)
        process.start()
        logger.info("worker %s started", process.pid)
        return process

    @staticmethod
    def _stop_all(processes: list[BaseProcess]) -> None:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + STOP_SECONDS
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
