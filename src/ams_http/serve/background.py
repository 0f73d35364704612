"""Background work: the outbox relay and the jobs it hands out.

Without ``AMS_REDIS_URL`` (the embedded default, ``ams demo``) each API process runs the
relay in a thread and the jobs in that thread too (:func:`in_process_queue`). With it,
``ams worker`` runs the relay and dramatiq's workers (:func:`dramatiq_jobs`), which share a
large notification in parts; the API processes only write the outbox. Either way the core's
use cases do the work: :class:`~ams_core.use_cases.RelayOutbox`,
:class:`~ams_core.use_cases.DeliverNotification` and its parts, one dishka request scope per
job.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import tempfile
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

from dishka import Container

from ams_adapters.memory import InlineJobQueue
from ams_adapters.settings import BackgroundSettings
from ams_core.domain import AmsError, FieldProblem, InstitutionId, UnavailableError, ValidationError
from ams_core.ports import Clock, Job, JobHandler, JobQueue, Notifier, RandomSource, UnitOfWork
from ams_core.use_cases import (
    CLEAN_UP,
    COMPLETE_OVERDUE,
    DELIVER_NOTIFICATION,
    DELIVER_NOTIFICATION_PART,
    EXPIRE_OFFERS,
    GENERATE_WEEK,
    WEEKLY_DIGEST,
    CleanUp,
    CleanUpCommand,
    CompleteOverdueSessions,
    CompleteOverdueSessionsCommand,
    DeliverNotification,
    DeliverNotificationCommand,
    DeliverNotificationPart,
    DeliverNotificationPartCommand,
    ExpireCoverOffers,
    ExpireCoverOffersCommand,
    FanOut,
    GenerateWeek,
    GenerateWeekCommand,
    PeriodicSettings,
    PlanPeriodicJobs,
    RelayOutbox,
    RelayOutboxResult,
    SendWeeklyDigest,
    SendWeeklyDigestCommand,
    scheduler_principal,
)

if TYPE_CHECKING:
    from dramatiq.brokers.redis import RedisBroker

    from ams_adapters.dramatiq import DramatiqJobQueue, QueueSettings

logger = logging.getLogger("ams.background")

#: the longest pause between relay passes while the queue or the transport is down
MAX_BACKOFF_SECONDS = 30.0


def job_handlers(container: Container, fan_out: FanOut | None = None) -> dict[str, JobHandler]:
    """The handler of every job name, each opening a request scope of ``container``.

    With ``fan_out``, a notification for many devices is split into part jobs on its queue.
    """

    def deliver(job: Job) -> None:
        with container() as request:
            uow, notifier, clock = (
                request.get(UnitOfWork),
                request.get(Notifier),
                request.get(Clock),
            )
            DeliverNotification(uow, notifier, clock, fan_out)(DeliverNotificationCommand.of(job))

    def deliver_part(job: Job) -> None:
        with container() as request:
            uow, notifier, clock = (
                request.get(UnitOfWork),
                request.get(Notifier),
                request.get(Clock),
            )
            DeliverNotificationPart(uow, notifier, clock)(DeliverNotificationPartCommand.of(job))

    def generate_week(job: Job) -> None:
        institution_id = InstitutionId(str(job.payload["institution_id"]))
        actor = scheduler_principal(institution_id)
        command = GenerateWeekCommand.for_week(actor, str(job.payload["week"]), institution_id)
        with container() as request:
            result = request.get(GenerateWeek)(command)
        logger.info("generated week %s of %s: %s", job.payload["week"], institution_id, result)

    def weekly_digest(job: Job) -> None:
        institution_id = InstitutionId(str(job.payload["institution_id"]))
        command = SendWeeklyDigestCommand(institution_id, str(job.payload["week"]))
        with container() as request:
            uow, clock = request.get(UnitOfWork), request.get(Clock)
            result = SendWeeklyDigest(uow, clock, request.get(RandomSource))(command)
        logger.info("weekly digest of %s: %d student(s) told", institution_id, result.students)

    def complete_overdue(job: Job) -> None:
        with container() as request:
            use_case = CompleteOverdueSessions(request.get(UnitOfWork), request.get(Clock))
            result = use_case(CompleteOverdueSessionsCommand())
        if result.completed:
            logger.info("completed %d session(s) left open", result.completed)

    def expire_offers(job: Job) -> None:
        with container() as request:
            use_case = ExpireCoverOffers(
                request.get(UnitOfWork), request.get(Clock), request.get(RandomSource)
            )
            result = use_case(ExpireCoverOffersCommand())
        if result.expired:
            logger.info(
                "expired %d cover offer(s): %d offered to the next candidate, %d escalated",
                result.expired,
                result.offered_next,
                result.escalated,
            )

    def clean_up(job: Job) -> None:
        days = job.payload["days"]
        if not isinstance(days, int):
            raise ValidationError([FieldProblem("days", "must be a whole number of days")])
        with container() as request:
            result = CleanUp(request.get(UnitOfWork), request.get(Clock))(CleanUpCommand(days))
        logger.info("clean-up: %s", result)

    return {
        DELIVER_NOTIFICATION: deliver,
        DELIVER_NOTIFICATION_PART: deliver_part,
        GENERATE_WEEK: generate_week,
        WEEKLY_DIGEST: weekly_digest,
        COMPLETE_OVERDUE: complete_overdue,
        EXPIRE_OFFERS: expire_offers,
        CLEAN_UP: clean_up,
    }


class _QueueNamedLater(JobQueue):
    """The queue that part jobs go to, known only once the queue (built from the handlers
    that enqueue them) exists."""

    def __init__(self) -> None:
        self._target: JobQueue | None = None

    def bind(self, target: JobQueue) -> None:
        self._target = target

    def enqueue(self, job: Job) -> None:
        if self._target is None:
            raise RuntimeError("the job queue was not bound")
        self._target.enqueue(job)


def dramatiq_jobs(
    container: Container,
    broker: RedisBroker,
    options: QueueSettings,
    settings: BackgroundSettings,
) -> DramatiqJobQueue:
    """The job queue of `ams worker` and `ams scheduler`: every job of :func:`job_handlers`
    on dramatiq, a large notification split into parts of ``settings.push_part_size``
    devices that every worker process takes one at a time (the spread queue). The
    idempotency keys share the broker's Redis client."""
    from ams_adapters.dramatiq import DramatiqJobQueue

    later = _QueueNamedLater()
    handlers = job_handlers(container, FanOut(later, settings.push_part_size))
    jobs = DramatiqJobQueue(
        broker, broker.client, handlers, options, spread={DELIVER_NOTIFICATION_PART}
    )
    later.bind(jobs)
    return jobs


class PeriodicScheduler:
    """APScheduler asking :class:`PlanPeriodicJobs` every minute and queueing the answer.

    Each job carries its period's idempotency key, so two schedulers (two processes, or a
    restart within the period) queue it once between them.
    """

    def __init__(
        self, container: Container, jobs: JobQueue, settings: PeriodicSettings | None = None
    ) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self._container = container
        self._jobs = jobs
        self._settings = settings or PeriodicSettings()
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.tick,
            "cron",
            second=0,
            id="ams-periodic-plan",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=50,
        )

    def tick(self) -> int:
        """Queue every periodic job due now; returns how many were handed to the queue."""
        with self._container() as request:
            plan = PlanPeriodicJobs(request.get(UnitOfWork), request.get(Clock), self._settings)
            due = plan()
        queued = 0
        for job in due:
            try:
                self._jobs.enqueue(job)
            except UnavailableError as error:
                logger.warning("periodic jobs not queued, the queue is down: %s", error)
                break
            queued += 1
        return queued

    def start(self) -> None:
        """Start ticking in a background thread (one tick now, then every minute)."""
        self._scheduler.start()
        threading.Thread(target=self._first_tick, daemon=True).start()

    def _first_tick(self) -> None:
        try:
            self.tick()
        except Exception:
            logger.exception("the first periodic tick failed")

    def stop(self) -> None:
        """Stop ticking (a tick in progress ends first)."""
        self._scheduler.shutdown(wait=True)


def in_process_queue(handlers: Mapping[str, JobHandler]) -> JobQueue:
    """Jobs run at once in the relay's thread. A transport outage (``UnavailableError``)
    reaches the relay, which keeps the notification and pauses; any other failure is logged
    and the notification is handed over again after the redelivery time.
    """

    def guarded(handler: JobHandler) -> JobHandler:
        def run(job: Job) -> None:
            try:
                handler(job)
            except UnavailableError:
                raise
            except AmsError as error:  # permanent: retrying cannot help
                logger.warning("job %s %s refused: %s", job.name, dict(job.payload), error)
            except Exception:
                logger.exception("job %s %s failed; it will be retried", job.name, job.payload)

        return run

    return InlineJobQueue({name: guarded(h) for name, h in handlers.items()})


class OutboxRelayLoop:
    """Runs :class:`RelayOutbox` every ``interval`` in a daemon thread until stopped, backing
    off (up to :data:`MAX_BACKOFF_SECONDS`) while the queue or the transport is down."""

    def __init__(
        self,
        container: Container,
        jobs: JobQueue,
        settings: BackgroundSettings,
        *,
        name: str = "ams-outbox-relay",
    ) -> None:
        self._container = container
        self._jobs = jobs
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start relaying in the background."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to stop and wait for the pass in progress to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def relay_once(self) -> RelayOutboxResult:
        """One relay pass (the loop's body)."""
        redeliver_after = timedelta(seconds=self._settings.redeliver_after_seconds)
        with self._container() as request:
            relay = RelayOutbox(
                request.get(UnitOfWork), self._jobs, request.get(Clock), redeliver_after
            )
            return relay()

    def _run(self) -> None:
        interval = self._settings.relay_interval_seconds
        pause = interval
        while not self._stop.is_set():
            try:
                result = self.relay_once()
            except Exception:
                logger.exception("outbox relay pass failed; retrying in %.1f s", pause)
                result = RelayOutboxResult(0, queue_unavailable=True)
            if result.queue_unavailable:
                pause = min(max(pause * 2, interval), MAX_BACKOFF_SECONDS)
            else:
                pause = interval
            self._stop.wait(pause)


def _claim_background(database_url: str) -> IO[bytes] | None:
    """An exclusive lock per database on this machine: of the API processes serving one
    database (``ams serve``'s workers), one runs the background work. ``None``: another
    process holds it. The lock lasts as long as the returned file stays open."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"ams-background-{digest}.lock"
    handle = path.open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def start_in_process(
    make_container: Callable[[], Container], settings: BackgroundSettings, database_url: str
) -> Callable[[], None]:
    """Start the relay and the periodic jobs in this process, unless another process serving
    the same database runs them already; returns the function that stops them."""
    lock = _claim_background(database_url)
    if lock is None:
        logger.info("background work runs in another process of this server")
        return lambda: None
    container = make_container()
    jobs = in_process_queue(job_handlers(container))
    loop = OutboxRelayLoop(container, jobs, settings)
    scheduler = PeriodicScheduler(container, jobs)
    loop.start()
    scheduler.start()

    def stop() -> None:
        scheduler.stop()
        loop.stop()
        container.close()
        lock.close()

    return stop
