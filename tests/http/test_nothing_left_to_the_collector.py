"""The busiest requests, answered or refused, leave nothing of AMS, Litestar, dishka,
SQLAlchemy or psycopg for the cycle collector: what a request builds is freed by reference
counting when it ends, so no collection pass has it to walk while other requests wait on
the event loop (ADR 0020)."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable

import pytest

from ams_core.domain import DeviceBinding, DeviceId
from ams_core.testing.builders import SmallCollege
from tests.http.conftest import World
from tests.http.test_attendance_api import DEVICE

pytestmark = pytest.mark.postgres

#: whose objects the collector must not find (a test client's own may be there)
WATCHED = ("ams_", "litestar", "dishka", "sqlalchemy", "psycopg")
WEEK = "from=2026-11-16&to=2026-11-22"


def _left_to_the_collector(requests: Callable[[], None]) -> Counter[str]:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds is kept in gc.garbage
    try:
        requests()
        gc.collect()
        kinds = (type(thing) for thing in gc.garbage)
        return Counter(
            f"{kind.__module__}.{kind.__qualname__}"
            for kind in kinds
            if kind.__module__.startswith(WATCHED)
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def _bind_first_student(world: World, college: SmallCollege) -> None:
    uow = world.uow()
    with uow.for_institution(college.id):
        student = college.students[0]
        uow.devices.add(DeviceBinding(college.id, student.id, DeviceId(DEVICE), world.clock.now()))
        uow.commit()


def _round(world: World, who: str, session_id: str) -> list[int]:
    """In institution ``who`` (``a`` or ``b``): open the window; a wrong code, a check-in
    and its repeat; the schedule, the dashboard, the roster; complete the session. Returns
    the statuses."""
    session = f"/api/v1/sessions/{session_id}"
    post, get = world.client.post, world.client.get
    student, teacher = world.headers(f"{who}.student"), world.headers(f"{who}.faculty")
    opened = post(f"{session}/attendance-code", headers=teacher)
    code = str(opened.json()["code"])
    wrong = "000000" if code != "000000" else "111111"
    return [
        opened.status_code,
        post(
            f"{session}/check-in", json={"code": wrong, "deviceId": DEVICE}, headers=student
        ).status_code,
        *(
            post(
                f"{session}/check-in", json={"code": code, "deviceId": DEVICE}, headers=student
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
    for college in (world.a, world.b):
        _bind_first_student(world, college)
    # the other institution first: the same statements, compiled and cached before
    first = _round(world, "b", world.session_b)
    measured: list[int] = []

    left = _left_to_the_collector(lambda: measured.extend(_round(world, "a", world.session_a)))

    assert first == measured == [200, 400, 200, 200, 200, 200, 200, 200]
    assert left == Counter()
