"""The exact pure-Python cover solver: min-cost flow, with branch and bound where needed.

For period-aligned needs (every overlap block a clique of one day) the cover network is
exact and one min-cost flow solves the problem. Otherwise the flow solves a relaxation, and
the solver branches on what the relaxed solution breaks. When a substitute holds two
overlapping needs, the earlier *a* and another, either the substitute takes *a* (ban every
other candidate of *a* and every need overlapping *a* for that substitute) or it does not
(ban that one pair). A day over its capacity ``c`` (possible only when a day is listed under
two weeks) bans one of its first ``c + 1`` pairs per branch. Each branch's relaxation is an
upper bound (covered first, then score) on every plan below it, so a branch whose relaxation
is no better than the best plan found is pruned; a greedy repair of each relaxed plan keeps
a good plan at hand early.

This is exponential in the worst case (many partially overlapping needs competing for the
same substitutes). It is fast for school days and for a handful of labs or double periods;
large irregular instances want the OR-Tools adapter (``ams_adapters.ortools``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from ams_core.domain.cover_solving.flow import max_flow_min_cost
from ams_core.domain.cover_solving.network import SINK, SOURCE, CoverNetwork, cover_network
from ams_core.domain.cover_solving.problem import CoverProblem, CoverSolution


@dataclass(frozen=True, slots=True)
class _Relaxed:
    chosen: list[int]
    value: tuple[int, int]


def _solve_relaxation(network: CoverNetwork, banned: frozenset[int]) -> _Relaxed:
    capacities = network.capacities
    if banned:
        capacities = list(capacities)
        for pair in banned:
            capacities[network.first_pair_arc + pair] = 0
    flows = max_flow_min_cost(
        network.node_count,
        network.tails,
        network.heads,
        capacities,
        network.costs,
        SOURCE,
        SINK,
    )
    first = network.first_pair_arc
    chosen = [p for p in range(len(network.scores)) if flows[first + p]]
    return _Relaxed(chosen, (len(chosen), sum(network.scores[p] for p in chosen)))


def _branches(
    network: CoverNetwork,
    chosen: list[int],
    problem: CoverProblem,
    options: list[list[int]],
    by_substitute: dict[str, list[int]],
) -> list[list[int]]:
    """Pair sets to ban, one per branch, that between them keep every feasible plan below
    this node but cut off ``chosen``; [] when ``chosen`` is feasible.
    """
    if network.exact:
        return []
    needs, need_of, substitute_of = network.needs, network.pair_needs, network.pair_substitutes
    held: dict[tuple[str, int], list[int]] = {}
    for p in chosen:
        i = need_of[p]
        if i in network.irregular:
            held.setdefault((substitute_of[p], network.block_of[i]), []).append(p)
    for key in sorted(held):
        ordered = sorted(held[key], key=lambda p: (needs[need_of[p]].starts_at, need_of[p]))
        for first, second in pairwise(ordered):
            # sorted by start, some two overlap exactly when two neighbours do
            if needs[need_of[second]].starts_at < needs[need_of[first]].ends_at:
                need = needs[need_of[first]]
                # the substitute takes the first need, so none of the others it overlaps,
                # or does not take it
                takes = [q for q in options[need_of[first]] if q != first] + [
                    q
                    for q in by_substitute[key[0]]
                    if q != first
                    and needs[need_of[q]].starts_at < need.ends_at
                    and need.starts_at < needs[need_of[q]].ends_at
                ]
                return [takes, [first]]
    if all(len(weeks) == 1 for weeks in network.day_weeks.values()):
        return []
    per_day: dict[tuple[str, date], list[int]] = {}
    for p in chosen:
        per_day.setdefault((substitute_of[p], needs[need_of[p]].day), []).append(p)
    for day_key in sorted(per_day):
        capacity = problem.day_capacity.get(day_key, 0)
        if len(per_day[day_key]) > capacity:
            # a feasible plan lacks one of any capacity + 1 of these pairs
            return [[p] for p in per_day[day_key][: capacity + 1]]
    return []


def _repaired(
    network: CoverNetwork, chosen: list[int], problem: CoverProblem, options: list[list[int]]
) -> _Relaxed:
    """A feasible plan near ``chosen``: its pairs that clash with none kept before them, then
    for each need left uncovered the best-scoring pair that still fits.
    """
    needs, need_of, substitute_of = network.needs, network.pair_needs, network.pair_substitutes
    held: dict[str, list[int]] = {}
    per_day: dict[tuple[str, date], int] = {}
    per_week: dict[tuple[str, tuple[int, int]], int] = {}
    kept: list[int] = []
    covered: set[int] = set()

    def take_if_fits(p: int) -> bool:
        i, substitute = need_of[p], substitute_of[p]
        need = needs[i]
        day_key, week_key = (substitute, need.day), (substitute, need.week)
        if per_day.get(day_key, 0) >= problem.day_capacity.get(day_key, 0):
            return False
        if per_week.get(week_key, 0) >= problem.week_capacity.get(week_key, 0):
            return False
        mine = held.setdefault(substitute, [])
        if any(
            needs[j].starts_at < need.ends_at and need.starts_at < needs[j].ends_at for j in mine
        ):
            return False
        per_day[day_key] = per_day.get(day_key, 0) + 1
        per_week[week_key] = per_week.get(week_key, 0) + 1
        mine.append(i)
        kept.append(p)
        covered.add(i)
        return True

    for p in chosen:
        take_if_fits(p)
    for i, pairs in enumerate(options):
        if i not in covered:
            any(take_if_fits(p) for p in pairs)
    return _Relaxed(kept, (len(kept), sum(network.scores[p] for p in kept)))


def solve_exactly(problem: CoverProblem) -> CoverSolution:
    """An optimal solution of ``problem``: the most needs covered, then the highest score.

    Deterministic: the same problem (whatever the order of its needs and candidates) always
    gives the same solution.

    Raises:
        ValueError: a need ends at or before it starts.
    """
    network = cover_network(problem)
    root = _solve_relaxation(network, frozenset())
    # the empty plan is feasible
    best = _Relaxed([], (0, 0))
    # each need's pairs, best score first, for the repair heuristic
    options: list[list[int]] = [[] for _ in network.needs]
    by_substitute: dict[str, list[int]] = {}
    for p in sorted(range(len(network.scores)), key=lambda p: (-network.scores[p], p)):
        options[network.pair_needs[p]].append(p)
        by_substitute.setdefault(network.pair_substitutes[p], []).append(p)
    stack: list[tuple[frozenset[int], _Relaxed | None]] = [(frozenset(), root)]
    seen: set[frozenset[int]] = {frozenset()}
    while stack:
        banned, relaxed = stack.pop()
        if relaxed is None:
            relaxed = _solve_relaxation(network, banned)
        if relaxed.value <= best.value:
            continue
        branches = _branches(network, relaxed.chosen, problem, options, by_substitute)
        if not branches:
            best = relaxed
            continue
        # a good incumbent early prunes most of the tree: the relaxation is usually tight
        repaired = _repaired(network, relaxed.chosen, problem, options)
        if repaired.value > best.value:
            best = repaired
            if relaxed.value <= best.value:
                continue
        for bans in reversed(branches):
            child = banned.union(bans)
            if child not in seen:
                seen.add(child)
                stack.append((child, None))
    assignments = {
        network.needs[network.pair_needs[p]].key: network.pair_substitutes[p] for p in best.chosen
    }
    return CoverSolution(assignments=assignments, covered=best.value[0], score=best.value[1])


class ExactCoverSolver:
    """The pure-Python :class:`~ams_core.ports.CoverSolver` (see :func:`solve_exactly`)."""

    @property
    def name(self) -> str:
        """``exact``."""
        return "exact"

    def solve(self, problem: CoverProblem) -> CoverSolution:
        """An optimal, deterministic solution of ``problem``."""
        return solve_exactly(problem)
