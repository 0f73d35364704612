"""The outbox relay hands notifications to the job queue; a job delivers one to its audience."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from ams_adapters.memory import (
    InlineJobQueue,
    InMemoryUnitOfWork,
    MemoryStore,
    RecordingJobQueue,
    RecordingNotifier,
)
from ams_adapters.memory.clock import FixedClock
from ams_core.domain import (
    DeliveryReport,
    NotFoundError,
    Notification,
    NotificationId,
    PushPlatform,
    PushToken,
    Recipient,
    RecipientKind,
    UnavailableError,
)
from ams_core.ports import Job, JobQueue, UnitOfWork
from ams_core.testing.builders import SmallCollege, seed_small_college
from ams_core.use_cases import (
    DELIVER_NOTIFICATION,
    DeliverNotification,
    DeliverNotificationCommand,
    RelayOutbox,
    RelayOutboxResult,
)

T0 = datetime(2026, 11, 16, 4, 0, tzinfo=UTC)


class World:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.college: SmallCollege = seed_small_college(self.uow())
        self.clock = FixedClock(T0)
        self.notifier = RecordingNotifier()

    def uow(self) -> UnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def queue(self, key: str, *recipients: Recipient) -> Notification:
        section = Recipient(RecipientKind.SECTION, self.college.section_a.id)
        notification = Notification(
            id=NotificationId(f"N-{key}"),
            institution_id=self.college.id,
            kind="broadcast",
            title=f"Title {key}",
            body="Body",
            recipients=recipients or (section,),
            idempotency_key=key,
            created_at=self.clock.now(),
        )
        with self.uow().for_institution(self.college.id) as uow:
            uow.outbox.add(notification)
            uow.commit()
        self.clock.advance(timedelta(seconds=1))
        return notification

    def register(self, token: str, student: int | None = None, teacher: bool = False) -> None:
        c = self.college
        owner = c.alice if teacher else c.students[student or 0]
        with self.uow().for_institution(c.id) as uow:
            uow.push_tokens.put(
                PushToken(
                    c.id,
                    token,
                    PushPlatform.ANDROID,
                    owner.email,
                    T0,
                    student_id=None if teacher else c.students[student or 0].id,
                    faculty_id=c.alice.id if teacher else None,
                )
            )
            uow.commit()

    def deliver(self, notification: Notification) -> None:
        command = DeliverNotificationCommand(notification.id, notification.institution_id)
        DeliverNotification(self.uow(), self.notifier, self.clock)(command)

    def relay(self, jobs: JobQueue) -> RelayOutboxResult:
        return RelayOutbox(self.uow(), jobs, self.clock, timedelta(minutes=10))()

    def pending(self) -> list[NotificationId]:
        with self.uow().for_platform() as uow:
            return [n.id for n in uow.outbox.pending()]


@pytest.fixture
def world() -> World:
    return World()


def test_the_relay_hands_each_undelivered_notification_to_the_queue_once_oldest_first(
    world: World,
) -> None:
    first, second = world.queue("one"), world.queue("two")
    jobs = RecordingJobQueue()

    assert world.relay(jobs) == RelayOutboxResult(relayed=2, queue_unavailable=False)
    assert world.relay(jobs) == RelayOutboxResult(relayed=0, queue_unavailable=False)

    assert [j.name for j in jobs.jobs] == [DELIVER_NOTIFICATION] * 2
    assert [dict(j.payload) for j in jobs.jobs] == [
        {"notification_id": n.id, "institution_id": n.institution_id} for n in (first, second)
    ]


def test_a_notification_whose_job_never_ran_is_handed_over_again_after_the_redelivery_time(
    world: World,
) -> None:
    world.queue("one")
    jobs = RecordingJobQueue()
    world.relay(jobs)

    world.clock.advance(timedelta(minutes=9))
    assert world.relay(jobs).relayed == 0
    world.clock.advance(timedelta(minutes=2))
    assert world.relay(jobs).relayed == 1
    assert len(jobs.jobs) == 2


class _DownQueue(JobQueue):
    def __init__(self) -> None:
        self.down = True
        self.jobs: list[Job] = []

    def enqueue(self, job: Job) -> None:
        if self.down:
            raise UnavailableError("the broker is unreachable")
        self.jobs.append(job)


def test_an_unreachable_queue_keeps_every_notification_due_for_the_next_pass(
    world: World,
) -> None:
    first, second = world.queue("one"), world.queue("two")
    queue = _DownQueue()

    assert world.relay(queue) == RelayOutboxResult(relayed=0, queue_unavailable=True)
    queue.down = False
    assert world.relay(queue) == RelayOutboxResult(relayed=2, queue_unavailable=False)
    assert [j.payload["notification_id"] for j in queue.jobs] == [first.id, second.id]


def test_a_section_broadcast_reaches_every_registered_device_of_the_section(
    world: World,
) -> None:
    world.register("tok-0", student=0)
    world.register("tok-1", student=1)
    world.register("tok-teacher", teacher=True)  # not addressed
    notification = world.queue("one")

    world.deliver(notification)

    assert world.notifier.deliveries == [(notification, ("tok-0", "tok-1"))]
    with world.uow().for_institution(world.college.id) as uow:
        sent = uow.outbox.find(notification.id)
    assert sent is not None
    assert (sent.delivered_at, sent.delivered, sent.failed) == (world.clock.now(), 2, 0)
    assert world.pending() == []


def test_a_notification_delivered_already_is_not_sent_again(world: World) -> None:
    world.register("tok-0", student=0)
    notification = world.queue("one")

    world.deliver(notification)
    world.deliver(notification)

    assert len(world.notifier.deliveries) == 1


def test_students_and_teachers_addressed_by_id_get_their_devices(world: World) -> None:
    c = world.college
    world.register("tok-2", student=2)
    world.register("tok-teacher", teacher=True)
    notification = world.queue(
        "one",
        Recipient(RecipientKind.STUDENT, c.students[2].id),
        Recipient(RecipientKind.FACULTY, c.alice.id),
    )

    world.deliver(notification)

    assert world.notifier.deliveries == [(notification, ("tok-2", "tok-teacher"))]


class _DeadTokenNotifier(RecordingNotifier):
    def send(self, notification: Notification, devices: Sequence[PushToken]) -> DeliveryReport:
        report = super().send(notification, devices)
        dead = tuple(d.token for d in devices if d.token.startswith("dead"))
        return DeliveryReport(report.delivered - len(dead), len(dead), dead)


def test_tokens_the_transport_reports_dead_are_deleted_with_the_delivery(world: World) -> None:
    world.register("dead-0", student=0)
    world.register("tok-1", student=1)
    world.notifier = _DeadTokenNotifier()
    notification = world.queue("one")

    world.deliver(notification)

    with world.uow().for_institution(world.college.id) as uow:
        left = [
            t.token
            for t in uow.push_tokens.for_students([s.id for s in world.college.students[:2]])
        ]
        sent = uow.outbox.find(notification.id)
    assert left == ["tok-1"]
    assert sent is not None
    assert (sent.delivered, sent.failed) == (1, 1)


def test_a_transport_outage_leaves_the_notification_undelivered(world: World) -> None:
    world.register("tok-0", student=0)
    notification = world.queue("one")
    world.notifier.unavailable = True

    with pytest.raises(UnavailableError):
        world.deliver(notification)

    assert world.pending() == [notification.id]
    world.notifier.unavailable = False
    world.deliver(notification)
    assert world.pending() == []


def test_another_institutions_notification_is_not_found(world: World) -> None:
    notification = world.queue("one")
    other = seed_small_college(world.uow(), institution_id="inst-b", domain="b.edu")

    with pytest.raises(NotFoundError):
        DeliverNotification(world.uow(), world.notifier, world.clock)(
            DeliverNotificationCommand(notification.id, other.id)
        )


def test_relay_and_delivery_together_deliver_everything_in_process(world: World) -> None:
    world.register("tok-0", student=0)
    notifications = [world.queue(key) for key in ("one", "two", "three")]

    def deliver(job: Job) -> None:
        DeliverNotification(world.uow(), world.notifier, world.clock)(
            DeliverNotificationCommand.of(job)
        )

    result = world.relay(InlineJobQueue({DELIVER_NOTIFICATION: deliver}))

    assert result == RelayOutboxResult(relayed=3, queue_unavailable=False)
    assert world.notifier.sent == notifications
    assert world.pending() == []
