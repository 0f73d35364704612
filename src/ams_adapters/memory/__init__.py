"""The memory adapter: every port in plain Python (stdlib only).

It is the reference implementation of the contract suite, the fake the use-case tests run
against, and a ready default for institutions using ``ams_core`` as a library.
"""

from ams_adapters.memory.clock import (
    FixedClock,
    SeededRandomSource,
    SystemClock,
    SystemRandomSource,
)
from ams_adapters.memory.identity import StaticIdentityVerifier
from ams_adapters.memory.jobs import InlineJobQueue, RecordingJobQueue
from ams_adapters.memory.notifier import LoggingNotifier, RecordingNotifier
from ams_adapters.memory.persistence import InMemoryUnitOfWork
from ams_adapters.memory.store import MemoryStore

__all__ = [
    "FixedClock",
    "InMemoryUnitOfWork",
    "InlineJobQueue",
    "LoggingNotifier",
    "MemoryStore",
    "RecordingJobQueue",
    "RecordingNotifier",
    "SeededRandomSource",
    "StaticIdentityVerifier",
    "SystemClock",
    "SystemRandomSource",
]
