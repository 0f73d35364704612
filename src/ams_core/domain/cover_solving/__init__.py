"""Cover-plan solving: the problem a plan poses, the hard-rule check and the exact
pure-Python solver (min-cost flow for period-aligned needs, branch and bound otherwise).

The :class:`~ams_core.ports.cover_solver.CoverSolver` port takes a :class:`CoverProblem`
and returns a :class:`CoverSolution`; ``ams_adapters.ortools`` implements the same port.
"""

from ams_core.domain.cover_solving.auto import DEFAULT_THRESHOLD, AutoCoverSolver
from ams_core.domain.cover_solving.exact import ExactCoverSolver, solve_exactly
from ams_core.domain.cover_solving.flow import max_flow_min_cost
from ams_core.domain.cover_solving.network import CoverNetwork, cover_network
from ams_core.domain.cover_solving.problem import (
    CoverProblem,
    CoverSolution,
    PlanningCandidate,
    PlanningNeed,
    objective,
    violations,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "AutoCoverSolver",
    "CoverNetwork",
    "CoverProblem",
    "CoverSolution",
    "ExactCoverSolver",
    "PlanningCandidate",
    "PlanningNeed",
    "cover_network",
    "max_flow_min_cost",
    "objective",
    "solve_exactly",
    "violations",
]
