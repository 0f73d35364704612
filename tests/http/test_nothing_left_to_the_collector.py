"""The busiest requests, answered or refused, leave nothing of AMS, Litestar, dishka,
SQLAlchemy or psycopg for the cycle collector: what a request builds is freed by reference
counting when it ends, so no collection pass has it to walk while other requests wait on
the event loop (ADR 0020)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.http.conftest import World, garbage_after
from tests.http.edge_support import bind_devices, device

pytestmark = pytest.mark.postgres

#: whose objects the collector must not find (a test client's own may be there)
WATCHED = ("ams_", "litestar", "dishka", "sqlalchemy", "psycopg")
WEEK = "from=2026-11-16&to=2026-11-22"


def _round(world: World, who: str, session_id: str) -> list[int]:
    """In institution ``who`` (``a`` or ``b``): open the window; a wrong code, a check-in
    and its repeat; the schedule, the dashboard, the roster; complete the session. Returns
    the statuses."""
    session = f"/api/v1/sessions/{session_id}"
    post, get = world.client.post, world.client.get
    student, teacher = world.headers(f"{who}.student"), world.headers(f"{who}.faculty")
    phone = device(f"{who}.student")
    opened = post(f"{session}/attendance-code", headers=teacher)
    code = str(opened.json()["code"])
    wrong = "000000" if code != "000000" else "111111"
    return [
        opened.status_code,
        post(
            f"{session}/check-in", json={"code": wrong, "deviceId": phone}, headers=student
        ).status_code,
        *(
            post(
                f"{session}/check-in", json={"code": code, "deviceId": phone}, headers=student
            ).status_code
            for _ in range(2)
        ),
        get(f"/api/v1/me/schedule?{WEEK}", headers=student).status_code,
        get("/api/v1/me/dashboard", headers=teacher).status_code,
        get(f"{session}/attendance", headers=teacher).status_code,
        post(f"{session}/complete", json={}, headers=teacher).status_code,
    ]


def test_check_ins_schedule_dashboard_and_completion_leave_nothing(pg_world: World) -> None:
    world = pg_world
    bind_devices(world)
    # the other institution first: the same statements, compiled and cached before
    first = _round(world, "b", world.session_b)

    measured, kinds = garbage_after(lambda: _round(world, "a", world.session_a))
    left = Counter(
        f"{kind.__module__}.{kind.__qualname__}"
        for kind in kinds
        if kind.__module__.startswith(WATCHED)
    )

    assert first == measured == [200, 400, 200, 200, 200, 200, 200, 200]
    assert left == Counter()
