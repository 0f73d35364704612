"""The OR-Tools cover solver: the core's cover network on OR-Tools' min-cost flow, or CP-SAT.

The network is built by :func:`ams_core.domain.cover_solving.cover_network`, so both solvers
plan over the same arcs. When it is exact (period-aligned needs) a maximum flow of minimum
cost is an optimal plan. Otherwise CP-SAT solves the integer programme: one boolean per
(need, substitute) pair, at most one substitute per need, at most one need per substitute at
any instant, the day and week capacities, and ``Σ (big + score) · x`` maximised with ``big``
larger than any spread of total scores, so covering one more need always wins. One worker
and a fixed seed keep CP-SAT deterministic.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from ortools.graph.python.min_cost_flow import SimpleMinCostFlow
from ortools.sat.python import cp_model

from ams_core.domain.cover_solving import CoverNetwork, CoverProblem, CoverSolution, cover_network
from ams_core.ports import CoverSolver

_SOURCE, _SINK = 0, 1


class OrToolsCoverSolver(CoverSolver):
    """Exact cover plans with OR-Tools; the same objective as the core's exact solver."""

    @property
    def name(self) -> str:
        return "ortools"

    def solve(self, problem: CoverProblem) -> CoverSolution:
        network = cover_network(problem)
        chosen = _by_flow(network) if network.exact else _by_cp_sat(problem, network)
        needs, need_of, substitute_of = network.needs, network.pair_needs, network.pair_substitutes
        assignments = {needs[need_of[p]].key: substitute_of[p] for p in chosen}
        score = sum(network.scores[p] for p in chosen)
        return CoverSolution(assignments=assignments, covered=len(chosen), score=score)


def _by_flow(network: CoverNetwork) -> list[int]:
    flow = SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.asarray(network.tails, dtype=np.int32),
        np.asarray(network.heads, dtype=np.int32),
        np.asarray(network.capacities, dtype=np.int64),
        np.asarray(network.costs, dtype=np.int64),
    )
    need_count = len(network.needs)
    flow.set_node_supply(_SOURCE, need_count)
    flow.set_node_supply(_SINK, -need_count)
    status = flow.solve_max_flow_with_min_cost()
    if status != SimpleMinCostFlow.OPTIMAL:
        raise RuntimeError(f"OR-Tools min-cost flow ended with status {status}")
    first = network.first_pair_arc
    arcs = np.arange(first, first + len(network.scores), dtype=np.int32)
    flows = np.asarray(flow.flows(arcs))
    return [int(p) for p in np.flatnonzero(flows)]


def _by_cp_sat(problem: CoverProblem, network: CoverNetwork) -> list[int]:
    model = cp_model.CpModel()
    needs, need_of, substitute_of = network.needs, network.pair_needs, network.pair_substitutes
    pair_count = len(network.scores)
    chosen = [model.new_bool_var(f"x{p}") for p in range(pair_count)]
    per_need: dict[int, list[int]] = {}
    per_substitute: dict[str, list[int]] = {}
    per_day: dict[tuple[str, date], list[int]] = {}
    per_week: dict[tuple[str, tuple[int, int]], list[int]] = {}
    for p in range(pair_count):
        i, substitute = need_of[p], substitute_of[p]
        per_need.setdefault(i, []).append(p)
        per_substitute.setdefault(substitute, []).append(p)
        per_day.setdefault((substitute, needs[i].day), []).append(p)
        per_week.setdefault((substitute, needs[i].week), []).append(p)
    for group in per_need.values():
        model.add_at_most_one(chosen[p] for p in group)
    for group in per_substitute.values():
        ordered = sorted(group, key=lambda p: (needs[need_of[p]].starts_at, need_of[p]))
        # the needs running when one starts: the maximal cliques of an interval graph
        for k, p in enumerate(ordered):
            start = needs[need_of[p]].starts_at
            running = [q for q in ordered[:k] if needs[need_of[q]].ends_at > start]
            if running:
                model.add_at_most_one(chosen[q] for q in [*running, p])
    for day_key, group in per_day.items():
        model.add(sum(chosen[p] for p in group) <= problem.day_capacity.get(day_key, 0))
    for week_key, group in per_week.items():
        model.add(sum(chosen[p] for p in group) <= problem.week_capacity.get(week_key, 0))
    spread = max((abs(s) for s in network.scores), default=0)
    big = 2 * spread * len(needs) + 1
    model.maximize(sum((big + network.scores[p]) * chosen[p] for p in range(pair_count)))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    status = solver.solve(model)
    if status != cp_model.OPTIMAL:
        raise RuntimeError(f"CP-SAT ended with status {solver.status_name(status)}")
    return [p for p in range(pair_count) if solver.boolean_value(chosen[p])]
