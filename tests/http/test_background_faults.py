"""Background work under faults, on the real PostgreSQL and Redis: a Redis outage delays
notifications but loses none and stops no check-in or broadcast."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ams_adapters.dramatiq import (
    DramatiqJobQueue,
    QueueSettings,
    make_broker,
    make_redis,
    run_worker,
)
from ams_adapters.memory import RecordingNotifier
from ams_core.domain import Notification, NotificationId, Recipient, RecipientKind
from ams_core.ports import Job
from ams_core.use_cases import (
    DELIVER_NOTIFICATION,
    DeliverNotification,
    DeliverNotificationCommand,
    RelayOutbox,
    RelayOutboxResult,
)
from ams_http.settings import HttpSettings
from tests.adapters.dramatiq.sigkill_worker import settings_for
from tests.http.conftest import World
from tests.http.edge_support import bind_devices, check_in_path, device, open_attendance
from tests.http.tcp_proxy import TcpProxy
from tests.redis_support import REDIS_URL
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(120)]


@pytest.fixture
def proxy(redis_prefix: str) -> Iterator[TcpProxy]:
    host, port = REDIS_URL.removeprefix("redis://").split("/")[0].split(":")
    proxy = TcpProxy((host, int(port)))
    yield proxy
    proxy.close()


@pytest.fixture
def http_settings(proxy: TcpProxy, redis_prefix: str) -> HttpSettings:
    """The API's rate limits and idempotency records in Redis, through the proxy."""
    return HttpSettings(redis_url=proxy.url, redis_prefix=redis_prefix)


def _queue_settings(proxy: TcpProxy) -> QueueSettings:
    name = f"ams-test-{uuid.uuid4().hex[:12]}"
    return QueueSettings(
        redis_url=proxy.url, namespace=name, queue=name, min_backoff_ms=100, max_backoff_ms=500
    )


def test_a_redis_outage_delays_notifications_and_stops_no_check_in_or_broadcast(
    pg_world: World, proxy: TcpProxy
) -> None:
    world = pg_world
    bind_devices(world)
    code = open_attendance(world.client, world)
    proxy.down()

    checked_in = world.client.post(
        check_in_path(world.session_a),
        json={"code": code, "deviceId": device("a.student")},
        headers=world.headers("a.student"),
    )
    broadcast = world.client.post(
        "/api/v1/notifications",
        json={"title": "Lab moved", "body": "Room 204"},
        headers=world.headers("a.cr"),
    )
    assert checked_in.status_code == 200, checked_in.text
    assert broadcast.status_code == 201, broadcast.text
    broadcast_id = broadcast.json()["id"]

    settings = _queue_settings(proxy)
    client = make_redis(settings)
    broker = make_broker(settings, client=client)
    notifier = RecordingNotifier()

    def deliver(job: Job) -> None:
        command = DeliverNotificationCommand.of(job)
        DeliverNotification(world.uow(), notifier, world.clock)(command)

    jobs = DramatiqJobQueue(broker, client, {DELIVER_NOTIFICATION: deliver}, settings)
    relay = RelayOutbox(world.uow(), jobs, world.clock)
    try:
        down = relay()
        assert down.queue_unavailable
        assert down.relayed == 0

        proxy.up()
        relayed = relay()
        assert relayed == RelayOutboxResult(relayed=relayed.relayed, queue_unavailable=False)
        assert relayed.relayed >= 1

        stop = threading.Event()
        worker = threading.Thread(target=run_worker, args=(broker, settings, stop), daemon=True)
        worker.start()

        def outbox_drained() -> bool:
            with world.uow().for_platform() as uow:
                return not uow.outbox.pending()

        assert wait_until(outbox_drained, 30), "the relayed notifications were not delivered"
        stop.set()
        worker.join(30)
    finally:
        broker.close()
        client.close()

    sent = [n.id for n in notifier.sent]
    assert sent.count(broadcast_id) == 1
    assert len(sent) == len(set(sent))
    with world.uow().for_institution(world.a.id) as uow:
        found = uow.outbox.find(broadcast_id)
    assert found is not None
    assert found.delivered_at is not None


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def _spawn_worker(namespace: str, database_url: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "tests.http.outbox_worker",
            REDIS_URL,
            namespace,
            namespace,
            database_url,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def test_a_worker_killed_mid_batch_leaves_every_notification_delivered_once_in_effect(
    pg_world: World, request: pytest.FixtureRequest, redis_prefix: str, redis_client: redis.Redis
) -> None:
    world = pg_world
    database_url = request.getfixturevalue("postgres").app_url
    namespace = f"ams-test-{uuid.uuid4().hex[:12]}"
    with world.uow().for_institution(world.a.id) as uow:  # twelve notices to section A
        for n in range(12):
            uow.outbox.add(
                Notification(
                    id=NotificationId(f"N-{n:02d}"),
                    institution_id=world.a.id,
                    kind="broadcast",
                    title=f"Notice {n}",
                    body="Room 204",
                    recipients=(Recipient(RecipientKind.SECTION, world.a.section_a.id),),
                    idempotency_key=f"notice-{n:02d}",
                    created_at=world.clock.now(),
                )
            )
        uow.commit()
    settings = settings_for(REDIS_URL, namespace, namespace)
    broker = make_broker(settings)
    workers: list[subprocess.Popen[str]] = []
    try:
        queue = DramatiqJobQueue(broker, broker.client, {DELIVER_NOTIFICATION: print}, settings)
        assert RelayOutbox(world.uow(), queue, world.clock)().relayed == 12

        def pushes() -> dict[str, int]:
            keys = list(redis_client.scan_iter(match=f"{namespace}:push:*", count=500))
            return {str(k): int(redis_client.get(k) or 0) for k in keys}

        workers.append(_spawn_worker(namespace, database_url))
        assert wait_until(lambda: len(pushes()) >= 3, 20), "the first worker delivered nothing"
        workers[0].kill()  # SIGKILL in the middle of the batch
        workers[0].wait(10)
        workers.append(_spawn_worker(namespace, database_url))

        def outbox_drained() -> bool:
            with world.uow().for_platform() as uow:
                return not uow.outbox.pending()

        assert wait_until(outbox_drained, 40), "a notification of the killed worker was lost"
        counts = pushes()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
            worker.wait(20)
            if worker.stdout is not None:
                worker.stdout.close()
        keys = list(redis_client.scan_iter(match=f"{namespace}*", count=500))
        if keys:
            redis_client.delete(*keys)
        broker.close()
    # every notification pushed; only the one in flight when the worker died may repeat,
    # and it carries the same idempotency key (the phone's collapse id) both times
    assert len(counts) == 12
    assert sum(counts.values()) <= 13
    with world.uow().for_platform() as uow:
        assert not uow.outbox.pending()
