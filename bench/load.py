"""A small HTTP/1.1 load generator: asyncio, raw sockets, keep-alive, one process.

``run_in_process(plan, mode)`` runs one load in a separate (spawned) process, so the
generator never shares an interpreter with the code it measures, and returns a
:class:`LoadResult`. Three modes:

* :class:`ClosedLoop` — N connections, each sends its next request as soon as the
  previous answer is read (throughput);
* :class:`OpenLoop` — requests are due at a fixed rate whatever the server does, and each
  latency is measured from the time the request was *due*, not from when a connection
  was free to send it (no coordinated omission: a stalled server shows up in the tail);
* :class:`Sequential` — one connection, one request at a time (unloaded latency).

Every answer is read completely (``Content-Length`` framing) and its status counted; only
2xx answers count as done work, and non-2xx answers, lost connections and requests left
unanswered are reported. In the open loop a request still queued or in flight at the
cut-off counts as a failure and keeps its latency so far (a lower bound) in the
percentiles. Everything is bounded: the run's duration, a grace period to drain, and the
parent's timeout on the child process.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from ams_core.domain.codes import code_for_step

#: How long a run may wait for answers after its last request was due.
DRAIN_SECONDS = 15.0
#: The longest an unloaded (sequential) run may take.
SEQUENTIAL_SECONDS = 120.0


@dataclass(frozen=True)
class Plan:
    """What to send: request ``i`` is ``items[i % len(items)]`` = (token index, path index).

    ``body`` is a template for POST bodies with ``{code}`` and ``{device}``: the code is
    computed at send time from ``secrets[path index]`` exactly as the server does (the
    rotating six-digit HMAC code of the current step), the device is ``devices[token index]``.
    ``success_marker``, when set, is counted in 2xx bodies (e.g. first check-ins).
    """

    host: str
    port: int
    method: str
    paths: tuple[str, ...]
    tokens: tuple[str, ...]
    items: tuple[tuple[int, int], ...]
    body: str | None = None
    devices: tuple[str, ...] = ()
    secrets: tuple[bytes, ...] = ()
    rotation_seconds: int = 30
    success_marker: bytes | None = None


@dataclass(frozen=True)
class ClosedLoop:
    connections: int
    seconds: float
    warmup_seconds: float = 1.0


@dataclass(frozen=True)
class OpenLoop:
    rate: float
    connections: int
    seconds: float
    warmup_seconds: float = 1.0


@dataclass(frozen=True)
class Sequential:
    requests: int
    warmup_requests: int = 100


Mode = ClosedLoop | OpenLoop | Sequential


@dataclass
class LoadResult:
    """What one measured run saw (warm-up excluded)."""

    seconds: float = 0.0
    ok: int = 0
    marked: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    latencies_ns: list[int] = field(default_factory=list)
    samples: dict[int, bytes] = field(default_factory=dict)
    sent: int = 0
    #: every answer, warm-up included (for CPU per request)
    answers: int = 0
    #: CPU seconds the load generator itself used (start-up excluded)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def not_ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300) + sum(
            self.failures.values()
        )

    def p(self, fraction: float) -> float | None:
        if not self.latencies_ns:
            return None
        ordered = sorted(self.latencies_ns)
        index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
        return ordered[index] / 1e6

    def p50(self) -> float | None:
        return statistics.median(self.latencies_ns) / 1e6 if self.latencies_ns else None

    def problems(self) -> str:
        """``"none"`` or e.g. ``"409 ×12, closed ×1"``."""
        parts = [f"{s} ×{n:,}" for s, n in sorted(self.statuses.items()) if not 200 <= s < 300]
        parts += [f"{kind} ×{n:,}" for kind, n in sorted(self.failures.items())]
        return ", ".join(parts) or "none"


# -- requests ------------------------------------------------------------------------------


class _Requests:
    """Renders request ``i`` of a plan as bytes (codes cached per session and step)."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._heads = [
            f"{plan.method} {path} HTTP/1.1\r\nHost: {plan.host}:{plan.port}\r\n".encode()
            for path in plan.paths
        ]
        self._auth = [f"Authorization: Bearer {token}\r\n".encode() for token in plan.tokens]
        self._step = -1
        self._codes: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._plan.items)

    def render(self, i: int) -> bytes:
        plan = self._plan
        user, path = plan.items[i % len(plan.items)]
        if plan.body is None:
            return b"".join((self._heads[path], self._auth[user], b"\r\n"))
        code = ""
        if plan.secrets:
            step = int(time.time()) // plan.rotation_seconds if plan.rotation_seconds else 0
            if step != self._step:
                self._step, self._codes = step, {}
            code = self._codes.get(path) or self._codes.setdefault(
                path, code_for_step(plan.secrets[path], step)
            )
        device = plan.devices[user] if plan.devices else ""
        body = plan.body.format(code=code, device=device).encode()
        return b"".join(
            (
                self._heads[path],
                self._auth[user],
                b"Content-Type: application/json\r\nContent-Length: ",
                str(len(body)).encode(),
                b"\r\n\r\n",
                body,
            )
        )


# -- one keep-alive connection ---------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """An HTTP/1.1 keep-alive connection with one request in flight at a time."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._transport: asyncio.Transport | None = None
        self._status = 0
        self._body_at = -1
        self._end = -1
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._end < 0:
            head_end = self._buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self._buffer[:head_end]).lower()
            self._status = int(head[9:12])
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                self._fail(ConnectionError("answer without Content-Length"))
                return
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : stop if stop >= 0 else len(head)])
            self._body_at = head_end + 4
            self._end = self._body_at + length
        if len(self._buffer) >= self._end:
            body = bytes(self._buffer[self._body_at : self._end])
            del self._buffer[: self._end]
            self._end = -1
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result((self._status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError("connection closed by the server"))

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        if self._transport is not None:
            self._transport.close()

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self._transport is not None
        assert self._waiter is None
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(data)
        return self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def _connect(plan: Plan) -> _Connection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(_Connection, plan.host, plan.port)
    return protocol


class _Recorder:
    def __init__(self, plan: Plan, result: LoadResult) -> None:
        self._marker = plan.success_marker
        self.result = result

    def answer(self, status: int, body: bytes, latency_ns: int) -> None:
        result = self.result
        result.statuses[status] += 1
        result.latencies_ns.append(latency_ns)
        if 200 <= status < 300:
            result.ok += 1
            if self._marker is not None and self._marker in body:
                result.marked += 1
        elif status not in result.samples:
            result.samples[status] = body[:300]

    def failure(self, kind: str) -> None:
        self.result.failures[kind] += 1


# -- the three modes ---------------------------------------------------------------------------


async def _closed(plan: Plan, mode: ClosedLoop) -> LoadResult:
    requests = _Requests(plan)
    result = LoadResult()
    recorder = _Recorder(plan, result)
    counter = iter(range(1 << 62))
    clock = time.perf_counter_ns
    start = clock() + int(mode.warmup_seconds * 1e9)
    stop = start + int(mode.seconds * 1e9)
    last_done = start

    async def worker() -> None:
        nonlocal last_done
        connection = await _connect(plan)
        try:
            while (sent_at := clock()) < stop:
                data = requests.render(next(counter))
                try:
                    status, body = await connection.request(data)
                except ConnectionError:
                    if sent_at >= start:
                        recorder.failure("connection lost")
                    connection = await _connect(plan)
                    continue
                done = clock()
                result.answers += 1
                if sent_at >= start:
                    result.sent += 1
                    recorder.answer(status, body, done - sent_at)
                    last_done = max(last_done, done)
        finally:
            connection.close()

    tasks = [asyncio.ensure_future(worker()) for _ in range(mode.connections)]
    finished, pending = await asyncio.wait(
        tasks, timeout=mode.warmup_seconds + mode.seconds + DRAIN_SECONDS
    )
    for task in pending:
        task.cancel()
        recorder.failure("no answer in time")
    for task in finished:
        if task.exception() is not None:
            recorder.failure(f"worker: {task.exception()!r}"[:80])
    result.seconds = (last_done - start) / 1e9
    return result


async def _open(plan: Plan, mode: OpenLoop) -> LoadResult:
    requests = _Requests(plan)
    result = LoadResult()
    recorder = _Recorder(plan, result)
    clock = time.perf_counter_ns
    queue: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue()
    connections = [await _connect(plan) for _ in range(mode.connections)]
    interval = 1e9 / mode.rate
    begin = clock()
    start = begin + int(mode.warmup_seconds * 1e9)
    total = int((mode.warmup_seconds + mode.seconds) * mode.rate)
    last_done = start

    inflight: dict[int, int] = {}

    async def worker(n: int, connection: _Connection) -> None:
        nonlocal last_done
        while (job := await queue.get()) is not None:
            due, i = job
            inflight[n] = due
            try:
                status, body = await connection.request(requests.render(i))
            except ConnectionError:
                if due >= start:
                    recorder.failure("connection lost")
                connection = await _connect(plan)
                continue
            finally:
                inflight.pop(n, None)
            done = clock()
            result.answers += 1
            if due >= start:
                recorder.answer(status, body, done - due)
                last_done = max(last_done, done)
        connection.close()

    async def dispatch() -> None:
        i = 0
        while i < total:
            now = clock()
            while i < total and begin + int(i * interval) <= now:
                due = begin + int(i * interval)
                queue.put_nowait((due, i))
                if due >= start:
                    result.sent += 1
                i += 1
            if i < total:
                await asyncio.sleep(max(0.0, (begin + int(i * interval) - clock()) / 1e9))
        for _ in connections:
            queue.put_nowait(None)

    tasks = [asyncio.ensure_future(worker(n, c)) for n, c in enumerate(connections)]
    await dispatch()
    _, pending = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
    cutoff = clock()
    # still queued or in flight at the cut-off: failures, and their latency so far (a lower
    # bound) stays in the percentiles, so an overloaded server cannot hide in them
    waiting = list(inflight.values())
    for task in pending:
        task.cancel()
    while not queue.empty():
        job = queue.get_nowait()
        if job is not None:
            waiting.append(job[0])
    for due in waiting:
        if due >= start:
            recorder.failure("no answer in time")
            result.latencies_ns.append(cutoff - due)
    result.seconds = max(mode.seconds, (last_done - start) / 1e9)
    return result


async def _sequential(plan: Plan, mode: Sequential) -> LoadResult:
    requests = _Requests(plan)
    result = LoadResult()
    recorder = _Recorder(plan, result)
    clock = time.perf_counter_ns
    connection = await _connect(plan)
    deadline = clock() + int(SEQUENTIAL_SECONDS * 1e9)
    try:
        for i in range(mode.warmup_requests):
            await connection.request(requests.render(i))
            result.answers += 1
        began = clock()
        for i in range(mode.warmup_requests, mode.warmup_requests + mode.requests):
            if clock() > deadline:
                recorder.failure("run too long")
                break
            data = requests.render(i)
            sent_at = clock()
            try:
                status, body = await connection.request(data)
            except ConnectionError:
                recorder.failure("connection lost")
                connection = await _connect(plan)
                continue
            result.sent += 1
            result.answers += 1
            recorder.answer(status, body, clock() - sent_at)
        result.seconds = (clock() - began) / 1e9
    finally:
        connection.close()
    return result


async def _run(plan: Plan, mode: Mode) -> LoadResult:
    if isinstance(mode, ClosedLoop):
        return await _closed(plan, mode)
    if isinstance(mode, OpenLoop):
        return await _open(plan, mode)
    return await _sequential(plan, mode)


def run_load(plan: Plan, mode: Mode) -> LoadResult:
    """Run one load in this process (the garbage collector paused while it runs)."""
    gc.collect()
    gc.disable()
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        result = asyncio.run(_run(plan, mode))
    finally:
        gc.enable()
    result.cpu_seconds = time.process_time() - cpu
    result.wall_seconds = time.perf_counter() - wall
    return result


def _child(pipe: Connection, plan: Plan, mode: Mode) -> None:
    answer: LoadResult | str
    try:
        answer = run_load(plan, mode)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises it
        answer = f"{type(error).__name__}: {error}"
    pipe.send(answer)
    pipe.close()


def budget(mode: Mode) -> float:
    """The longest a run in ``mode`` may take, start-up and drain included."""
    if isinstance(mode, Sequential):
        return 30 + SEQUENTIAL_SECONDS
    return 30 + mode.warmup_seconds + mode.seconds + DRAIN_SECONDS


def run_in_process(plan: Plan, mode: Mode) -> LoadResult:
    """Run one load in a fresh spawned process; kill it if it overruns its budget."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, plan, mode), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(budget(mode)):
            raise TimeoutError(f"the load generator did not finish within {budget(mode):.0f} s")
        answer = receiver.recv()
    finally:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
        receiver.close()
    if not isinstance(answer, LoadResult):
        raise RuntimeError(f"the load generator failed: {answer}")  # noqa: TRY004
    return answer
