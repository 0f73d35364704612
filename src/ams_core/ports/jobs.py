"""Background jobs."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

JobValue = str | int | bool | None


@dataclass(frozen=True, slots=True)
class Job:
    """A unit of background work: a name and a payload of primitives (never entities)."""

    name: str
    payload: Mapping[str, JobValue] = field(default_factory=dict)
    idempotency_key: str | None = None


JobHandler = Callable[[Job], None]
"""Runs one job. Raising :class:`~ams_core.domain.errors.UnavailableError` (or any error
that is not an :class:`~ams_core.domain.errors.AmsError`) asks for a retry later; another
``AmsError`` is permanent: the job is not retried."""


class JobQueue(Protocol):
    """Runs jobs later, at least once; handlers must be idempotent."""

    @abstractmethod
    def enqueue(self, job: Job) -> None:
        """Queue ``job``; a job whose idempotency key was already queued is dropped.

        Raises:
            UnavailableError: the queue cannot be reached; nothing was queued and the
                caller keeps the work to queue it again later.
        """
