"""Running a synchronous use case from an async handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

C = TypeVar("C")
R = TypeVar("R")


async def run(use_case: Callable[[C], R], command: C) -> R:
    """Call the use case in the thread pool: the ports are synchronous (ADR 0002)."""
    return await anyio.to_thread.run_sync(use_case, command)
