"""The contract of :class:`~ams_core.ports.CoverSolver`, with problem strategies and an
exhaustive search to check optimality against.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ams_core.domain.cover_solving import (
    CoverProblem,
    PlanningCandidate,
    PlanningNeed,
    objective,
    violations,
)
from ams_core.ports import CoverSolver

#: Two days of one ISO week and the Monday after, so week caps bind across days.
_DAYS = (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 9))


def _at(day: date, half_hours: int) -> datetime:
    return datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(
        minutes=30 * half_hours
    )


@st.composite
def cover_problems(
    draw: st.DrawFn,
    max_needs: int = 7,
    max_substitutes: int = 4,
    aligned: bool | None = None,
) -> CoverProblem:
    """Small random problems: hourly periods from 08:00, and (unless ``aligned``) needs that
    start on the half hour or last up to two hours, so they overlap only partly.
    """
    substitutes = [f"s{i}" for i in range(draw(st.integers(1, max_substitutes)))]
    needs: list[PlanningNeed] = []
    for k in range(draw(st.integers(0, max_needs))):
        day = draw(st.sampled_from(_DAYS))
        regular = aligned if aligned is not None else draw(st.booleans())
        if regular:
            start = 2 * draw(st.integers(0, 3))
            length = 2
        else:
            start = draw(st.integers(0, 7))
            length = draw(st.integers(1, 4))
        chosen = draw(st.lists(st.sampled_from(substitutes), unique=True))
        candidates = tuple(PlanningCandidate(s, draw(st.integers(0, 9))) for s in chosen)
        iso = day.isocalendar()
        needs.append(
            PlanningNeed(
                key=f"n{k}",
                starts_at=_at(day, start),
                ends_at=_at(day, start + length),
                day=day,
                week=(iso.year, iso.week),
                candidates=candidates,
            )
        )
    weeks = sorted({(d.isocalendar().year, d.isocalendar().week) for d in _DAYS})
    caps = st.integers(0, 3)
    day_capacity = {(s, d): draw(caps) for s in substitutes for d in _DAYS}
    week_capacity = {(s, w): draw(caps) for s in substitutes for w in weeks}
    return CoverProblem(tuple(needs), day_capacity, week_capacity)


def best_by_exhaustive_search(problem: CoverProblem) -> tuple[int, int]:
    """The best (covered, score) over every feasible assignment, by plain enumeration."""
    needs = sorted(problem.needs, key=lambda n: n.key)
    held: dict[str, list[PlanningNeed]] = {}
    per_day: dict[tuple[str, date], int] = {}
    per_week: dict[tuple[str, tuple[int, int]], int] = {}
    best = (0, 0)

    def fits(need: PlanningNeed, substitute: str) -> bool:
        if per_day.get((substitute, need.day), 0) >= problem.day_capacity.get(
            (substitute, need.day), 0
        ):
            return False
        if per_week.get((substitute, need.week), 0) >= problem.week_capacity.get(
            (substitute, need.week), 0
        ):
            return False
        return all(
            other.ends_at <= need.starts_at or need.ends_at <= other.starts_at
            for other in held.get(substitute, [])
        )

    def search(index: int, covered: int, score: int) -> None:
        nonlocal best
        if index == len(needs):
            best = max(best, (covered, score))
            return
        search(index + 1, covered, score)
        need = needs[index]
        for candidate in need.candidates:
            s = candidate.substitute
            if not fits(need, s):
                continue
            held.setdefault(s, []).append(need)
            per_day[(s, need.day)] = per_day.get((s, need.day), 0) + 1
            per_week[(s, need.week)] = per_week.get((s, need.week), 0) + 1
            search(index + 1, covered + 1, score + candidate.score)
            held[s].pop()
            per_day[(s, need.day)] -= 1
            per_week[(s, need.week)] -= 1

    search(0, 0, 0)
    return best


# The solver fixture holds no state between examples, and each subclass runs the same
# methods with its own solver: examples one solver saved are fair tests for another.
_checks = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)


def _same(first: Mapping[str, str], second: Mapping[str, str]) -> bool:
    return dict(first) == dict(second)


class CoverSolverContract:
    """What every :class:`~ams_core.ports.CoverSolver` must do.

    Subclass it (with a ``Test`` prefix) and override the ``solver`` fixture::

        class TestExactCoverSolver(CoverSolverContract):
            @pytest.fixture
            def solver(self) -> CoverSolver:
                return ExactCoverSolver()
    """

    @pytest.fixture
    def solver(self) -> CoverSolver:
        """Override: return the solver under test."""
        raise NotImplementedError("subclasses of CoverSolverContract must define solver")

    def test_the_solver_has_a_short_name(self, solver: CoverSolver) -> None:
        assert solver.name
        assert solver.name == solver.name.strip().lower()

    def test_an_empty_problem_gives_an_empty_solution(self, solver: CoverSolver) -> None:
        solution = solver.solve(CoverProblem((), {}, {}))
        assert dict(solution.assignments) == {}
        assert (solution.covered, solution.score) == (0, 0)

    @_checks
    @given(problem=cover_problems())
    def test_a_solution_breaks_no_hard_rule(
        self, solver: CoverSolver, problem: CoverProblem
    ) -> None:
        assert violations(problem, solver.solve(problem).assignments) == []

    @_checks
    @given(problem=cover_problems())
    def test_a_solution_reports_its_own_objective(
        self, solver: CoverSolver, problem: CoverProblem
    ) -> None:
        solution = solver.solve(problem)
        assert (solution.covered, solution.score) == objective(problem, solution.assignments)

    @_checks
    @given(problem=cover_problems())
    def test_a_solution_is_as_good_as_the_best_by_exhaustive_search(
        self, solver: CoverSolver, problem: CoverProblem
    ) -> None:
        solution = solver.solve(problem)
        assert objective(problem, solution.assignments) == best_by_exhaustive_search(problem)

    @_checks
    @given(problem=cover_problems(aligned=True))
    def test_period_aligned_problems_are_solved_optimally(
        self, solver: CoverSolver, problem: CoverProblem
    ) -> None:
        solution = solver.solve(problem)
        assert violations(problem, solution.assignments) == []
        assert objective(problem, solution.assignments) == best_by_exhaustive_search(problem)

    @_checks
    @given(problem=cover_problems(aligned=False))
    def test_partly_overlapping_problems_are_solved_optimally(
        self, solver: CoverSolver, problem: CoverProblem
    ) -> None:
        solution = solver.solve(problem)
        assert violations(problem, solution.assignments) == []
        assert objective(problem, solution.assignments) == best_by_exhaustive_search(problem)

    @_checks
    @given(problem=cover_problems())
    def test_the_same_problem_gives_the_same_solution(
        self, solver: CoverSolver, problem: CoverProblem
    ) -> None:
        assert _same(solver.solve(problem).assignments, solver.solve(problem).assignments)

    def test_covering_more_needs_beats_a_higher_score(self, solver: CoverSolver) -> None:
        day = _DAYS[0]
        iso = day.isocalendar()
        # a alone scores 9 on n0, but giving n0 to b lets a cover n1 too
        needs = (
            PlanningNeed(
                "n0",
                _at(day, 0),
                _at(day, 2),
                day,
                (iso.year, iso.week),
                (PlanningCandidate("a", 9), PlanningCandidate("b", 0)),
            ),
            PlanningNeed(
                "n1",
                _at(day, 4),
                _at(day, 6),
                day,
                (iso.year, iso.week),
                (PlanningCandidate("a", 0),),
            ),
        )
        problem = CoverProblem(
            needs,
            {("a", day): 1, ("b", day): 1},
            {("a", (iso.year, iso.week)): 5, ("b", (iso.year, iso.week)): 5},
        )
        solution = solver.solve(problem)
        assert dict(solution.assignments) == {"n0": "b", "n1": "a"}
        assert (solution.covered, solution.score) == (2, 0)
