"""Delivering the outbox: the relay hands notifications to the job queue, a job delivers one.

A notification is written to the outbox in the transaction that causes it (a broadcast, a
cancelled class, a code rotation). :class:`RelayOutbox` then hands each undelivered one to
the job queue as a ``notifications.deliver`` job carrying only ids; the job runs
:class:`DeliverNotification`, which finds the devices of the audience, hands the
notification to the notifier and records the outcome. Every step can be repeated: a job
that arrives twice, or a relay that hands a notification over again after a lost job,
delivers it once in effect (the outbox records one delivery; a repeat push carries the same
collapse id).

A large audience goes out in parts when the delivery has a :class:`FanOut`: the job splits
the notification and queues one ``notifications.deliver-part`` job per part, so several
worker processes push it at once; each part records its outcome, and the last one marks
the notification delivered.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from ams_core.domain.accounts import PushToken
from ams_core.domain.errors import NotFoundError, UnavailableError
from ams_core.domain.ids import FacultyId, InstitutionId, NotificationId, SectionId, StudentId
from ams_core.domain.notifications import DeliveryReport, Notification, RecipientKind
from ams_core.ports.clock import Clock
from ams_core.ports.jobs import Job, JobQueue
from ams_core.ports.notifications import Notifier
from ams_core.ports.persistence import MAX_PARTS, SentNotification, UnitOfWork

logger = logging.getLogger("ams.notifications")

#: the job that delivers one notification (payload: ``notification_id``, ``institution_id``)
DELIVER_NOTIFICATION = "notifications.deliver"
#: the job that delivers one part of a split notification (payload: ``notification_id``,
#: ``institution_id``, ``part``, ``parts``)
DELIVER_NOTIFICATION_PART = "notifications.deliver-part"
#: devices per part when a :class:`FanOut` splits a notification
DEFAULT_PART_SIZE = 2_000
#: how long a relayed notification waits for its job before the relay hands it over again
DEFAULT_REDELIVER_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class RelayOutboxCommand:
    """Hand up to ``limit`` due notifications to the job queue."""

    limit: int = 500


@dataclass(frozen=True, slots=True)
class RelayOutboxResult:
    """How many notifications were handed over, and whether the queue was unreachable."""

    relayed: int
    queue_unavailable: bool


class RelayOutbox:
    """The outbox relay: undelivered notifications, oldest first, become delivery jobs.

    A notification handed over is not handed over again for ``redeliver_after`` (its job
    may still be waiting or retrying); after that it is due again, so a job lost with a
    broker is replaced. An unreachable queue stops the run: what was not handed over stays
    due and goes with a later run.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        jobs: JobQueue,
        clock: Clock,
        redeliver_after: timedelta = DEFAULT_REDELIVER_AFTER,
    ) -> None:
        self._uow = uow
        self._jobs = jobs
        self._clock = clock
        self._redeliver_after = redeliver_after

    def __call__(self, command: RelayOutboxCommand | None = None) -> RelayOutboxResult:
        """Run one relay pass."""
        limit = (command or RelayOutboxCommand()).limit
        now = self._clock.now()
        with self._uow.for_platform() as uow:
            due = list(uow.outbox.due_for_relay(now - self._redeliver_after, limit))
        relayed: list[NotificationId] = []
        unavailable = False
        for notification in due:
            try:
                self._jobs.enqueue(delivery_job(notification))
            except UnavailableError as error:
                logger.warning("outbox relay paused: %s", error)
                unavailable = True
                break
            relayed.append(notification.id)
        if relayed:
            with self._uow.for_platform() as uow:
                uow.outbox.mark_relayed(relayed, now)
                uow.commit()
        return RelayOutboxResult(len(relayed), unavailable)


def delivery_job(notification: Notification) -> Job:
    """The job delivering ``notification``: ids only, never the entity."""
    return Job(
        DELIVER_NOTIFICATION,
        {"notification_id": notification.id, "institution_id": notification.institution_id},
    )


@dataclass(frozen=True, slots=True)
class DeliverNotificationCommand:
    """Deliver one notification of one institution."""

    notification_id: NotificationId
    institution_id: InstitutionId

    @classmethod
    def of(cls, job: Job) -> DeliverNotificationCommand:
        """The command a ``notifications.deliver`` job carries."""
        return cls(
            NotificationId(str(job.payload["notification_id"])),
            InstitutionId(str(job.payload["institution_id"])),
        )


@dataclass(frozen=True, slots=True)
class DeliverNotificationResult:
    """What became of the notification (``already_delivered``: nothing was sent again).

    ``parts``: the notification was split and one job per part queued; ``report`` is then
    empty, each part records its own outcome.
    """

    audience: int
    report: DeliveryReport
    already_delivered: bool = False
    parts: int = 0


@dataclass(frozen=True, slots=True)
class FanOut:
    """Split notifications for more than ``part_size`` devices into parts, one job each on
    ``jobs``, so that several worker processes push one large audience together.

    Each device belongs to one part (by a hash of its token), so repeats of a part reach
    the same devices; at most :data:`~ams_core.ports.MAX_PARTS` parts.
    """

    jobs: JobQueue
    part_size: int = DEFAULT_PART_SIZE

    def __post_init__(self) -> None:
        if self.part_size < 1:
            raise ValueError(f"part_size must be at least 1, got {self.part_size}")

    def parts_for(self, devices: int) -> int:
        """How many parts ``devices`` distinct devices go out in (1: not split)."""
        return min(-(-devices // self.part_size), MAX_PARTS)


def part_of(token: str, parts: int) -> int:
    """The part (``0 .. parts - 1``) a device's push token belongs to; stable everywhere."""
    return zlib.crc32(token.encode()) % parts


def part_notification(notification: Notification, part: int, parts: int) -> Notification:
    """``notification`` as one part hands it to the notifier: its own idempotency key, so
    the notifier tells a repeat of the part from the other parts.
    """
    key = f"{notification.idempotency_key}#{part + 1}/{parts}"
    return replace(notification, idempotency_key=key)


class DeliverNotification:
    """Hand one notification to the notifier for every device of its audience.

    The audience is resolved when the notification is delivered (a section's students as
    they are then). The outcome — delivered and failed counts — is recorded with the
    notification, and tokens the transport reports dead are deleted, in one transaction.
    With a :class:`FanOut`, an audience of more devices than its part size is split
    instead: one :data:`DELIVER_NOTIFICATION_PART` job per part not yet delivered.
    """

    def __init__(
        self, uow: UnitOfWork, notifier: Notifier, clock: Clock, fan_out: FanOut | None = None
    ) -> None:
        self._uow = uow
        self._notifier = notifier
        self._clock = clock
        self._fan_out = fan_out

    def __call__(self, command: DeliverNotificationCommand) -> DeliverNotificationResult:
        """Deliver the notification (or queue its parts) unless it was delivered already.

        Raises:
            NotFoundError: no such notification in that institution (purged, or a wrong id).
            UnavailableError: the transport (or, to queue parts, the job queue) is down;
                the notification stays undelivered.
        """
        with self._uow.for_institution(command.institution_id) as uow:
            sent = uow.outbox.find(command.notification_id)
            if sent is None:
                raise NotFoundError("notification", command.notification_id)
            if sent.delivered_at is not None:
                report = DeliveryReport(sent.delivered, sent.failed)
                return DeliverNotificationResult(0, report, already_delivered=True)
            audience, devices = _audience(uow, sent.notification)
            parts = self._parts(uow, sent, devices)
            if parts:
                uow.commit()
        if parts:
            return self._queue_parts(command, sent, audience, parts)
        report = self._notifier.send(sent.notification, devices)
        with self._uow.for_institution(command.institution_id) as uow:
            current = uow.outbox.find(command.notification_id)
            if current is not None and current.delivered_at is None:
                uow.outbox.mark_delivered(command.notification_id, self._clock.now(), report)
            for token in report.dead_tokens:
                uow.push_tokens.remove(token)
            uow.commit()
        _log_delivery(sent.notification, report, len(devices), audience)
        return DeliverNotificationResult(audience, report)

    def _parts(self, uow: UnitOfWork, sent: SentNotification, devices: Sequence[PushToken]) -> int:
        """The parts to deliver ``sent`` in (0: whole); splits it in ``uow`` if needed."""
        if sent.parts is not None:
            return sent.parts
        if self._fan_out is None:
            return 0
        wanted = self._fan_out.parts_for(len({device.token for device in devices}))
        if wanted < 2:
            return 0
        return uow.outbox.split(sent.notification.id, wanted)

    def _queue_parts(
        self,
        command: DeliverNotificationCommand,
        sent: SentNotification,
        audience: int,
        parts: int,
    ) -> DeliverNotificationResult:
        pending = [
            DeliverNotificationPartCommand.of_part(command, part, parts)
            for part in range(parts)
            if part not in sent.parts_done
        ]
        if self._fan_out is None:
            # split by a worker with a fan-out; without a queue, deliver the parts here
            part_delivery = DeliverNotificationPart(self._uow, self._notifier, self._clock)
            for part_command in pending:
                part_delivery(part_command)
            return DeliverNotificationResult(audience, DeliveryReport(0), parts=parts)
        for part_command in pending:
            self._fan_out.jobs.enqueue(part_command.job())
        logger.info(
            "notification %s (%s) for %d people goes out in %d parts",
            sent.notification.id,
            sent.notification.kind,
            audience,
            parts,
        )
        return DeliverNotificationResult(audience, DeliveryReport(0), parts=parts)


@dataclass(frozen=True, slots=True)
class DeliverNotificationPartCommand:
    """Deliver part ``part`` (``0 .. parts - 1``) of a split notification."""

    notification_id: NotificationId
    institution_id: InstitutionId
    part: int
    parts: int

    @classmethod
    def of_part(
        cls, command: DeliverNotificationCommand, part: int, parts: int
    ) -> DeliverNotificationPartCommand:
        """Part ``part`` of the notification ``command`` delivers."""
        return cls(command.notification_id, command.institution_id, part, parts)

    @classmethod
    def of(cls, job: Job) -> DeliverNotificationPartCommand:
        """The command a ``notifications.deliver-part`` job carries."""
        part, parts = job.payload["part"], job.payload["parts"]
        if not isinstance(part, int) or not isinstance(parts, int) or not 0 <= part < parts:
            raise ValueError(f"not a part of a notification: {dict(job.payload)}")
        return cls(
            NotificationId(str(job.payload["notification_id"])),
            InstitutionId(str(job.payload["institution_id"])),
            part,
            parts,
        )

    def job(self) -> Job:
        """The job carrying this command: ids and numbers only."""
        return Job(
            DELIVER_NOTIFICATION_PART,
            {
                "notification_id": self.notification_id,
                "institution_id": self.institution_id,
                "part": self.part,
                "parts": self.parts,
            },
        )


@dataclass(frozen=True, slots=True)
class DeliverNotificationPartResult:
    """What one part did (``already_delivered``: the part, or the notification, was done)."""

    devices: int
    report: DeliveryReport
    already_delivered: bool = False
    completed: bool = False


class DeliverNotificationPart:
    """Hand one part of a split notification to the notifier: the devices of the audience
    whose token falls in the part. Its outcome is added to the notification, dead tokens are
    deleted, in one transaction; the last part marks the notification delivered.
    """

    def __init__(self, uow: UnitOfWork, notifier: Notifier, clock: Clock) -> None:
        self._uow = uow
        self._notifier = notifier
        self._clock = clock

    def __call__(self, command: DeliverNotificationPartCommand) -> DeliverNotificationPartResult:
        """Deliver the part unless it (or the whole notification) was delivered already.

        Raises:
            NotFoundError: no such notification in that institution.
            UnavailableError: the transport is down; the part stays undelivered.
        """
        with self._uow.for_institution(command.institution_id) as uow:
            sent = uow.outbox.find(command.notification_id)
            if sent is None:
                raise NotFoundError("notification", command.notification_id)
            if sent.delivered_at is not None or command.part in sent.parts_done:
                return DeliverNotificationPartResult(0, DeliveryReport(0), already_delivered=True)
            audience, everyone = _audience(uow, sent.notification)
        devices = [d for d in everyone if part_of(d.token, command.parts) == command.part]
        notification = part_notification(sent.notification, command.part, command.parts)
        report = self._notifier.send(notification, devices) if devices else DeliveryReport(0)
        with self._uow.for_institution(command.institution_id) as uow:
            now = self._clock.now()
            recorded = uow.outbox.record_part(command.notification_id, command.part, now, report)
            for token in report.dead_tokens:
                uow.push_tokens.remove(token)
            after = uow.outbox.find(command.notification_id) if recorded else None
            uow.commit()
        completed = after is not None and after.delivered_at is not None
        logger.info(
            "notification %s (%s), part %d of %d: %d of %d device(s), %d failed, %d token(s) "
            "removed%s",
            command.notification_id,
            sent.notification.kind,
            command.part + 1,
            command.parts,
            report.delivered,
            len(devices),
            report.failed,
            len(report.dead_tokens),
            f"; all parts done, audience {audience}" if completed else "",
        )
        return DeliverNotificationPartResult(
            len(devices), report, already_delivered=not recorded, completed=completed
        )


def _log_delivery(
    notification: Notification, report: DeliveryReport, devices: int, audience: int
) -> None:
    logger.info(
        "delivered notification %s (%s) to %d of %d device(s), %d failed, %d token(s) "
        "removed; audience %d",
        notification.id,
        notification.kind,
        report.delivered,
        devices,
        report.failed,
        len(report.dead_tokens),
        audience,
    )


def _audience(uow: UnitOfWork, notification: Notification) -> tuple[int, Sequence[PushToken]]:
    """How many people the notification addresses, and their registered devices."""
    students: set[StudentId] = set()
    faculty: set[FacultyId] = set()
    for recipient in notification.recipients:
        if recipient.kind is RecipientKind.SECTION:
            students |= uow.students.ids_in_section(SectionId(recipient.id))
        elif recipient.kind is RecipientKind.STUDENT:
            students.add(StudentId(recipient.id))
        else:
            faculty.add(FacultyId(recipient.id))
    devices: list[PushToken] = []
    if students:
        devices += uow.push_tokens.for_students(sorted(students))
    if faculty:
        devices += uow.push_tokens.for_faculty(sorted(faculty))
    return len(students) + len(faculty), devices


@dataclass(frozen=True, slots=True)
class DeliverNotificationsCommand:
    """Deliver up to ``limit`` pending notifications."""

    limit: int = 100


@dataclass(frozen=True, slots=True)
class DeliverNotificationsResult:
    """How many notifications were handed over, and whether the transport was down."""

    delivered: int
    transport_unavailable: bool


class DeliverNotifications:
    """Deliver pending notifications in this thread, oldest first, without a job queue
    (a library user's loop, a test). A transport outage stops the run and leaves the rest
    pending.
    """

    def __init__(self, uow: UnitOfWork, notifier: Notifier, clock: Clock) -> None:
        self._uow = uow
        self._deliver = DeliverNotification(uow, notifier, clock)

    def __call__(self, command: DeliverNotificationsCommand) -> DeliverNotificationsResult:
        """Run one delivery pass."""
        with self._uow.for_platform() as uow:
            pending = list(uow.outbox.pending(command.limit))
        delivered = 0
        for notification in pending:
            try:
                self._deliver(
                    DeliverNotificationCommand(notification.id, notification.institution_id)
                )
            except UnavailableError:
                return DeliverNotificationsResult(delivered, transport_unavailable=True)
            delivered += 1
        return DeliverNotificationsResult(delivered, transport_unavailable=False)
