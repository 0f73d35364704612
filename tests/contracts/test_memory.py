"""The memory adapter against every contract of ``ams_core.testing.contracts``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from ams_adapters.memory import (
    FixedClock,
    InlineJobQueue,
    InMemoryUnitOfWork,
    LoggingNotifier,
    MemoryStore,
    RecordingJobQueue,
    RecordingNotifier,
    SeededRandomSource,
    SystemClock,
    SystemRandomSource,
)
from ams_core.domain import NotificationId
from ams_core.ports import Clock, Job, JobQueue, Notifier, RandomSource
from ams_core.testing.contracts import (
    ClockContract,
    DeliveredIds,
    JobQueueContract,
    NotifierContract,
    RandomSourceContract,
    RanJobs,
    UnitOfWorkContract,
    UnitOfWorkFactory,
)


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        store = MemoryStore()
        return lambda: InMemoryUnitOfWork(store)


class TestRecordingNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self) -> RecordingNotifier:
        return RecordingNotifier()

    @pytest.fixture
    def delivered_ids(self, notifier: RecordingNotifier) -> DeliveredIds:
        return lambda: [n.id for n in notifier.sent]

    def make_unavailable(self, notifier: Notifier) -> None:
        assert isinstance(notifier, RecordingNotifier)
        notifier.unavailable = True

    def make_available(self, notifier: Notifier) -> None:
        assert isinstance(notifier, RecordingNotifier)
        notifier.unavailable = False


def _logged_ids(caplog: pytest.LogCaptureFixture) -> list[NotificationId]:
    ids = []
    for record in caplog.records:
        if record.name == "ams.notifications" and isinstance(record.args, tuple):
            ids.append(NotificationId(str(record.args[0])))
    return ids


class TestLoggingNotifier(NotifierContract):
    """The log has no transport to lose, so the outage tests are skipped."""

    @pytest.fixture
    def notifier(self) -> Notifier:
        return LoggingNotifier()

    @pytest.fixture
    def delivered_ids(self, caplog: pytest.LogCaptureFixture) -> DeliveredIds:
        caplog.set_level(logging.INFO, logger="ams.notifications")
        return lambda: _logged_ids(caplog)


class TestRecordingJobQueue(JobQueueContract):
    @pytest.fixture
    def job_queue(self) -> RecordingJobQueue:
        return RecordingJobQueue()

    @pytest.fixture
    def ran_jobs(self, job_queue: RecordingJobQueue) -> RanJobs:
        return lambda: job_queue.jobs


class TestInlineJobQueue(JobQueueContract):
    @pytest.fixture
    def ran(self) -> list[Job]:
        return []

    @pytest.fixture
    def job_queue(self, ran: list[Job]) -> JobQueue:
        return InlineJobQueue(dict.fromkeys(self.job_names, ran.append))

    @pytest.fixture
    def ran_jobs(self, ran: list[Job]) -> RanJobs:
        return lambda: ran


class TestSystemClock(ClockContract):
    @pytest.fixture
    def clock(self) -> Clock:
        return SystemClock()


class TestFixedClock(ClockContract):
    @pytest.fixture
    def clock(self) -> Clock:
        return FixedClock(datetime(2026, 11, 16, 9, 0, tzinfo=UTC))


class TestSystemRandomSource(RandomSourceContract):
    @pytest.fixture
    def random_source(self) -> RandomSource:
        return SystemRandomSource()


class TestSeededRandomSource(RandomSourceContract):
    @pytest.fixture
    def random_source(self) -> RandomSource:
        return SeededRandomSource(7)
