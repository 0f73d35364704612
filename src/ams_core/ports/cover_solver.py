"""The cover-plan solver port: an optimal, deterministic assignment of needs to substitutes."""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol

from ams_core.domain.cover_solving import CoverProblem, CoverSolution


class CoverSolver(Protocol):
    """Solve a :class:`CoverProblem` exactly.

    Rules every implementation honours (the solver contract in ``ams_core.testing`` checks
    them): the solution is feasible (:func:`~ams_core.domain.cover_solving.violations` finds
    nothing); it is optimal, the most needs covered and then the highest total score
    (:func:`~ams_core.domain.cover_solving.objective`), so two solvers reach the same
    objective on the same problem; the same problem always gives the same solution.
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """A short name stored with the plan (``exact``, ``ortools``)."""

    @abstractmethod
    def solve(self, problem: CoverProblem) -> CoverSolution: ...
