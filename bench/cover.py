"""Cover-plan solving: the pure solver on a school day, and OR-Tools on a district day.

Each day has 8 periods; a teacher teaches 6 of them and may cover in the other 2, up to 2
covers a day and 6 a week, part of the week already used. A need is one period of an absent
teacher's class; its candidates are teachers free in that period, each with a score 0–100.

The district row pairs the OR-Tools adapter's whole ``solve(problem)`` (building the network
from the :class:`CoverProblem`, solving, reading the plan back) with a floor that builds the
same network in ``SimpleMinCostFlow`` from plain integer lists and solves it: the honest
pairing, since the adapter must also turn names into node numbers and back.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from ortools.graph.python.min_cost_flow import SimpleMinCostFlow

from ams_adapters.ortools import OrToolsCoverSolver
from ams_core.domain.cover_solving import (
    CoverProblem,
    ExactCoverSolver,
    PlanningCandidate,
    PlanningNeed,
    objective,
)
from bench.timing import Row, latency_row

DAY = date(2026, 3, 2)
WEEK = (2026, 10)
PERIODS = 8
TEACHING = 6
SEED = 20260302


@dataclass(frozen=True)
class Day:
    """One generated day, as plain lists and as the problem the solvers see."""

    teachers: int
    need_periods: list[int]
    candidates: list[list[tuple[int, int]]]
    """(teacher, score) per need, teachers ascending."""
    day_left: list[int]
    week_left: list[int]
    problem: CoverProblem


def school_day(needs: int, teachers: int, per_need: int | None, seed: int = SEED) -> Day:
    """A day of ``needs`` one-period covers among ``teachers``; ``per_need`` caps the
    candidates of a need (``None``: every teacher free in that period).
    """
    rng = random.Random(seed)
    free_in: list[list[int]] = [[] for _ in range(PERIODS)]
    for t in range(teachers):
        for period in rng.sample(range(PERIODS), PERIODS - TEACHING):
            free_in[period].append(t)
    need_periods = [rng.randrange(PERIODS) for _ in range(needs)]
    candidates: list[list[tuple[int, int]]] = []
    for period in need_periods:
        free = free_in[period]
        chosen = free if per_need is None else rng.sample(free, min(per_need, len(free)))
        candidates.append(sorted((t, rng.randint(0, 100)) for t in chosen))
    day_left = [2 - (rng.random() < 0.1) for _ in range(teachers)]
    week_left = [6 - rng.randint(0, 6) for _ in range(teachers)]

    start = datetime(DAY.year, DAY.month, DAY.day, 8, tzinfo=UTC)
    planning = tuple(
        PlanningNeed(
            key=f"n{k:05}",
            starts_at=start + timedelta(hours=period),
            ends_at=start + timedelta(hours=period + 1),
            day=DAY,
            week=WEEK,
            candidates=tuple(PlanningCandidate(f"t{t:05}", score) for t, score in candidates[k]),
        )
        for k, period in enumerate(need_periods)
    )
    problem = CoverProblem(
        planning,
        {(f"t{t:05}", DAY): day_left[t] for t in range(teachers)},
        {(f"t{t:05}", WEEK): week_left[t] for t in range(teachers)},
    )
    return Day(teachers, need_periods, candidates, day_left, week_left, problem)


@dataclass(frozen=True)
class RawNetwork:
    """The cover network of a :class:`Day` as integer lists (no names, no dictionaries of
    strings): what a caller holding only arrays would hand to OR-Tools.
    """

    tails: list[int]
    heads: list[int]
    capacities: list[int]
    costs: list[int]
    supply: int
    top: int
    """The highest score: pair costs are ``top - score``."""


def raw_network(day: Day) -> RawNetwork:
    """Source 0, sink 1, the needs, then the (teacher, period), (teacher, day) and
    (teacher, week) nodes that some pair reaches.
    """
    needs = len(day.need_periods)
    top = max((s for c in day.candidates for _, s in c), default=0)
    tails, heads, capacities, costs = [], [], [], []
    for k in range(needs):
        tails.append(0)
        heads.append(2 + k)
        capacities.append(1)
        costs.append(0)
    slots: dict[int, int] = {}
    node_count = 2 + needs
    for k, period in enumerate(day.need_periods):
        for t, score in day.candidates[k]:
            slot = slots.get(t * PERIODS + period)
            if slot is None:
                slot = slots[t * PERIODS + period] = node_count
                node_count += 1
            tails.append(2 + k)
            heads.append(slot)
            capacities.append(1)
            costs.append(top - score)
    teacher_nodes: dict[int, int] = {}
    for key, slot in slots.items():
        t = key // PERIODS
        day_node = teacher_nodes.get(t)
        if day_node is None:
            day_node = teacher_nodes[t] = node_count
            node_count += 2
        tails.append(slot)
        heads.append(day_node)
        capacities.append(1)
        costs.append(0)
    for t, day_node in teacher_nodes.items():
        tails += [day_node, day_node + 1]
        heads += [day_node + 1, 1]
        capacities += [day.day_left[t], day.week_left[t]]
        costs += [0, 0]
    return RawNetwork(tails, heads, capacities, costs, needs, top)


def floor_solve(raw: RawNetwork) -> tuple[int, int]:
    """Build the raw network in OR-Tools, solve it; (covered, total score)."""
    flow = SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.asarray(raw.tails, dtype=np.int32),
        np.asarray(raw.heads, dtype=np.int32),
        np.asarray(raw.capacities, dtype=np.int64),
        np.asarray(raw.costs, dtype=np.int64),
    )
    flow.set_node_supply(0, raw.supply)
    flow.set_node_supply(1, -raw.supply)
    status = flow.solve_max_flow_with_min_cost()
    assert status == SimpleMinCostFlow.OPTIMAL
    covered = flow.maximum_flow()
    # the cost is Σ (top - score) over the covered pairs
    return covered, covered * raw.top - flow.optimal_cost()


def _median_ms(call: Callable[[], object], repeats: int) -> tuple[float, list[int]]:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1e6, samples


def bench_school_day(quick: bool) -> list[Row]:
    """(a) one school day with the pure solver; (b) a large one, reported."""
    solver = ExactCoverSolver()
    small = school_day(30, 120, None)
    repeats = 5 if quick else 50
    school = latency_row(
        f"cover plan, school day: 30 needs × 120 teachers, {small.problem.size:,} pairs (exact)",
        [lambda: solver.solve(small.problem)] * repeats,
        "plans",
        goal="≤ 50 ms",
    )
    needs, teachers = (60, 200) if quick else (300, 1_000)
    large = school_day(needs, teachers, 50)
    big = latency_row(
        f"cover plan, {needs} needs × {teachers:,} teachers, {large.problem.size:,} pairs (exact)",
        [lambda: solver.solve(large.problem)] * (2 if quick else 5),
        "plans",
        goal="reported",
    )
    return [school, big]


def bench_district_day(quick: bool) -> list[Row]:
    """(c) a district day: OR-Tools adapter vs the raw min-cost flow floor."""
    needs, teachers = (200, 500) if quick else (2_000, 5_000)
    day = school_day(needs, teachers, 50)
    raw = raw_network(day)
    adapter = OrToolsCoverSolver()
    repeats = 3 if quick else 15
    # interleave the two so drifts in machine load hit both alike
    floor_samples: list[int] = []
    adapter_samples: list[int] = []
    for _ in range(repeats):
        floor_samples += _median_ms(lambda: floor_solve(raw), 1)[1]
        adapter_samples += _median_ms(lambda: adapter.solve(day.problem), 1)[1]
    floor_ms = statistics.median(floor_samples) / 1e6
    adapter_ms = statistics.median(adapter_samples) / 1e6
    floor_objective = floor_solve(raw)
    solution = adapter.solve(day.problem)
    reached = objective(day.problem, solution.assignments)
    same = "same objective" if reached == floor_objective else f"FLOOR GOT {floor_objective}"
    shape = f"{needs:,} needs × {teachers:,} teachers, {day.problem.size:,} pairs"
    pure = ExactCoverSolver()
    pure_row = latency_row(
        f"cover plan, district day, ExactCoverSolver (pure Python), {shape}",
        [lambda: pure.solve(day.problem)] * (1 if quick else 3),
        "plans",
        goal="reported (AutoCoverSolver's threshold)",
    )
    assert objective(day.problem, pure.solve(day.problem).assignments) == reached
    return [
        Row(
            f"floor: raw OR-Tools min-cost flow, build from int lists + solve, {shape}",
            repeats,
            sum(floor_samples) / 1e9,
            "plans",
            p50_ms=floor_ms,
            p99_ms=max(floor_samples) / 1e6,
            goal="floor",
        ),
        Row(
            f"cover plan, district day, OrToolsCoverSolver.solve(problem), {shape}: "
            f"covered {reached[0]:,}, score {reached[1]:,} ({same})",
            repeats,
            sum(adapter_samples) / 1e9,
            "plans",
            p50_ms=adapter_ms,
            p99_ms=max(adapter_samples) / 1e6,
            goal=f"≤ 2× floor: {adapter_ms / floor_ms:.2f}×",
        ),
        pure_row,
    ]


def add_use_case_rows(rows: list[Row], quick: bool) -> None:
    """Rows of the whole cover-plan use case on PostgreSQL (``bench.cover_postgres``)."""
    from bench.cover_postgres import use_case_rows

    gc.collect()  # the solver rows leave millions of objects behind; start the use case clean
    rows.extend(use_case_rows(quick))


def run(quick: bool) -> list[Row]:
    """Every cover-solving row."""
    rows = bench_school_day(quick) + bench_district_day(quick)
    add_use_case_rows(rows, quick)
    return rows
