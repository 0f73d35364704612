"""`python -m bench --only background`: notifications through the outbox, Redis and workers.

Measured on the benchmark database of :mod:`bench.postgres` (the app login, bound by
row-level security) and Redis (``AMS_BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/0``,
under a fresh key prefix deleted afterwards), with worker processes of
:mod:`bench.background_worker` — `ams worker`'s composition whose notifier is FCM over the
suite's fake transport (no network):

* a class representative's broadcast to a section of 8,000 students with one push token
  each (seeded once and kept), three times after one untimed broadcast that wakes the
  workers: from the broadcast's commit, through one ``RelayOutbox`` pass in this process,
  Redis and 2 worker processes (the audience resolved, split into parts of 2,000 devices
  that both processes take from the spread queue, each part's tokens handed to FCM in
  batches of 500) until the outbox row records the 8,000 deliveries (polled every 10 ms);
* the relay of 5,000 pending one-student notifications to Redis, and their delivery by 1
  and by 2 worker processes (timed from the moment the ready workers are told to start);
* the floor: 5,000 empty dramatiq jobs queued the same way and run by 1 worker process.

Workers start before each measurement, warm up and wait for a go file; they stop on
SIGTERM (killed after 10 s). Each row fails after 120 s. The notifications created are
deleted, so reruns start clean. ``--quick``: 800 tokens and 500 notifications.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import firebase_admin  # type: ignore[import-untyped]  # firebase-admin ships no type hints
import redis
from firebase_admin import messaging
from sqlalchemy import text
from tests.adapters.fcm.fake_fcm import FakeFcm, fake_app

from ams_adapters.dramatiq import DramatiqJobQueue, QueueSettings, make_broker, make_redis
from ams_adapters.fcm.payload import Payload
from ams_adapters.memory import SystemClock, SystemRandomSource
from ams_adapters.sql import tables as t
from ams_adapters.sql.mappers import notification_row, push_token_row
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    InstitutionId,
    Notification,
    NotificationId,
    Principal,
    PushPlatform,
    PushToken,
    Recipient,
    RecipientKind,
    Student,
)
from ams_core.ports import Job
from ams_core.testing.builders import student_principal
from ams_core.use_cases import (
    DELIVER_NOTIFICATION,
    DELIVER_NOTIFICATION_PART,
    Broadcast,
    BroadcastCommand,
    BroadcastLimits,
    RelayOutbox,
    RelayOutboxCommand,
)
from bench.background_worker import NOOP_JOB
from bench.dataset import Shape, build, seed_rows
from bench.postgres import Databases, _has_institution, _insert, connect
from bench.timing import Row, percentile

REDIS_URL = os.environ.get("AMS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[1]
ROW_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.01
AMS_QUEUE = "ams"
FLOOR_QUEUE = "floor"
SEEDED_AT = datetime(2026, 8, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Sizes:
    """How big the measurements are."""

    tokens: int
    notifications: int
    index: int  # of the seeded institution (its email domain)
    broadcasts: int = 3


FULL = Sizes(tokens=8_000, notifications=5_000, index=910)
QUICK = Sizes(tokens=800, notifications=500, index=911)


@dataclass(frozen=True)
class Audience:
    """The seeded section: its students (one push token each) and their representative."""

    institution_id: InstitutionId
    students: tuple[Student, ...]
    representative: Principal


@dataclass(frozen=True)
class Stack:
    """What this process uses: the databases, Redis and the queues the relay hands jobs to."""

    db: Databases
    client: redis.Redis
    options: QueueSettings
    jobs: DramatiqJobQueue
    floor_jobs: DramatiqJobQueue
    workdir: Path


class RowTimeoutError(RuntimeError):
    """A measurement did not finish in :data:`ROW_TIMEOUT_SECONDS`."""


# -- seeding -----------------------------------------------------------------------------


def _seed(db: Databases, sizes: Sizes) -> Audience:
    """One institution with one section of ``sizes.tokens`` students, one token each."""
    iid = f"bench-broadcast-{sizes.tokens}"
    shape = Shape(sections=1, students_per_section=sizes.tokens, faculty=6, subjects=6)
    students = build(sizes.index, shape, iid).students
    if not _has_institution(db.owner, iid):
        rows = seed_rows(sizes.index, shape, iid)
        rows["push_tokens"] = [push_token_row(_token(s)) for s in students]
        _insert(db.owner, rows)
    with db.owner.connect() as connection:
        tokens = connection.execute(
            text("SELECT count(*) FROM push_tokens WHERE institution_id = :i"), {"i": iid}
        ).scalar_one()
    if tokens != sizes.tokens:
        raise RuntimeError(f"{iid} has {tokens} push tokens, expected {sizes.tokens}")
    return Audience(InstitutionId(iid), students, student_principal(students[0], cr=True))


def _token(student: Student) -> PushToken:
    return PushToken(
        institution_id=student.institution_id,
        token=f"bench-fcm-token-{student.id}",
        platform=PushPlatform.ANDROID,
        owner_email=student.email,
        registered_at=SEEDED_AT,
        student_id=student.id,
    )


def _delete_notifications(db: Databases, institution_id: str) -> None:
    with db.owner.begin() as connection:
        connection.execute(
            text("DELETE FROM outbox WHERE institution_id = :i"), {"i": institution_id}
        )


def _require_no_other_pending(db: Databases, institution_id: str) -> None:
    """The relay takes every due notification: others would be delivered and counted too."""
    with db.owner.connect() as connection:
        others = connection.execute(
            text("SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND institution_id <> :i"),
            {"i": institution_id},
        ).scalar_one()
    if others:
        raise RuntimeError(
            f"{others} undelivered notification(s) of other institutions in the benchmark "
            "database would be relayed too; deliver or delete them first"
        )


# -- worker processes ----------------------------------------------------------------------


class Crew:
    """Worker processes started for one measurement, ready and waiting for the go file."""

    def __init__(self, stack: Stack, count: int, *, noop: bool) -> None:
        self._dir = Path(tempfile.mkdtemp(dir=stack.workdir))
        self._go = self._dir / "go"
        self._ready = [self._dir / f"ready-{n}" for n in range(count)]
        self.tokens = 0
        self.jobs = 0
        queue = FLOOR_QUEUE if noop else AMS_QUEUE
        self._processes = [self._spawn(stack, ready, queue, noop) for ready in self._ready]

    def _spawn(self, stack: Stack, ready: Path, queue: str, noop: bool) -> subprocess.Popen[str]:
        command = [
            sys.executable,
            "-m",
            "bench.background_worker",
            f"--database-url={stack.db.app_url}",
            f"--redis-url={stack.options.redis_url}",
            f"--namespace={stack.options.namespace}",
            f"--queue={queue}",
            f"--ready-file={ready}",
            f"--go-file={self._go}",
            *(["--noop"] if noop else []),
        ]
        return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603

    def check(self) -> None:
        """Raise if a worker process has exited."""
        for n, process in enumerate(self._processes):
            code = process.poll()
            if code is not None:
                raise RuntimeError(f"worker process {n} exited with code {code} (stderr above)")

    def wait_ready(self) -> None:
        """Wait until every worker has warmed up."""
        _wait_until(
            "worker processes starting",
            lambda: all(path.exists() for path in self._ready),
            time.perf_counter() + ROW_TIMEOUT_SECONDS,
            self,
        )

    def go(self) -> float:
        """Let the workers consume; returns the ``perf_counter`` of the start."""
        started = time.perf_counter()
        self._go.touch()
        return started

    def stop(self) -> None:
        """SIGTERM every worker, kill those still running after 10 s, read their counts."""
        for process in self._processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self._processes:
            try:
                out, _ = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                out, _ = process.communicate()
                print("  a worker did not stop in 10 s: killed", file=sys.stderr)
            match = re.search(r"tokens=(\d+) jobs=(\d+)", out or "")
            if match:
                self.tokens += int(match[1])
                self.jobs += int(match[2])


@contextmanager
def crew(stack: Stack, count: int, *, noop: bool = False) -> Iterator[Crew]:
    """``count`` ready worker processes, stopped on the way out."""
    workers = Crew(stack, count, noop=noop)
    try:
        workers.wait_ready()
        yield workers
    finally:
        workers.stop()


def _wait_until(what: str, done: Callable[[], bool], deadline: float, workers: Crew) -> float:
    """Poll ``done`` every 10 ms; the ``perf_counter`` when it held."""
    while not done():
        workers.check()
        if time.perf_counter() > deadline:
            raise RowTimeoutError(f"{what}: not done after {ROW_TIMEOUT_SECONDS:.0f} s")
        time.sleep(POLL_SECONDS)
    return time.perf_counter()


# -- the stack in this process -----------------------------------------------------------------


def _never(job: Job) -> None:
    raise AssertionError(f"job {job.name} runs in the worker processes")


@contextmanager
def stack() -> Iterator[Stack]:
    """The databases, a fresh Redis key prefix and the queues; all cleaned up afterwards."""
    db = connect()
    options = QueueSettings(redis_url=REDIS_URL, namespace=f"ams-bench-{uuid.uuid4().hex[:12]}")
    floor = QueueSettings(redis_url=REDIS_URL, namespace=options.namespace, queue=FLOOR_QUEUE)
    client = make_redis(options)
    broker = make_broker(options, client=client)
    handlers = {DELIVER_NOTIFICATION: _never, DELIVER_NOTIFICATION_PART: _never}
    jobs = DramatiqJobQueue(broker, client, handlers, options, spread={DELIVER_NOTIFICATION_PART})
    floor_jobs = DramatiqJobQueue(broker, client, {NOOP_JOB: _never}, floor)
    try:
        with tempfile.TemporaryDirectory(prefix="ams-bench-") as workdir:
            yield Stack(db, client, options, jobs, floor_jobs, Path(workdir))
    finally:
        _delete_keys(client, options.namespace)
        broker.close()
        db.app.dispose()
        db.owner.dispose()


def _delete_keys(client: redis.Redis, namespace: str) -> None:
    keys = list(client.scan_iter(match=f"{namespace}:*", count=1_000))
    for start in range(0, len(keys), 1_000):
        client.delete(*keys[start : start + 1_000])


def _relay(stack: Stack, limit: int) -> int:
    relay = RelayOutbox(SqlUnitOfWork(stack.db.app), stack.jobs, SystemClock())
    result = relay(RelayOutboxCommand(limit=limit))
    if result.queue_unavailable:
        raise RuntimeError("the relay found Redis unavailable")
    return result.relayed


# -- the CR broadcast ------------------------------------------------------------------------


def bench_broadcast(stack: Stack, audience: Audience, sizes: Sizes) -> Row:
    """A broadcast to the section, timed from its commit until every token was handed over.

    One broadcast first, not timed, wakes the workers' consumers; then ``sizes.broadcasts``.
    """
    uow = SqlUnitOfWork(stack.db.app)
    broadcast = Broadcast(uow, SystemClock(), SystemRandomSource(), BroadcastLimits(per_hour=1000))
    with crew(stack, 2) as workers:
        workers.go()
        _broadcast_once(stack, broadcast, audience, workers, sizes.tokens)
        samples = [
            _broadcast_once(stack, broadcast, audience, workers, sizes.tokens)
            for _ in range(sizes.broadcasts)
        ]
    _check_accepted(workers, sizes.tokens * (sizes.broadcasts + 1), "broadcast")
    median = statistics.median(samples) / 1e9
    return Row(
        f"CR broadcast to {sizes.tokens:,} tokens, handed to the fake FCM transport through "
        f"Redis and 2 worker processes (median of {len(samples)}; min {min(samples) / 1e9:.3f} s,"
        f" max {max(samples) / 1e9:.3f} s)",
        sizes.tokens,
        median,
        "tokens",
        p50_ms=median * 1e3,
        p99_ms=percentile(samples, 0.99),
        goal="≤ 2 s",
    )


def _broadcast_once(
    stack: Stack, broadcast: Broadcast, audience: Audience, workers: Crew, tokens: int
) -> int:
    """One broadcast: nanoseconds from its commit until the outbox records the deliveries."""
    command = BroadcastCommand(audience.representative, "Bench", "A broadcast to the section")
    sent = broadcast(command).notification
    started = time.perf_counter()
    if _relay(stack, 500) != 1:
        raise RuntimeError("the relay did not hand over exactly the broadcast")
    done = _wait_until(
        "CR broadcast",
        lambda: _delivered(stack.db, sent.id) is not None,
        started + ROW_TIMEOUT_SECONDS,
        workers,
    )
    delivered = _delivered(stack.db, sent.id)
    if delivered != tokens:
        raise RuntimeError(f"broadcast {sent.id}: delivered to {delivered} of {tokens} tokens")
    return round((done - started) * 1e9)


def _delivered(db: Databases, notification_id: str) -> int | None:
    """The outbox row's delivered count once it is delivered, else ``None``."""
    with db.owner.connect() as connection:
        row = connection.execute(
            text("SELECT delivered FROM outbox WHERE id = :id AND delivered_at IS NOT NULL"),
            {"id": notification_id},
        ).first()
    return None if row is None else int(row[0])


def _check_accepted(workers: Crew, expected: int, what: str) -> None:
    if workers.tokens < expected:
        raise RuntimeError(
            f"{what}: the fake FCM took {workers.tokens} tokens, not {expected}: did another "
            "process deliver some (`ams serve` without Redis relays the same database)?"
        )
    if workers.tokens > expected:
        print(f"  {what}: {workers.tokens - expected} token(s) sent twice", file=sys.stderr)


# -- draining the outbox ---------------------------------------------------------------------


def _insert_notifications(db: Databases, audience: Audience, count: int) -> None:
    tag = uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    rows = [
        notification_row(
            Notification(
                id=NotificationId(f"bench-{tag}-{n}"),
                institution_id=audience.institution_id,
                kind="bench",
                title="Bench",
                body=f"Notification {n}",
                recipients=(Recipient(RecipientKind.STUDENT, audience.students[n].id),),
                idempotency_key=f"bench:{tag}:{n}",
                created_at=now,
            )
        )
        for n in range(count)
    ]
    with db.owner.begin() as connection:
        connection.execute(t.outbox.insert(), rows)


def _pending(db: Databases, institution_id: str) -> int:
    with db.owner.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM outbox WHERE institution_id = :i AND delivered_at IS NULL"
                ),
                {"i": institution_id},
            ).scalar_one()
        )


def bench_drain(stack: Stack, audience: Audience, count: int, processes: int) -> list[Row]:
    """Relay ``count`` pending notifications, then time ``processes`` workers delivering them.

    Returns the relay's row and the drain's row.
    """
    iid = audience.institution_id
    _delete_notifications(stack.db, iid)
    _insert_notifications(stack.db, audience, count)
    started = time.perf_counter()
    relayed = _relay(stack, count)
    relay_seconds = time.perf_counter() - started
    if relayed != count:
        raise RuntimeError(f"relayed {relayed} notifications, not {count}")
    with crew(stack, processes) as workers:
        started = workers.go()
        done = _wait_until(
            f"outbox drain, {processes} worker process(es)",
            lambda: _pending(stack.db, iid) == 0,
            started + ROW_TIMEOUT_SECONDS,
            workers,
        )
    _check_accepted(workers, count, "outbox drain")
    _delete_notifications(stack.db, iid)
    plural = "es" if processes > 1 else ""
    return [
        Row(
            f"relay {count:,} notifications to Redis (one RelayOutbox pass, no worker running)",
            count,
            relay_seconds,
            "notifications",
        ),
        Row(
            f"outbox drain, {count:,} notifications, {processes} worker process{plural}",
            count,
            done - started,
            "jobs",
        ),
    ]


# -- the floor -----------------------------------------------------------------------------------


def bench_floor(stack: Stack, count: int) -> list[Row]:
    """The same number of empty jobs queued like the relay's and run by 1 worker process."""
    messages = f"{stack.options.namespace}:{FLOOR_QUEUE}.msgs"
    started = time.perf_counter()
    for _ in range(count):
        stack.floor_jobs.enqueue(Job(NOOP_JOB, {}))
    enqueue_seconds = time.perf_counter() - started
    with crew(stack, 1, noop=True) as workers:
        started = workers.go()
        done = _wait_until(
            "floor: empty jobs",
            lambda: stack.client.hlen(messages) == 0,
            started + ROW_TIMEOUT_SECONDS,
            workers,
        )
    if workers.jobs != count:
        raise RuntimeError(f"floor: the worker ran {workers.jobs} empty jobs, not {count}")
    return [
        Row(
            f"floor: enqueue {count:,} empty dramatiq jobs to Redis (DramatiqJobQueue)",
            count,
            enqueue_seconds,
            "jobs",
            goal="(relay row)",
        ),
        Row(
            f"floor: {count:,} empty dramatiq jobs through Redis, 1 worker process",
            count,
            done - started,
            "jobs",
            goal="(outbox drain rows)",
        ),
    ]


def bench_push_floor(sizes: Sizes) -> Row:
    """firebase-admin alone: ``send_each_async`` (what AMS calls) of the messages AMS builds
    for the broadcast's tokens, in batches of 500, to the same fake transport, in this
    process: no outbox, Redis, worker or database (the SDK's own cost per token)."""
    fake = FakeFcm()
    app = fake_app(fake)
    try:
        # the very messages AMS hands to the SDK: a broadcast's payload (notification, data,
        # and the Android / APNs / web collapse settings), one per token
        notification = Notification(
            NotificationId("floor"),
            InstitutionId("floor"),
            "broadcast",
            "Lab moved",
            "Room 204",
            (),
            "floor-key",
            datetime.now(UTC),
            {"section": "floor"},
        )
        payload = Payload.of(notification)
        tokens = [f"floor-token-{n:05d}" for n in range(sizes.tokens)]
        messages = [
            m for i in range(0, len(tokens), 500) for m in payload.messages(tokens[i : i + 500])
        ]

        async def send_all() -> None:
            for first in range(0, len(messages), 500):
                await messaging.send_each_async(messages[first : first + 500], app=app)

        started = time.perf_counter_ns()
        asyncio.run(send_all())
        elapsed = (time.perf_counter_ns() - started) / 1e9
    finally:
        firebase_admin.delete_app(app)
    return Row(
        f"floor: firebase-admin send_each_async of the same {sizes.tokens:,} messages to the "
        "same fake transport, one process, no outbox, Redis or database (batches of 500)",
        sizes.tokens,
        elapsed,
        "tokens",
        goal="(broadcast goal ≤ 2 s)",
    )


def run(quick: bool) -> list[Row]:
    sizes = QUICK if quick else FULL
    with stack() as s:
        audience = _seed(s.db, sizes)
        iid = audience.institution_id
        _delete_notifications(s.db, iid)
        _require_no_other_pending(s.db, iid)
        try:
            rows = [bench_broadcast(s, audience, sizes), bench_push_floor(sizes)]
            one = bench_drain(s, audience, sizes.notifications, 1)
            two = bench_drain(s, audience, sizes.notifications, 2)
            rows += [one[0], one[1], two[1]]
            rows += bench_floor(s, sizes.notifications)
        finally:
            _delete_notifications(s.db, iid)
    return rows
