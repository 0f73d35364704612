"""Readiness: can this process reach what it depends on?"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HealthStatus:
    """One dependency's state: ``ok`` with how long the probe took, or what is wrong."""

    name: str
    ok: bool
    detail: str = ""
    latency_ms: float | None = None


class HealthCheck(Protocol):
    """Probes one backing service quickly (a round trip, never a scan); never raises."""

    @abstractmethod
    def check(self) -> HealthStatus: ...


@dataclass(frozen=True, slots=True)
class HealthChecks:
    """The dependencies a deployment must reach to serve requests."""

    checks: tuple[HealthCheck, ...] = ()

    def run(self) -> list[HealthStatus]:
        """Probe every dependency in turn."""
        return [check.check() for check in self.checks]
