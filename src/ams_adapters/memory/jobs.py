"""Job queues: one that records (tests) and one that runs jobs at once (embedded default)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from ams_core.ports import Job, JobHandler, JobQueue


class RecordingJobQueue(JobQueue):
    """Keeps queued jobs in ``jobs``; a repeated idempotency key is dropped."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def enqueue(self, job: Job) -> None:
        with self._lock:
            if job.idempotency_key is not None:
                if job.idempotency_key in self._keys:
                    return
                self._keys.add(job.idempotency_key)
            self.jobs.append(job)


class InlineJobQueue(JobQueue):
    """Runs each job in the caller's thread, through the handler registered for its name."""

    def __init__(self, handlers: Mapping[str, JobHandler]) -> None:
        self._handlers = dict(handlers)
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def enqueue(self, job: Job) -> None:
        handler = self._handlers.get(job.name)
        if handler is None:
            raise LookupError(f"no handler for job {job.name!r}")
        with self._lock:
            if job.idempotency_key is not None:
                if job.idempotency_key in self._keys:
                    return
                self._keys.add(job.idempotency_key)
        handler(job)
