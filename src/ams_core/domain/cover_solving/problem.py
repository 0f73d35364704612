"""The problem a cover plan poses to a solver, and what a solution must respect.

A solution assigns some needs to one of their candidates each. It is *feasible* when

* no substitute holds two needs whose times overlap (touching ends do not overlap);
* no substitute holds more needs on one day than ``day_capacity`` allows them, nor more in
  one ISO week than ``week_capacity`` allows (capacities are what is left of the caps after
  the covers already accepted; a missing entry means the cap is already reached);
* every assignment uses a candidate listed for that need.

It is *optimal* when it covers the most needs and, among those, has the highest total
score: :func:`objective` orders solutions that way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class PlanningCandidate:
    """A substitute who may hold the need, and the points it would score."""

    substitute: str
    score: int


@dataclass(frozen=True, slots=True)
class PlanningNeed:
    """A need to plan: its key, times, local day and ISO week, and its eligible candidates
    (hard rules about time and lists already applied).
    """

    key: str
    starts_at: datetime
    ends_at: datetime
    day: date
    week: tuple[int, int]
    candidates: tuple[PlanningCandidate, ...]


@dataclass(frozen=True, slots=True)
class CoverProblem:
    """Needs, and what each substitute may still take per day and per ISO week."""

    needs: tuple[PlanningNeed, ...]
    day_capacity: Mapping[tuple[str, date], int]
    week_capacity: Mapping[tuple[str, tuple[int, int]], int]

    @property
    def size(self) -> int:
        """Candidate pairs: what the solving time grows with."""
        return sum(len(n.candidates) for n in self.needs)


@dataclass(frozen=True, slots=True)
class CoverSolution:
    """Need key → substitute for the covered needs, and the objective they reach."""

    assignments: Mapping[str, str]
    covered: int
    score: int


def objective(problem: CoverProblem, assignments: Mapping[str, str]) -> tuple[int, int]:
    """(needs covered, total score) of an assignment; larger tuples are better."""
    scores = {(n.key, c.substitute): c.score for n in problem.needs for c in n.candidates}
    return len(assignments), sum(scores[(k, s)] for k, s in assignments.items())


def violations(problem: CoverProblem, assignments: Mapping[str, str]) -> list[str]:
    """Every hard rule the assignment breaks, in words; empty when it is feasible."""
    problems: list[str] = []
    needs = {n.key: n for n in problem.needs}
    by_substitute: dict[str, list[PlanningNeed]] = {}
    for key, substitute in sorted(assignments.items()):
        need = needs.get(key)
        if need is None:
            problems.append(f"{key} is not a need of the problem")
            continue
        if all(c.substitute != substitute for c in need.candidates):
            problems.append(f"{substitute} is not a candidate for {key}")
        by_substitute.setdefault(substitute, []).append(need)
    for substitute, held in sorted(by_substitute.items()):
        held.sort(key=lambda n: (n.starts_at, n.key))
        for i, first in enumerate(held):
            for second in held[i + 1 :]:
                if second.starts_at >= first.ends_at:
                    break
                problems.append(f"{substitute} holds {first.key} and {second.key} at once")
        for day in sorted({n.day for n in held}):
            count = sum(1 for n in held if n.day == day)
            if count > problem.day_capacity.get((substitute, day), 0):
                problems.append(f"{substitute} holds {count} covers on {day}, over the cap")
        for week in sorted({n.week for n in held}):
            count = sum(1 for n in held if n.week == week)
            if count > problem.week_capacity.get((substitute, week), 0):
                problems.append(f"{substitute} holds {count} covers in week {week}, over the cap")
    return problems
