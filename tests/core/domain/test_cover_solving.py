"""The pure cover solver: the solver contract, and the rules it plans by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ams_core.domain.cover_solving import (
    AutoCoverSolver,
    CoverProblem,
    CoverSolution,
    ExactCoverSolver,
    PlanningCandidate,
    PlanningNeed,
    violations,
)
from ams_core.ports import CoverSolver
from ams_core.testing.contracts import CoverSolverContract

DAY = date(2026, 3, 2)
WEEK = (2026, 10)


def need(key: str, start: int, end: int, *candidates: tuple[str, int]) -> PlanningNeed:
    """A need on DAY from ``start`` o'clock to ``end`` o'clock."""
    at = datetime(2026, 3, 2, tzinfo=UTC)
    return PlanningNeed(
        key,
        at + timedelta(hours=start),
        at + timedelta(hours=end),
        DAY,
        WEEK,
        tuple(PlanningCandidate(s, score) for s, score in candidates),
    )


def problem(*needs: PlanningNeed, day: int = 5, week: int = 10) -> CoverProblem:
    substitutes = {c.substitute for n in needs for c in n.candidates}
    return CoverProblem(
        needs,
        {(s, DAY): day for s in substitutes},
        {(s, WEEK): week for s in substitutes},
    )


class TestExactCoverSolver(CoverSolverContract):
    @pytest.fixture
    def solver(self) -> CoverSolver:
        return ExactCoverSolver()


def test_a_need_nobody_can_take_stays_uncovered() -> None:
    solution = ExactCoverSolver().solve(problem(need("n0", 9, 10), need("n1", 9, 10, ("a", 1))))
    assert dict(solution.assignments) == {"n1": "a"}


def test_a_second_overlapping_need_goes_to_another_substitute() -> None:
    solution = ExactCoverSolver().solve(
        problem(need("n0", 9, 10, ("a", 5), ("b", 1)), need("n1", 9, 10, ("a", 5), ("b", 1)))
    )
    assert sorted(solution.assignments.values()) == ["a", "b"]


def test_needs_that_only_touch_can_go_to_one_substitute() -> None:
    solution = ExactCoverSolver().solve(
        problem(need("n0", 9, 10, ("a", 5)), need("n1", 10, 11, ("a", 5)))
    )
    assert dict(solution.assignments) == {"n0": "a", "n1": "a"}


def test_a_lab_and_the_classes_inside_it_go_to_different_substitutes() -> None:
    lab = need("lab", 9, 12, ("a", 9), ("b", 1))
    first = need("first", 9, 10, ("a", 5))
    second = need("second", 11, 12, ("a", 5), ("b", 1))
    given = problem(lab, first, second)
    solution = ExactCoverSolver().solve(given)
    assert violations(given, solution.assignments) == []
    assert dict(solution.assignments) == {"lab": "b", "first": "a", "second": "a"}


def test_the_day_capacity_caps_the_covers_of_a_substitute() -> None:
    solution = ExactCoverSolver().solve(
        problem(need("n0", 9, 10, ("a", 1)), need("n1", 10, 11, ("a", 1)), day=1)
    )
    assert solution.covered == 1


def test_the_week_capacity_caps_the_covers_of_a_substitute() -> None:
    solution = ExactCoverSolver().solve(
        problem(*(need(f"n{h}", h, h + 1, ("a", 1)) for h in range(8, 13)), week=3)
    )
    assert solution.covered == 3


def test_a_substitute_without_capacity_left_takes_nothing() -> None:
    given = CoverProblem((need("n0", 9, 10, ("a", 1)),), {}, {})
    assert ExactCoverSolver().solve(given).covered == 0


def test_covering_more_needs_beats_a_higher_score() -> None:
    solution = ExactCoverSolver().solve(
        problem(need("n0", 9, 10, ("a", 100), ("b", 1)), need("n1", 9, 10, ("a", 1)))
    )
    assert dict(solution.assignments) == {"n0": "b", "n1": "a"}
    assert (solution.covered, solution.score) == (2, 2)


def test_the_higher_score_wins_among_plans_covering_as_many() -> None:
    solution = ExactCoverSolver().solve(problem(need("n0", 9, 10, ("a", 1), ("b", 7))))
    assert dict(solution.assignments) == {"n0": "b"}


def test_the_order_of_needs_and_candidates_does_not_change_the_solution() -> None:
    needs = [need(f"n{i}", 9, 10, ("a", 1), ("b", 1), ("c", 1)) for i in range(2)]
    forwards = ExactCoverSolver().solve(problem(*needs))
    backwards = ExactCoverSolver().solve(
        problem(*(need(n.key, 9, 10, ("c", 1), ("b", 1), ("a", 1)) for n in reversed(needs)))
    )
    assert dict(forwards.assignments) == dict(backwards.assignments)


def test_a_need_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        ExactCoverSolver().solve(problem(need("n0", 10, 9, ("a", 1))))


class NamedSolver:
    """A solver that records the problems it gets."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.solved: list[CoverProblem] = []

    @property
    def name(self) -> str:
        return self._name

    def solve(self, problem: CoverProblem) -> CoverSolution:
        self.solved.append(problem)
        return CoverSolution({}, 0, 0)


def test_the_auto_solver_hands_problems_above_the_threshold_to_the_large_solver() -> None:
    small, large = NamedSolver("small"), NamedSolver("large")
    auto = AutoCoverSolver(small, large, threshold=2)
    big = problem(need("n0", 9, 10, ("a", 1), ("b", 1)), need("n1", 9, 10, ("a", 1)))
    little = problem(need("n0", 9, 10, ("a", 1), ("b", 1)))
    assert auto.choose(big).name == "large"
    assert auto.choose(little).name == "small"
    auto.solve(big)
    auto.solve(little)
    assert large.solved == [big]
    assert small.solved == [little]


def test_the_auto_solver_without_a_large_solver_always_uses_the_small_one() -> None:
    small = NamedSolver("small")
    auto = AutoCoverSolver(small, threshold=0)
    assert auto.choose(problem(need("n0", 9, 10, ("a", 1)))).name == "small"


def test_a_day_listed_under_two_weeks_still_keeps_its_day_capacity() -> None:
    odd = PlanningNeed(
        "n1",
        datetime(2026, 3, 2, 11, tzinfo=UTC),
        datetime(2026, 3, 2, 12, tzinfo=UTC),
        DAY,
        (2026, 11),
        (PlanningCandidate("a", 1),),
    )
    given = CoverProblem(
        (need("n0", 9, 10, ("a", 1)), odd),
        {("a", DAY): 1},
        {("a", WEEK): 5, ("a", (2026, 11)): 5},
    )
    solution = ExactCoverSolver().solve(given)
    assert violations(given, solution.assignments) == []
    assert solution.covered == 1
