"""Maximum flow of minimum cost, in pure Python (primal-dual successive shortest paths).

Each phase runs Dijkstra on reduced costs from the source, lifts the node potentials by the
distances found (capped at the sink's, so Dijkstra may stop at the sink), then pushes as many
unit paths as it can find along arcs of zero reduced cost. Augmenting only along shortest
paths keeps every intermediate flow of minimum cost for its value, and the phases stop when
the sink is unreachable, so the final flow is a maximum flow of minimum cost.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence


def max_flow_min_cost(
    node_count: int,
    tails: Sequence[int],
    heads: Sequence[int],
    capacities: Sequence[int],
    costs: Sequence[int],
    source: int,
    sink: int,
) -> list[int]:
    """The flow on each arc of a maximum flow of minimum cost from ``source`` to ``sink``.

    Costs must be non-negative (the cover network's are), so the first Dijkstra needs no
    Bellman-Ford pass. The result depends only on the arc order, not on hashing.
    """
    arc_count = len(tails)
    # residual arcs: 2a is arc a forwards, 2a + 1 backwards
    to = [0] * (2 * arc_count)
    cap = [0] * (2 * arc_count)
    cost = [0] * (2 * arc_count)
    out: list[list[int]] = [[] for _ in range(node_count)]
    for a in range(arc_count):
        tail, head, c = tails[a], heads[a], costs[a]
        if c < 0:
            raise ValueError("arc costs must be non-negative")
        f, b = 2 * a, 2 * a + 1
        to[f], cap[f], cost[f] = head, capacities[a], c
        to[b], cost[b] = tail, -c
        out[tail].append(f)
        out[head].append(b)

    potential = [0] * node_count
    infinity = float("inf")
    heappush, heappop = heapq.heappush, heapq.heappop
    while True:
        dist: list[float] = [infinity] * node_count
        dist[source] = 0
        heap: list[tuple[float, int]] = [(0, source)]
        while heap:
            d, u = heappop(heap)
            if d > dist[u]:
                continue
            if u == sink:
                break
            base = d + potential[u]
            for e in out[u]:
                if cap[e] > 0:
                    v = to[e]
                    nd = base + cost[e] - potential[v]
                    if nd < dist[v]:
                        dist[v] = nd
                        heappush(heap, (nd, v))
        reach = dist[sink]
        if reach == infinity:
            break
        lift = int(reach)
        for v in range(node_count):
            dv = dist[v]
            potential[v] += lift if dv >= lift else int(dv)

        # push unit paths along arcs of zero reduced cost (depth first, current-arc pointers)
        pointer = [0] * node_count
        dead = [False] * node_count
        on_path = [False] * node_count
        while True:
            path: list[int] = []
            u = source
            on_path[source] = True
            while u != sink:
                arcs = out[u]
                i = pointer[u]
                pu = potential[u]
                moved = False
                while i < len(arcs):
                    e = arcs[i]
                    v = to[e]
                    if (
                        cap[e] > 0
                        and not on_path[v]
                        and not dead[v]
                        and cost[e] + pu == potential[v]
                    ):
                        path.append(e)
                        on_path[v] = True
                        pointer[u] = i
                        u = v
                        moved = True
                        break
                    i += 1
                if moved:
                    continue
                pointer[u] = i
                dead[u] = True
                on_path[u] = False
                if not path:
                    break
                back = path.pop()
                u = to[back ^ 1]
                pointer[u] += 1
            if u != sink:
                break
            push = min(cap[e] for e in path)
            for e in path:
                cap[e] -= push
                cap[e ^ 1] += push
                on_path[to[e]] = False
            on_path[source] = False
    return [cap[2 * a + 1] for a in range(arc_count)]
