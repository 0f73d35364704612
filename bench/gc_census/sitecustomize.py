"""A census of the cycle collector in every Python process that loads it.

Put this folder first on ``PYTHONPATH`` and name an existing folder in ``GC_CENSUS_DIR``;
every process started so (the benchmark, ``ams serve``, its workers, the floor's) then
writes ``<pid>.txt`` there once a second and at exit: its command line, and per generation
the collections run, the CPU time they took (of the collecting thread) and the objects they
freed. For instance::

    mkdir -p /tmp/gc && GC_CENSUS_DIR=/tmp/gc PYTHONPATH=bench/gc_census:. \\
        python -m bench --only http

Without ``GC_CENSUS_DIR`` it does nothing. It is a measuring aid, never loaded by AMS.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

_FOLDER = os.environ.get("GC_CENSUS_DIR")


class _Census:
    def __init__(self, folder: Path) -> None:
        self.file = folder / f"{os.getpid()}.txt"
        self.runs = [0, 0, 0]
        self.cpu = [0.0, 0.0, 0.0]
        self.longest = [0.0, 0.0, 0.0]
        self.freed = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.thread_time()
            return
        generation = info["generation"]
        took = time.thread_time() - self._started
        self.runs[generation] += 1
        self.cpu[generation] += took
        self.longest[generation] = max(self.longest[generation], took)
        self.freed[generation] += info["collected"]

    def write(self) -> None:
        lines = [" ".join(sys.argv), f"process CPU {time.process_time():.2f} s"]
        for generation in range(3):
            lines.append(
                f"generation {generation}: {self.runs[generation]} collections, "
                f"{self.cpu[generation] * 1000:.1f} ms CPU (longest "
                f"{self.longest[generation] * 1000:.1f} ms), {self.freed[generation]} freed"
            )
        lines.append(f"frozen {gc.get_freeze_count()}")
        self.file.write_text("\n".join(lines) + "\n")

    def write_every_second(self) -> None:
        # a worker ended by its supervisor may never run its atexit hooks
        while True:
            time.sleep(1.0)
            self.write()


if _FOLDER:
    _census = _Census(Path(_FOLDER))
    gc.callbacks.append(_census)
    atexit.register(_census.write)
    threading.Thread(target=_census.write_every_second, daemon=True).start()
