"""A notification to many devices goes out in parts through `ams worker`'s composition, on the
real PostgreSQL and Redis: every device once, the counts of every part on the outbox row."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from dishka import Container, make_container

from ams_adapters.composition import build_providers
from ams_adapters.dramatiq import QueueSettings, make_broker, run_worker
from ams_adapters.identity import IdentitySettings
from ams_adapters.settings import BackgroundSettings, SqlSettings
from ams_core.domain import (
    Notification,
    NotificationId,
    PushPlatform,
    PushToken,
    Recipient,
    RecipientKind,
)
from ams_core.use_cases import RelayOutbox
from ams_http.serve.background import dramatiq_jobs
from tests.http.conftest import World
from tests.redis_support import REDIS_URL
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(120)]

DEVICES = 250
PART_SIZE = 100


@pytest.fixture
def container(request: pytest.FixtureRequest) -> Iterator[Container]:
    database_url = request.getfixturevalue("postgres").app_url
    identity = IdentitySettings(secret_key=b"background-parts-test-key-0123456789abcdef")
    container = make_container(
        *build_providers(sql=SqlSettings(url=database_url), identity=identity)
    )
    yield container
    container.close()


def _broadcast_to_many_devices(world: World) -> Notification:
    students = [s for s in world.a.students if s.section_id == world.a.section_a.id]
    with world.uow().for_institution(world.a.id) as uow:
        for n in range(DEVICES):
            student = students[n % len(students)]
            uow.push_tokens.put(
                PushToken(
                    world.a.id,
                    f"device-{n:04d}",
                    PushPlatform.ANDROID,
                    student.email,
                    world.clock.now() - timedelta(days=1),
                    student_id=student.id,
                )
            )
        notification = Notification(
            id=NotificationId("N-many"),
            institution_id=world.a.id,
            kind="broadcast",
            title="Lab moved",
            body="Room 204",
            recipients=(Recipient(RecipientKind.SECTION, world.a.section_a.id),),
            idempotency_key="many-devices",
            created_at=world.clock.now(),
        )
        uow.outbox.add(notification)
        uow.commit()
    return notification


def test_a_notification_to_many_devices_is_delivered_in_parts_by_two_workers_once(
    pg_world: World, container: Container
) -> None:
    world = pg_world
    notification = _broadcast_to_many_devices(world)
    name = f"ams-test-{uuid.uuid4().hex[:12]}"
    options = QueueSettings(redis_url=REDIS_URL, namespace=name, queue=name, threads=2)
    background = BackgroundSettings(push_part_size=PART_SIZE)
    # two brokers, each with its own worker, stand for two `ams worker` processes
    brokers = [make_broker(options) for _ in range(2)]
    queues = [dramatiq_jobs(container, b, options, background) for b in brokers]
    stop = threading.Event()
    workers = [
        threading.Thread(target=run_worker, args=(b, options, stop), daemon=True) for b in brokers
    ]
    try:
        assert RelayOutbox(world.uow(), queues[0], world.clock)().relayed == 1
        for worker in workers:
            worker.start()

        def delivered() -> bool:
            with world.uow().for_platform() as uow:
                sent = uow.outbox.find(notification.id)
            return sent is not None and sent.delivered_at is not None

        assert wait_until(delivered, 60), "the parts did not all arrive"
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
        keys = list(brokers[0].client.scan_iter(match=f"{name}:*", count=500))
        if keys:
            brokers[0].client.delete(*keys)
        for b in brokers:
            b.client.close()
    with world.uow().for_institution(world.a.id) as uow:
        sent = uow.outbox.find(notification.id)
    assert sent is not None
    assert (sent.parts, sent.parts_done) == (3, frozenset({0, 1, 2}))
    assert (sent.delivered, sent.failed) == (DEVICES, 0)
