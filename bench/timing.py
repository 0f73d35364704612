"""Small timing helpers and the result table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of the benchmark table."""

    name: str
    count: int
    seconds: float
    unit: str = "ops"
    p50_ms: float | None = None
    p99_ms: float | None = None
    goal: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")


def percentile(samples_ns: Sequence[int], fraction: float) -> float:
    """The ``fraction`` percentile of nanosecond samples, in milliseconds."""
    ordered = sorted(samples_ns)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index] / 1e6


def timed_calls(calls: Sequence[Callable[[], object]]) -> tuple[float, list[int]]:
    """Run each call once; return the total seconds and each call's nanoseconds."""
    samples: list[int] = []
    started = time.perf_counter()
    for call in calls:
        t0 = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - t0)
    return time.perf_counter() - started, samples


def latency_row(
    name: str, calls: Sequence[Callable[[], object]], unit: str = "calls", goal: str = ""
) -> Row:
    """Time ``calls`` and summarise them as a row with p50 and p99."""
    seconds, samples = timed_calls(calls)
    return Row(
        name,
        len(calls),
        seconds,
        unit,
        p50_ms=statistics.median(samples) / 1e6,
        p99_ms=percentile(samples, 0.99),
        goal=goal,
    )


def render(rows: Sequence[Row]) -> str:
    """A Markdown table."""
    lines = [
        "| benchmark | count | total s | rate /s | p50 ms | p99 ms | goal (PRODUCT.md §5) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        p50 = f"{r.p50_ms:.3f}" if r.p50_ms is not None else "–"
        p99 = f"{r.p99_ms:.3f}" if r.p99_ms is not None else "–"
        # a row that times nothing (a count of instructions, a skipped family) shows no rate
        seconds, rate = (f"{r.seconds:.3f}", f"{r.rate:,.0f}") if r.seconds else ("–", "–")
        lines.append(
            f"| {r.name} | {r.count:,} {r.unit} | {seconds} | {rate} | {p50} | {p99} | {r.goal} |"
        )
    return "\n".join(lines)
