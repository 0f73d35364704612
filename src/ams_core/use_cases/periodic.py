"""Periodic work: which jobs are due now, each keyed by its period, and the jobs themselves.

A scheduler (``ams scheduler``, or the API process without Redis) asks
:class:`PlanPeriodicJobs` every minute and queues what it answers. Each job carries the
idempotency key of its period — ``generate-week:<institution>:<ISO week>``,
``digest:<institution>:<ISO week>``, ``complete-overdue:<5-minute slot>``,
``expire-offers:<minute>``, ``clean-up:<date>`` — so the queue runs it once per period
however many schedulers ask, and however often.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ams_core.domain.calendar import IsoWeek
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import InstitutionId, NotificationId
from ams_core.domain.institution import Institution
from ams_core.domain.notifications import Notification, Recipient, RecipientKind
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.jobs import Job
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases.reports import ListDefaulters, ListDefaultersCommand

GENERATE_WEEK = "weeks.generate"
WEEKLY_DIGEST = "digests.weekly"
COMPLETE_OVERDUE = "sessions.complete-overdue"
EXPIRE_OFFERS = "cover.expire-offers"
CLEAN_UP = "maintenance.clean-up"
DIGEST_KIND = "attendance_digest"
#: the scheduler's own name in audit trails and digests
SCHEDULER = "system:scheduler"


@dataclass(frozen=True, slots=True)
class PeriodicSettings:
    """When each periodic job is due, in each institution's own time.

    Attributes:
        generate_weekday: ISO weekday (1 = Monday) from which next week is generated.
        generate_at: the local time on that day.
        digest_weekday: ISO weekday of the low-attendance digest.
        digest_at: the local time of the digest.
        complete_every_minutes: how often open sessions past their grace are completed.
        retention_days: data older than this is cleaned up daily (0: never).
    """

    generate_weekday: int = 5
    generate_at: time = time(18, 0)
    digest_weekday: int = 1
    digest_at: time = time(7, 0)
    complete_every_minutes: int = 5
    retention_days: int = 400

    def __post_init__(self) -> None:
        if not (1 <= self.generate_weekday <= 7 and 1 <= self.digest_weekday <= 7):
            raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
        if not 1 <= self.complete_every_minutes <= 60:
            raise ValueError("complete_every_minutes must be 1 to 60")
        if self.retention_days < 0:
            raise ValueError("retention_days must be 0 (never) or more")


def _past(local: datetime, weekday: int, at: time) -> bool:
    """Whether ``local`` is at or after ``weekday`` ``at`` of its own ISO week."""
    return (local.isoweekday(), local.time()) >= (weekday, at)


class PlanPeriodicJobs:
    """The periodic jobs due at the clock's now, each with its period's idempotency key."""

    def __init__(self, uow: UnitOfWork, clock: Clock, settings: PeriodicSettings) -> None:
        self._uow = uow
        self._clock = clock
        self._settings = settings

    def __call__(self) -> list[Job]:
        """Everything due now (a job already run this period is dropped by the queue)."""
        now, settings = self._clock.now(), self._settings
        slot_minutes = settings.complete_every_minutes
        slot = now.replace(second=0, microsecond=0, minute=now.minute - now.minute % slot_minutes)
        minute = now.replace(second=0, microsecond=0)
        jobs = [
            Job(COMPLETE_OVERDUE, {}, idempotency_key=f"complete-overdue:{slot:%Y%m%dT%H%M}"),
            Job(EXPIRE_OFFERS, {}, idempotency_key=f"expire-offers:{minute:%Y%m%dT%H%M}"),
        ]
        if settings.retention_days:
            jobs.append(
                Job(
                    CLEAN_UP,
                    {"days": settings.retention_days},
                    idempotency_key=f"clean-up:{now.date().isoformat()}",
                )
            )
        with self._uow.for_platform() as uow:
            institutions: Sequence[Institution] = uow.institutions.list()
        for institution in institutions:
            local = now.astimezone(institution.tz)
            this_week = IsoWeek.containing(local.date())
            if _past(local, settings.generate_weekday, settings.generate_at):
                week = str(IsoWeek.containing(local.date() + timedelta(days=7)))
                jobs.append(_institution_job(GENERATE_WEEK, "generate-week", institution, week))
            if _past(local, settings.digest_weekday, settings.digest_at):
                jobs.append(_institution_job(WEEKLY_DIGEST, "digest", institution, str(this_week)))
        return jobs


def _institution_job(name: str, key: str, institution: Institution, week: str) -> Job:
    return Job(
        name,
        {"institution_id": institution.id, "week": week},
        idempotency_key=f"{key}:{institution.id}:{week}",
    )


def scheduler_principal(institution_id: InstitutionId) -> Principal:
    """The scheduler acting in one institution, with an admin's rights."""
    return Principal(email=SCHEDULER, roles=frozenset({Role.ADMIN}), institution_id=institution_id)


@dataclass(frozen=True, slots=True)
class SendWeeklyDigestCommand:
    """Tell each student of one institution below the threshold where they stand."""

    institution_id: InstitutionId
    week: str


@dataclass(frozen=True, slots=True)
class SendWeeklyDigestResult:
    """How many students were told."""

    students: int


class SendWeeklyDigest:
    """The weekly low-attendance digest: one notification per student below the threshold,
    naming each subject with the classes still needed (or that it is out of reach).
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random
        self._defaulters = ListDefaulters(uow, clock)

    def __call__(self, command: SendWeeklyDigestCommand) -> SendWeeklyDigestResult:
        """Queue the digests (once per student and week: the key holds the week)."""
        actor = scheduler_principal(command.institution_id)
        result = self._defaulters(ListDefaultersCommand(actor))
        rows = result.rows
        by_student: dict[str, list[str]] = {}
        for row in rows:
            a = row.attendance
            need = (
                f"attend {a.need_to_attend} of the {a.remaining} left"
                if a.need_to_attend is not None
                else f"{result.threshold}% is out of reach this term"
            )
            by_student.setdefault(row.student_id, []).append(
                f"{a.subject_name} {a.percent}% ({need})"
            )
        now = self._clock.now()
        with self._uow.for_institution(command.institution_id) as uow:
            for student_id, lines in sorted(by_student.items()):
                uow.outbox.add(
                    Notification(
                        id=NotificationId(self._random.new_id()),
                        institution_id=command.institution_id,
                        kind=DIGEST_KIND,
                        title="Your attendance this week",
                        body="; ".join(lines),
                        recipients=(Recipient(RecipientKind.STUDENT, student_id),),
                        idempotency_key=f"{DIGEST_KIND}:{command.week}:{student_id}",
                        created_at=now,
                        data={"week": command.week},
                    )
                )
            uow.commit()
        return SendWeeklyDigestResult(len(by_student))


@dataclass(frozen=True, slots=True)
class CleanUpCommand:
    """Remove what is older than ``days``; ``dry_run`` only counts."""

    days: int
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class CleanUpResult:
    """What went (or would go), by kind, and the cut-off instant."""

    before: datetime
    delivered_notifications: int
    dry_run: bool


class CleanUp:
    """Delete delivered notifications older than the retention period. Undelivered ones,
    and everything of an institution's history (sessions, marks, the audit trail), stay.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: CleanUpCommand) -> CleanUpResult:
        """Clean up (or count, on a dry run)."""
        if command.days < 1:
            raise ValueError("keep at least one day")
        before = self._clock.now() - timedelta(days=command.days)
        with self._uow.for_platform() as uow:
            if command.dry_run:
                count = uow.outbox.count_delivered_before(before)
            else:
                count = uow.outbox.purge_delivered(before)
                uow.commit()
        return CleanUpResult(before, count, command.dry_run)
