"""The OR-Tools cover solver: the solver contract, and the same objective as the pure solver."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ams_adapters.ortools import OrToolsCoverSolver
from ams_core.domain.cover_solving import (
    CoverProblem,
    ExactCoverSolver,
    PlanningCandidate,
    PlanningNeed,
    objective,
    violations,
)
from ams_core.ports import CoverSolver
from ams_core.testing.contracts import CoverSolverContract

DAYS = (date(2026, 3, 2), date(2026, 3, 3))


class TestOrToolsCoverSolver(CoverSolverContract):
    @pytest.fixture
    def solver(self) -> CoverSolver:
        return OrToolsCoverSolver()


@st.composite
def medium_problems(draw: st.DrawFn, partial: int) -> CoverProblem:
    """40–80 one-period needs over two days for 20–40 substitutes, and ``partial`` needs
    that start on the half hour or last two periods.
    """
    substitutes = [f"t{i:02}" for i in range(draw(st.integers(20, 40)))]
    shapes = [(2 * draw(st.integers(0, 7)), 2) for _ in range(draw(st.integers(40, 80)))]
    shapes += [(draw(st.integers(0, 14)), draw(st.sampled_from([1, 3, 4]))) for _ in range(partial)]
    needs = []
    for k, (start, length) in enumerate(shapes):
        day = draw(st.sampled_from(DAYS))
        at = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
        eligible = draw(st.lists(st.sampled_from(substitutes), max_size=6, unique=True))
        needs.append(
            PlanningNeed(
                f"n{k:03}",
                at + timedelta(minutes=30 * start),
                at + timedelta(minutes=30 * (start + length)),
                day,
                (2026, 10),
                tuple(PlanningCandidate(s, draw(st.integers(0, 50))) for s in eligible),
            )
        )
    return CoverProblem(
        tuple(needs),
        {(s, d): draw(st.integers(0, 2)) for s in substitutes for d in DAYS},
        {(s, (2026, 10)): draw(st.integers(0, 3)) for s in substitutes},
    )


@settings(max_examples=40, deadline=None)
@given(problem=medium_problems(partial=0))
def test_both_solvers_reach_the_same_objective_on_period_aligned_days(
    problem: CoverProblem,
) -> None:
    pure = ExactCoverSolver().solve(problem)
    accelerated = OrToolsCoverSolver().solve(problem)
    assert violations(problem, accelerated.assignments) == []
    assert objective(problem, accelerated.assignments) == objective(problem, pure.assignments)


@settings(max_examples=25, deadline=None)
@given(problem=medium_problems(partial=4))
def test_both_solvers_reach_the_same_objective_with_a_few_partial_overlaps(
    problem: CoverProblem,
) -> None:
    pure = ExactCoverSolver().solve(problem)
    accelerated = OrToolsCoverSolver().solve(problem)
    assert violations(problem, pure.assignments) == []
    assert violations(problem, accelerated.assignments) == []
    assert objective(problem, accelerated.assignments) == objective(problem, pure.assignments)
