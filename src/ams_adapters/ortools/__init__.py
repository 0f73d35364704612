"""Cover-plan solving with Google OR-Tools (the ``solver`` extra).

:class:`OrToolsCoverSolver` implements :class:`~ams_core.ports.CoverSolver`: min-cost flow for
period-aligned needs, CP-SAT when needs overlap only partly.
"""

from ams_adapters.ortools.solver import OrToolsCoverSolver

__all__ = ["OrToolsCoverSolver"]
