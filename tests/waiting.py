"""Waiting, bounded, for something another process or thread does."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(check: Callable[[], bool], seconds: float) -> bool:
    """Poll ``check`` every 50 ms until it holds (``True``) or ``seconds`` pass (its last
    answer)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()
