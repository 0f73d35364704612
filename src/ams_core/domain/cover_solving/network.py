"""The flow network of a cover problem, shared by the pure solver and the OR-Tools adapter.

Needs are grouped by time. A *block* is a connected component of the overlap graph (needs
sorted by start, a new block begins where a need starts once every earlier one has ended);
the needs are covered by the fewest *cliques* (sets of needs that all run at one instant),
and a *group* is a clique's needs of one (day, week). No substitute can hold two needs of a
group, so the network is

    source → need (cap 1) → (substitute, group) (cap 1) → (substitute, day) (cap day
    capacity) → (substitute, week) (cap week capacity) → sink

with cost ``top - score`` on the need → (substitute, group) arcs and 0 elsewhere, where
``top`` is the highest score. A maximum flow of minimum cost covers the most needs and, among
those, reaches the highest total score.

When every block is a single group (period-aligned needs: those that overlap at all run at
the same time, on one day) and every day lies in one week, the network is *exact*: its flows
are exactly the feasible plans. That is the usual school case, where covers are whole
periods. Otherwise the network is a relaxation: it may let a substitute hold overlapping
needs of two groups of a block (a three-hour lab and a class it overlaps), or, for a day
listed under two weeks, more covers on that day than its capacity; the exact solver then
branches on those conflicts.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import date, datetime

from ams_core.domain.cover_solving.problem import CoverProblem, PlanningNeed

SOURCE = 0
SINK = 1


@dataclass(frozen=True, slots=True)
class CoverNetwork:
    """Arcs of the cover network as parallel lists, and how they map back to the problem.

    Node 0 is the source, node 1 the sink, nodes ``2 .. 2 + len(needs) - 1`` the needs in
    ``needs`` order. Arcs ``first_pair_arc`` onwards, one per *pair* (``pair_needs``,
    ``pair_substitutes``, ``scores``), are the need → (substitute, group) arcs.
    """

    needs: tuple[PlanningNeed, ...]
    """The needs sorted by key."""
    node_count: int
    tails: list[int]
    heads: list[int]
    capacities: list[int]
    costs: list[int]
    pair_needs: list[int]
    """The need (index into ``needs``) of each need → (substitute, group) arc, in arc order."""
    pair_substitutes: list[str]
    """The substitute of each need → (substitute, group) arc."""
    first_pair_arc: int
    scores: list[int]
    """The score of each pair."""
    exact: bool
    """Whether every flow of the network is a feasible solution (see the module docstring)."""
    block_of: list[int]
    """The overlap block of each need (needs of different blocks never overlap)."""
    irregular: frozenset[int]
    """Indices of needs whose block has more than one group: overlaps may arise there."""
    day_weeks: dict[date, frozenset[tuple[int, int]]]
    """The weeks each day is listed under (more than one breaks exactness)."""


def _checked_times(need: PlanningNeed) -> tuple[datetime, datetime]:
    if need.ends_at <= need.starts_at:
        raise ValueError(f"need {need.key} must end after it starts")
    return need.starts_at, need.ends_at


def cover_network(problem: CoverProblem) -> CoverNetwork:
    """Build the network of ``problem`` deterministically (needs by key, candidates by name).

    Raises:
        ValueError: a need ends at or before it starts.
    """
    needs = tuple(sorted(problem.needs, key=lambda n: n.key))
    times = [_checked_times(n) for n in needs]
    order = sorted(range(len(needs)), key=lambda i: (times[i][0], times[i][1], needs[i].key))
    # blocks: a new one begins where a need starts once every earlier one has ended
    block_of = [0] * len(needs)
    block = -1
    open_until: datetime | None = None
    for i in order:
        start, end = times[i]
        if open_until is None or start >= open_until:
            block += 1
            open_until = end
        else:
            open_until = max(open_until, end)
        block_of[i] = block
    # the fewest cliques covering the needs (interval graphs are perfect): the needs left
    # that start before the earliest end among them all run just before that end
    clique_of = [0] * len(needs)
    ends = [(times[i][1], position) for position, i in enumerate(order)]
    heapq.heapify(ends)
    taken = 0
    clique = 0
    while taken < len(order):
        while ends[0][1] < taken:
            heapq.heappop(ends)
        earliest_end = ends[0][0]
        while taken < len(order) and times[order[taken]][0] < earliest_end:
            clique_of[order[taken]] = clique
            taken += 1
        clique += 1

    group_ids: dict[tuple[int, date, tuple[int, int]], int] = {}
    group_of = [0] * len(needs)
    block_groups: dict[int, set[int]] = {}
    day_weeks_sets: dict[date, set[tuple[int, int]]] = {}
    for i, need in enumerate(needs):
        group_of[i] = group_ids.setdefault((clique_of[i], need.day, need.week), len(group_ids))
        block_groups.setdefault(block_of[i], set()).add(group_of[i])
        day_weeks_sets.setdefault(need.day, set()).add(need.week)
    day_weeks = {d: frozenset(w) for d, w in day_weeks_sets.items()}
    irregular = frozenset(i for i in range(len(needs)) if len(block_groups[block_of[i]]) > 1)
    exact = not irregular and all(len(w) == 1 for w in day_weeks.values())

    day_capacity = problem.day_capacity
    week_capacity = problem.week_capacity
    day_room: dict[date, set[str]] = {}
    for (s, d), left in day_capacity.items():
        if left > 0:
            day_room.setdefault(d, set()).add(s)
    week_room: dict[tuple[int, int], set[str]] = {}
    for (s, w), left in week_capacity.items():
        if left > 0:
            week_room.setdefault(w, set()).add(s)
    room: dict[tuple[date, tuple[int, int]], set[str]] = {}
    # substitute → its node, per group
    group_nodes: list[dict[str, int]] = [{} for _ in group_ids]
    group_node_list: list[tuple[int, str, tuple[date, tuple[int, int]]]] = []
    node_count = 2 + len(needs)
    pair_needs: list[int] = []
    pair_substitutes: list[str] = []
    heads: list[int] = []
    scores: list[int] = []
    # set operations and map() keep the per-pair work out of the interpreter loop
    for i, need in enumerate(needs):
        when = (need.day, need.week)
        usable = room.get(when)
        if usable is None:
            usable = room[when] = day_room.get(need.day, set()) & week_room.get(need.week, set())
        # the last listing of a substitute wins, as in objective()
        by_substitute = {c.substitute: c.score for c in need.candidates}
        kept = sorted([s for s in by_substitute if s in usable])
        if not kept:
            continue
        nodes = group_nodes[group_of[i]]
        for s in [s for s in kept if s not in nodes]:
            nodes[s] = node_count
            group_node_list.append((node_count, s, when))
            node_count += 1
        heads.extend(map(nodes.__getitem__, kept))
        pair_substitutes.extend(kept)
        scores.extend(map(by_substitute.__getitem__, kept))
        pair_needs.extend([i] * len(kept))
    top = max(scores, default=0)
    pair_count = len(heads)
    first_pair_arc = len(needs)
    tails = [SOURCE] * len(needs) + [2 + i for i in pair_needs]
    heads = list(range(2, 2 + len(needs))) + heads
    capacities = [1] * (len(needs) + pair_count)
    costs = [0] * len(needs) + [top - score for score in scores]

    # substitute → its (substitute, day) node, per (day, week)
    day_nodes_by_when: dict[tuple[date, tuple[int, int]], dict[str, int]] = {w: {} for w in room}
    day_node_list: list[tuple[str, date, tuple[int, int], int]] = []
    week_nodes: dict[tuple[str, tuple[int, int]], int] = {}
    for node, substitute, when in group_node_list:
        day_nodes = day_nodes_by_when[when]
        day_node = day_nodes.get(substitute)
        if day_node is None:
            day_node = day_nodes[substitute] = node_count
            day_node_list.append((substitute, when[0], when[1], node_count))
            node_count += 1
        tails.append(node)
        heads.append(day_node)
        capacities.append(1)
    for substitute, day, week, day_node in day_node_list:
        week_node = week_nodes.get((substitute, week))
        if week_node is None:
            week_node = week_nodes[(substitute, week)] = node_count
            node_count += 1
        tails.append(day_node)
        heads.append(week_node)
        capacities.append(day_capacity[(substitute, day)])
    for key, week_node in week_nodes.items():
        tails.append(week_node)
        heads.append(SINK)
        capacities.append(week_capacity[key])
    costs.extend([0] * (len(tails) - len(costs)))
    return CoverNetwork(
        needs=needs,
        node_count=node_count,
        tails=tails,
        heads=heads,
        capacities=capacities,
        costs=costs,
        pair_needs=pair_needs,
        pair_substitutes=pair_substitutes,
        first_pair_arc=first_pair_arc,
        scores=scores,
        exact=exact,
        block_of=block_of,
        irregular=irregular,
        day_weeks=day_weeks,
    )
