"""Delivering the outbox: the relay hands notifications to the job queue, a job delivers one.

A notification is written to the outbox in the transaction that causes it (a broadcast, a
cancelled class, a code rotation). :class:`RelayOutbox` then hands each undelivered one to
the job queue as a ``notifications.deliver`` job carrying only ids; the job runs
:class:`DeliverNotification`, which finds the devices of the audience, hands the
notification to the notifier and records the outcome. Every step can be repeated: a job
that arrives twice, or a relay that hands a notification over again after a lost job,
delivers it once in effect (the outbox records one delivery; a repeat push carries the same
collapse id).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from ams_core.domain.accounts import PushToken
from ams_core.domain.errors import NotFoundError, UnavailableError
from ams_core.domain.ids import FacultyId, InstitutionId, NotificationId, SectionId, StudentId
from ams_core.domain.notifications import DeliveryReport, Notification, RecipientKind
from ams_core.ports.clock import Clock
from ams_core.ports.jobs import Job, JobQueue
from ams_core.ports.notifications import Notifier
from ams_core.ports.persistence import UnitOfWork

logger = logging.getLogger("ams.notifications")

#: the job that delivers one notification (payload: ``notification_id``, ``institution_id``)
DELIVER_NOTIFICATION = "notifications.deliver"
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
    """What became of the notification (``already_delivered``: nothing was sent again)."""

    audience: int
    report: DeliveryReport
    already_delivered: bool = False


class DeliverNotification:
    """Hand one notification to the notifier for every device of its audience.

    The audience is resolved when the notification is delivered (a section's students as
    they are then). The outcome — delivered and failed counts — is recorded with the
    notification, and tokens the transport reports dead are deleted, in one transaction.
    """

    def __init__(self, uow: UnitOfWork, notifier: Notifier, clock: Clock) -> None:
        self._uow = uow
        self._notifier = notifier
        self._clock = clock

    def __call__(self, command: DeliverNotificationCommand) -> DeliverNotificationResult:
        """Deliver the notification unless it was delivered already.

        Raises:
            NotFoundError: no such notification in that institution (purged, or a wrong id).
            UnavailableError: the transport is down; the notification stays undelivered.
        """
        with self._uow.for_institution(command.institution_id) as uow:
            sent = uow.outbox.find(command.notification_id)
            if sent is None:
                raise NotFoundError("notification", command.notification_id)
            if sent.delivered_at is not None:
                report = DeliveryReport(sent.delivered, sent.failed)
                return DeliverNotificationResult(0, report, already_delivered=True)
            audience, devices = _audience(uow, sent.notification)
        report = self._notifier.send(sent.notification, devices)
        with self._uow.for_institution(command.institution_id) as uow:
            current = uow.outbox.find(command.notification_id)
            if current is not None and current.delivered_at is None:
                uow.outbox.mark_delivered(command.notification_id, self._clock.now(), report)
            for token in report.dead_tokens:
                uow.push_tokens.remove(token)
            uow.commit()
        logger.info(
            "delivered notification %s (%s) to %d of %d device(s), %d failed, %d token(s) "
            "removed; audience %d",
            command.notification_id,
            sent.notification.kind,
            report.delivered,
            len(devices),
            report.failed,
            len(report.dead_tokens),
            audience,
        )
        return DeliverNotificationResult(audience, report)


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
