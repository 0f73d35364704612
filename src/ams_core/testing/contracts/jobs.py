"""The contract of :class:`~ams_core.ports.JobQueue`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import ClassVar

import pytest

from ams_core.ports import Job, JobQueue, JobValue

RanJobs = Callable[[], Sequence[Job]]
"""Returns the jobs that ran (or were recorded) so far, draining the queue first if needed."""


class JobQueueContract:
    """What every :class:`~ams_core.ports.JobQueue` adapter must do.

    Subclass it (with a ``Test`` prefix) and override two fixtures:

    * ``job_queue``: a fresh queue that can run jobs named in :attr:`job_names`;
    * ``ran_jobs``: a callable returning the jobs that ran (or were recorded), as the
      handlers received them. For an asynchronous queue it first waits until the queue is
      drained (for dramatiq: ``broker.join(queue); worker.join()``).

    Example::

        class TestInlineJobQueue(JobQueueContract):
            @pytest.fixture
            def ran(self) -> list[Job]:
                return []

            @pytest.fixture
            def job_queue(self, ran: list[Job]) -> JobQueue:
                return InlineJobQueue({name: ran.append for name in self.job_names})

            @pytest.fixture
            def ran_jobs(self, ran: list[Job]) -> RanJobs:
                return lambda: ran
    """

    #: The job names the tests enqueue; register a handler for each.
    job_names: ClassVar[tuple[str, ...]] = ("contract.first", "contract.second")

    @pytest.fixture
    def job_queue(self) -> JobQueue:
        """Override: return a fresh queue able to run every job in :attr:`job_names`."""
        raise NotImplementedError("subclasses of JobQueueContract must define job_queue")

    @pytest.fixture
    def ran_jobs(self) -> RanJobs:
        """Override: return a callable listing the jobs that ran so far."""
        raise NotImplementedError("subclasses of JobQueueContract must define ran_jobs")

    def test_an_enqueued_job_runs_once(self, job_queue: JobQueue, ran_jobs: RanJobs) -> None:
        job = Job(self.job_names[0], {"session_id": "S-1"}, idempotency_key="complete:S-1")
        job_queue.enqueue(job)
        assert list(ran_jobs()) == [job]

    def test_a_job_without_payload_or_key_runs(
        self, job_queue: JobQueue, ran_jobs: RanJobs
    ) -> None:
        job = Job(self.job_names[1])
        job_queue.enqueue(job)
        ran = list(ran_jobs())
        assert len(ran) == 1
        assert (ran[0].name, dict(ran[0].payload)) == (job.name, {})

    def test_a_repeated_idempotency_key_runs_once(
        self, job_queue: JobQueue, ran_jobs: RanJobs
    ) -> None:
        first = Job(self.job_names[0], {"attempt": 1}, idempotency_key="key-1")
        job_queue.enqueue(first)
        job_queue.enqueue(first)
        job_queue.enqueue(Job(self.job_names[0], {"attempt": 2}, idempotency_key="key-1"))
        job_queue.enqueue(Job(self.job_names[1], {"attempt": 3}, idempotency_key="key-1"))
        assert list(ran_jobs()) == [first]

    def test_jobs_with_other_keys_or_no_key_all_run(
        self, job_queue: JobQueue, ran_jobs: RanJobs
    ) -> None:
        first, second = self.job_names
        jobs = [
            Job(first, {"n": 1}, idempotency_key="key-1"),
            Job(first, {"n": 2}, idempotency_key="key-2"),
            Job(second, {"n": 3}),
            Job(second, {"n": 4}),
        ]
        for job in jobs:
            job_queue.enqueue(job)
        ran = list(ran_jobs())
        assert Counter(repr(j) for j in ran) == Counter(repr(j) for j in jobs)

    def test_the_payload_keeps_its_primitive_values_and_types(
        self, job_queue: JobQueue, ran_jobs: RanJobs
    ) -> None:
        payload: dict[str, JobValue] = {
            "text": "Ünïcode — ✓ 漢字",
            "empty": "",
            "digits": "007",
            "zero": 0,
            "negative": -7,
            "big": 2**53 + 1,
            "yes": True,
            "no": False,
            "nothing": None,
        }
        job = Job(self.job_names[0], payload, idempotency_key="payload")
        job_queue.enqueue(job)
        ran = list(ran_jobs())
        assert ran == [job]
        received = ran[0].payload
        assert {k: type(v) for k, v in received.items()} == {k: type(v) for k, v in payload.items()}
