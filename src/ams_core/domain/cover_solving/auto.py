"""Pick a cover solver by problem size: the pure solver for small plans, an adapter for big."""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol

from ams_core.domain.cover_solving.problem import CoverProblem, CoverSolution


class _Solver(Protocol):
    # the shape of ams_core.ports.CoverSolver, which the domain layer may not import
    @property
    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def solve(self, problem: CoverProblem) -> CoverSolution: ...


#: Candidate pairs above which :class:`AutoCoverSolver` hands a problem to its large solver.
#: The pure solver plans 15,000 period-aligned pairs in about 25 ms and 100,000 in 0.2–1.6 s
#: (bench/cover.py); OR-Tools takes about 0.1 s for the 100,000.
DEFAULT_THRESHOLD = 20_000


class AutoCoverSolver:
    """Solve with ``small``, or with ``large`` (when given) above ``threshold`` candidate pairs.

    Both must honour the :class:`~ams_core.ports.CoverSolver` rules, so either gives the same
    objective; ``choose`` tells the caller which one a problem goes to, for recording its name
    with the plan.
    """

    def __init__(
        self, small: _Solver, large: _Solver | None = None, threshold: int = DEFAULT_THRESHOLD
    ) -> None:
        self._small = small
        self._large = large
        self._threshold = threshold

    @property
    def name(self) -> str:
        """``auto``; the solver that actually solves a problem is ``choose(problem).name``."""
        return "auto"

    def choose(self, problem: CoverProblem) -> _Solver:
        """The solver ``solve`` uses for ``problem``."""
        if self._large is not None and problem.size > self._threshold:
            return self._large
        return self._small

    def solve(self, problem: CoverProblem) -> CoverSolution:
        """Solve ``problem`` with the chosen solver."""
        return self.choose(problem).solve(problem)
