"""The outbox relay hands notifications to the job queue; a job delivers one to its audience."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    InstitutionId,
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
    DELIVER_NOTIFICATION_PART,
    DeliverNotification,
    DeliverNotificationCommand,
    DeliverNotificationPart,
    DeliverNotificationPartCommand,
    FanOut,
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


# -- large audiences: delivered in parts by several workers -----------------------------------


def _register_many(world: World, count: int, prefix: str = "tok") -> set[str]:
    tokens = {f"{prefix}-{n:03d}" for n in range(count)}
    for n, token in enumerate(sorted(tokens)):
        world.register(token, student=n % 2)  # both students are in section A
    return tokens


def _fan_out_queue(world: World, part_size: int, notifier: RecordingNotifier) -> InlineJobQueue:
    """Jobs run at once, the part jobs by the same use cases a worker runs."""

    def deliver(job: Job) -> None:
        fan_out = FanOut(queue, part_size)
        DeliverNotification(world.uow(), notifier, world.clock, fan_out)(
            DeliverNotificationCommand.of(job)
        )

    def deliver_part(job: Job) -> None:
        DeliverNotificationPart(world.uow(), notifier, world.clock)(
            DeliverNotificationPartCommand.of(job)
        )

    queue = InlineJobQueue({DELIVER_NOTIFICATION: deliver, DELIVER_NOTIFICATION_PART: deliver_part})
    return queue


def test_a_large_audience_is_split_into_part_jobs_that_together_reach_every_device_once(
    world: World,
) -> None:
    tokens = _register_many(world, 25)
    notification = world.queue("big")
    jobs = RecordingJobQueue()
    command = DeliverNotificationCommand(notification.id, notification.institution_id)

    result = DeliverNotification(world.uow(), world.notifier, world.clock, FanOut(jobs, 10))(
        command
    )

    assert result.parts == 3
    assert [j.name for j in jobs.jobs] == [DELIVER_NOTIFICATION_PART] * 3
    assert [(j.payload["part"], j.payload["parts"]) for j in jobs.jobs] == [(0, 3), (1, 3), (2, 3)]
    assert world.notifier.deliveries == []
    assert world.pending() == [notification.id]
    for job in jobs.jobs:
        DeliverNotificationPart(world.uow(), world.notifier, world.clock)(
            DeliverNotificationPartCommand.of(job)
        )
    reached = [token for _, sent in world.notifier.deliveries for token in sent]
    assert sorted(reached) == sorted(tokens)
    assert {n.idempotency_key for n, _ in world.notifier.deliveries} == {
        "big#1/3",
        "big#2/3",
        "big#3/3",
    }
    with world.uow().for_institution(world.college.id) as uow:
        sent = uow.outbox.find(notification.id)
    assert sent is not None
    assert (sent.delivered_at, sent.delivered, sent.failed) == (world.clock.now(), 25, 0)
    assert world.pending() == []


def test_a_small_audience_goes_out_whole_even_with_a_fan_out(world: World) -> None:
    _register_many(world, 10)
    notification = world.queue("small")
    jobs = RecordingJobQueue()
    command = DeliverNotificationCommand(notification.id, notification.institution_id)

    result = DeliverNotification(world.uow(), world.notifier, world.clock, FanOut(jobs, 10))(
        command
    )

    assert (result.parts, result.report.delivered, jobs.jobs) == (0, 10, [])
    assert world.pending() == []


def test_a_repeated_part_is_sent_and_counted_once_and_a_repeated_split_queues_only_the_rest(
    world: World,
) -> None:
    _register_many(world, 30)
    notification = world.queue("big")
    jobs = RecordingJobQueue()
    deliver = DeliverNotification(world.uow(), world.notifier, world.clock, FanOut(jobs, 10))
    command = DeliverNotificationCommand(notification.id, notification.institution_id)
    deliver(command)
    part = DeliverNotificationPart(world.uow(), world.notifier, world.clock)
    first = DeliverNotificationPartCommand.of(jobs.jobs[0])

    assert not part(first).already_delivered
    assert part(first).already_delivered
    jobs.jobs.clear()
    deliver(command)  # the relay handed the notification over again

    assert [j.payload["part"] for j in jobs.jobs] == [1, 2]
    for job in jobs.jobs:
        part(DeliverNotificationPartCommand.of(job))
    with world.uow().for_institution(world.college.id) as uow:
        sent = uow.outbox.find(notification.id)
    assert sent is not None
    assert (sent.delivered, sent.parts_done) == (30, frozenset({0, 1, 2}))
    assert len(world.notifier.deliveries) == 3


def test_dead_tokens_of_a_part_are_deleted_and_counted_as_failed(world: World) -> None:
    tokens = _register_many(world, 12) | _register_many(world, 3, prefix="dead")
    notification = world.queue("big")
    notifier = _DeadTokenNotifier()

    world.relay(_fan_out_queue(world, 5, notifier))

    with world.uow().for_institution(world.college.id) as uow:
        left = {t.token for t in uow.push_tokens.for_students([world.college.students[0].id])}
        left |= {t.token for t in uow.push_tokens.for_students([world.college.students[1].id])}
        sent = uow.outbox.find(notification.id)
    assert left == {t for t in tokens if not t.startswith("dead")}
    assert sent is not None
    assert (sent.delivered, sent.failed) == (12, 3)
    assert sent.delivered_at is not None


def test_a_transport_outage_in_one_part_leaves_the_notification_pending_until_it_is_delivered(
    world: World,
) -> None:
    _register_many(world, 20)
    notification = world.queue("big")
    jobs = RecordingJobQueue()
    DeliverNotification(world.uow(), world.notifier, world.clock, FanOut(jobs, 10))(
        DeliverNotificationCommand(notification.id, notification.institution_id)
    )
    part = DeliverNotificationPart(world.uow(), world.notifier, world.clock)
    first, second = (DeliverNotificationPartCommand.of(j) for j in jobs.jobs)
    part(first)
    world.notifier.unavailable = True

    with pytest.raises(UnavailableError):
        part(second)

    assert world.pending() == [notification.id]
    world.notifier.unavailable = False
    assert part(second).completed
    assert world.pending() == []


def test_a_split_notification_is_delivered_part_by_part_without_a_queue(world: World) -> None:
    tokens = _register_many(world, 20)
    notification = world.queue("big")
    command = DeliverNotificationCommand(notification.id, notification.institution_id)
    DeliverNotification(world.uow(), world.notifier, world.clock, FanOut(RecordingJobQueue(), 10))(
        command
    )

    result = DeliverNotification(world.uow(), world.notifier, world.clock)(command)

    assert result.parts == 2
    assert sorted(t for _, sent in world.notifier.deliveries for t in sent) == sorted(tokens)
    assert world.pending() == []


@settings(max_examples=40, deadline=None)
@given(devices=st.integers(0, 60), part_size=st.integers(1, 25))
def test_any_audience_and_part_size_reach_every_device_exactly_once(
    devices: int, part_size: int
) -> None:
    world = World()
    tokens = _register_many(world, devices)
    notification = world.queue("any")
    notifier = RecordingNotifier()

    world.relay(_fan_out_queue(world, part_size, notifier))

    reached = [t for _, sent in notifier.deliveries for t in sent]
    assert sorted(reached) == sorted(tokens)
    with world.uow().for_platform() as uow:
        sent = uow.outbox.find(notification.id)
    assert sent is not None
    assert sent.delivered_at is not None
    assert sent.delivered == devices
    expected_parts = min(-(-devices // part_size), 62)
    assert sent.parts == (expected_parts if expected_parts >= 2 else None)


def test_part_commands_refuse_a_part_outside_the_split() -> None:
    job = DeliverNotificationPartCommand(NotificationId("N-1"), InstitutionId("inst"), 3, 3).job()

    with pytest.raises(ValueError, match="not a part"):
        DeliverNotificationPartCommand.of(job)
    with pytest.raises(ValueError, match="part_size"):
        FanOut(RecordingJobQueue(), 0)
