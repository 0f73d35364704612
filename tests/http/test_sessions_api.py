"""Managing dated sessions over HTTP: list, ad hoc classes, reschedule, venue, cancel.

Week 2026-W47 is generated in both institutions (alice: CS101 to section A at 09:00, bob:
MA101 to A at 10:00 and CS101 to B at 09:00, Monday to Friday, venues "Room A1/A2/A3");
the clock stands at Monday 2026-11-16 09:05 in Asia/Kolkata. Every change the section
should hear about is queued in the outbox as a ``session_changed`` notification.
"""

from __future__ import annotations

from typing import Any

from ams_core.domain import Notification
from ams_core.use_cases import SESSION_CHANGED_KIND
from tests.http.conftest import World
from tests.http.test_management_api import call, error_fields

MONDAY = "2026-11-16"
TUESDAY = "2026-11-17"
SATURDAY = "2026-11-21"
SUNDAY = "2026-11-22"
WEEK = {"from": MONDAY, "to": SUNDAY}


def announcements(world: World) -> list[Notification]:
    uow = world.uow()
    with uow.for_platform():
        return [n for n in uow.outbox.pending(limit=10_000) if n.kind == SESSION_CHANGED_KIND]


def sessions(world: World, who: str = "a.admin", **params: Any) -> list[dict[str, Any]]:
    status, page = call(world, "GET", "/api/v1/sessions", who, params={**WEEK, **params})
    assert status == 200, page
    items: list[dict[str, Any]] = page["items"]
    return items


def one(world: World, assignment: str, day: str) -> dict[str, Any]:
    found = [
        s
        for s in sessions(world, limit=500)
        if s["assignmentId"] == assignment and s["date"] == day and s["status"] != "cancelled"
    ]
    assert len(found) == 1, found
    return found[0]


def ad_hoc(world: World, who: str = "a.admin", **body: Any) -> tuple[int, Any]:
    return call(world, "POST", "/api/v1/sessions", who, json=body)


# -- listing ----------------------------------------------------------------------------
def test_an_admin_lists_the_week_in_order_with_filters_and_pages(world: World) -> None:
    week = sessions(world, limit=500)

    assert len(week) == 15
    assert [(s["date"], s["start"]) for s in week] == sorted((s["date"], s["start"]) for s in week)
    assert week[0] == {
        **week[0],
        "date": MONDAY,
        "start": "09:00:00",
        "end": "10:00:00",
        "status": "scheduled",
        "version": 0,
    }
    assert week[0]["slotId"] in ("A1-1", "A3-1")
    assert {s["sectionId"] for s in sessions(world, sectionId="E2-CSE-B")} == {"E2-CSE-B"}
    assert len(sessions(world, teacherId="F001")) == 5
    assert len(sessions(world, status="scheduled", limit=500)) == 15
    assert sessions(world, status="cancelled") == []
    _, page = call(world, "GET", "/api/v1/sessions", params={**WEEK, "limit": 4, "offset": 12})
    assert (len(page["items"]), page["total"], page["offset"]) == (3, 15, 12)


def test_teachers_and_students_see_their_own_classes(world: World) -> None:
    assert {s["teacherId"] for s in sessions(world, "a.faculty")} == {"F001"}
    assert len(sessions(world, "a.other_faculty", limit=500)) == 10
    mine = sessions(world, "a.student", limit=500)
    assert len(mine) == 10
    assert {s["sectionId"] for s in mine} == {"E2-CSE-A"}

    status, problem = call(
        world, "GET", "/api/v1/sessions", "a.student", params={**WEEK, "sectionId": "E2-CSE-B"}
    )
    assert (status, problem["code"]) == (403, "forbidden")
    assert call(world, "GET", "/api/v1/sessions", "operator", params=WEEK)[0] == 403


def test_a_list_needs_a_range_of_at_most_92_days_in_order(world: World) -> None:
    status, problem = call(
        world, "GET", "/api/v1/sessions", params={"from": "2026-08-01", "to": "2026-12-01"}
    )
    assert (status, error_fields(problem)) == (422, {"to"})
    status, problem = call(world, "GET", "/api/v1/sessions", params={"from": SUNDAY, "to": MONDAY})
    assert (status, error_fields(problem)) == (422, {"to"})
    assert call(world, "GET", "/api/v1/sessions", params={"from": MONDAY})[0] == 422
    assert call(world, "GET", "/api/v1/sessions", params={**WEEK, "limit": 501})[0] == 422


def test_one_session_is_for_its_teachers_admins_and_its_sections_students(
    world: World,
) -> None:
    path = f"/api/v1/sessions/{world.session_a}"
    for who in ("a.admin", "a.faculty", "a.student", "a.cr"):
        status, session = call(world, "GET", path, who)
        assert (status, session["id"]) == (200, world.session_a)
    assert call(world, "GET", path, "a.other_faculty")[0] == 403
    status, outsider_view = call(world, "GET", path, "b.admin")
    # the same seed gives b a session with the same id: b sees its own, never a's
    assert (status, outsider_view["id"]) == (200, world.session_b)

    status, created = ad_hoc(
        world, assignmentId="A1", date=SATURDAY, start="11:00", end="12:00", venue="Hall"
    )
    assert status == 201
    for who in ("b.admin", "b.faculty", "b.student"):
        status, problem = call(world, "GET", f"/api/v1/sessions/{created['id']}", who)
        assert (status, problem["code"]) == (404, "session_not_found")


# -- ad hoc classes ---------------------------------------------------------------------
def test_the_assignments_teacher_adds_a_make_up_class(world: World) -> None:
    answer = world.client.post(
        "/api/v1/sessions",
        json={
            "assignmentId": "A1",
            "date": SATURDAY,
            "start": "11:00",
            "end": "12:00",
            "venue": "Hall 2",
        },
        headers=world.headers("a.faculty"),
    )

    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert answer.headers["location"] == f"/api/v1/sessions/{created['id']}"
    assert created == {
        **created,
        "assignmentId": "A1",
        "slotId": None,
        "sectionId": "E2-CSE-A",
        "subjectCode": "CS101",
        "teacherId": "F001",
        "date": SATURDAY,
        "start": "11:00:00",
        "end": "12:00:00",
        "venue": "Hall 2",
        "status": "scheduled",
        "topic": None,
        "version": 0,
    }
    assert created["id"] in {s["id"] for s in sessions(world, "a.student", limit=500)}


def test_only_an_admin_or_the_assignments_teacher_adds_classes(world: World) -> None:
    body = {"assignmentId": "A1", "date": SATURDAY, "start": "11:00", "end": "12:00"}
    for who in ("a.other_faculty", "a.student", "a.cr"):
        assert call(world, "POST", "/api/v1/sessions", who, json=body)[0] == 403
    assert call(world, "POST", "/api/v1/sessions", json={**body, "assignmentId": "NOPE"})[0] == 404


def test_a_class_must_be_on_a_teaching_day_in_the_future(world: World) -> None:
    base = {"assignmentId": "A1", "start": "11:00", "end": "12:00"}
    status, problem = ad_hoc(world, **base, date="2027-02-01")
    assert (status, error_fields(problem)) == (422, {"date"})  # outside every term
    status, problem = ad_hoc(world, **base, date="2026-11-13")
    assert (status, error_fields(problem)) == (422, {"date"})  # already over
    assert call(world, "POST", "/api/v1/holidays", json={"date": SATURDAY})[0] == 201
    status, problem = ad_hoc(world, **base, date=SATURDAY)
    assert (status, error_fields(problem)) == (422, {"date"})  # a holiday
    status, problem = ad_hoc(world, assignmentId="A1", date=TUESDAY, start="12:00", end="11:00")
    assert (status, error_fields(problem)) == (422, {"end"})
    status, problem = ad_hoc(world, assignmentId="A1", date=TUESDAY, start="24:00", end="99:00")
    assert (status, error_fields(problem)) == (422, {"start", "end"})


def test_a_busy_teacher_is_a_schedule_conflict(world: World) -> None:
    # bob teaches MA101 to section A on Tuesday 10:00-11:00; section B is free then
    status, problem = ad_hoc(world, assignmentId="A3", date=TUESDAY, start="10:00", end="11:00")

    assert (status, problem["code"]) == (409, "schedule_conflict")
    assert problem["clashes"] == [{"kind": "teacher", "with": one(world, "A2", TUESDAY)["id"]}]


def test_a_busy_section_is_a_schedule_conflict(world: World) -> None:
    # section A has bob's MA101 on Tuesday 10:00-11:00; alice is free then
    status, problem = ad_hoc(world, assignmentId="A1", date=TUESDAY, start="10:30", end="11:30")

    assert (status, problem["code"]) == (409, "schedule_conflict")
    assert problem["clashes"] == [{"kind": "section", "with": one(world, "A2", TUESDAY)["id"]}]


def test_a_busy_venue_is_a_schedule_conflict(world: World) -> None:
    status, lab = ad_hoc(
        world, assignmentId="A3", date=TUESDAY, start="14:00", end="15:00", venue="Lab"
    )
    assert status == 201

    status, problem = ad_hoc(
        world, assignmentId="A1", date=TUESDAY, start="14:30", end="15:30", venue="LAB"
    )
    assert (status, problem["clashes"]) == (409, [{"kind": "venue", "with": lab["id"]}])
    status, _ = ad_hoc(
        world, assignmentId="A1", date=TUESDAY, start="15:00", end="16:00", venue="Lab"
    )
    assert status == 201  # starts when the other ends


def test_a_cancelled_class_frees_its_time(world: World) -> None:
    tuesday = one(world, "A1", TUESDAY)
    assert call(world, "POST", f"/api/v1/sessions/{tuesday['id']}/cancel", json={})[0] == 200

    status, replacement = ad_hoc(
        world, assignmentId="A1", date=TUESDAY, start="09:00", end="10:00", venue="Room A1"
    )

    assert status == 201, replacement


# -- rescheduling -----------------------------------------------------------------------
def test_the_teacher_moves_a_class_to_another_day_and_the_section_is_told(world: World) -> None:
    tuesday = one(world, "A1", TUESDAY)

    status, moved = call(
        world,
        "PATCH",
        f"/api/v1/sessions/{tuesday['id']}",
        "a.faculty",
        json={"date": SATURDAY, "start": "11:00", "end": "12:00", "version": 0},
    )

    assert status == 200, moved
    assert (moved["id"], moved["date"], moved["start"], moved["end"], moved["version"]) == (
        tuesday["id"],
        SATURDAY,
        "11:00:00",
        "12:00:00",
        1,
    )
    assert moved["venue"] == "Room A1"
    told = announcements(world)
    assert [(n.data["sessionId"], n.data["change"]) for n in told] == [
        (tuesday["id"], "rescheduled")
    ]
    assert "DS on Tue 17 Nov 09:00" in told[0].title
    assert "moved to Sat 21 Nov" in told[0].body


def test_the_parts_of_the_time_left_out_stay_as_they_were(world: World) -> None:
    tuesday = one(world, "A1", TUESDAY)

    status, problem = call(
        world, "PATCH", f"/api/v1/sessions/{tuesday['id']}", json={"start": "11:00"}
    )

    # only the start moves: 11:00 to the old end (10:00) is refused, naming the end
    assert (status, error_fields(problem)) == (422, {"end"})
    status, moved = call(
        world,
        "PATCH",
        f"/api/v1/sessions/{tuesday['id']}",
        json={"start": "11:00", "end": "12:00", "venue": "Hall"},
    )
    assert status == 200, moved
    assert (moved["date"], moved["start"], moved["venue"], moved["slotId"]) == (
        TUESDAY,
        "11:00:00",
        "Hall",
        "A1-2",
    )


def test_generating_the_week_again_does_not_bring_a_moved_class_back(world: World) -> None:
    tuesday = one(world, "A1", TUESDAY)
    status, moved = call(
        world,
        "PATCH",
        f"/api/v1/sessions/{tuesday['id']}",
        json={"date": SATURDAY, "start": "11:00", "end": "12:00"},
    )
    assert status == 200
    assert moved["slotId"] is None

    again = world.client.post("/api/v1/weeks/2026-W47/generate", headers=world.headers("a.admin"))

    assert again.status_code == 200
    assert again.json()["created"] == 0
    tuesday_a1 = [
        s for s in sessions(world, limit=500) if s["assignmentId"] == "A1" and s["date"] == TUESDAY
    ]
    assert [(s["status"], s["slotId"]) for s in tuesday_a1] == [("cancelled", "A1-2")]
    assert tuesday_a1[0]["id"] != tuesday["id"]


def test_a_move_onto_a_busy_time_is_refused_and_nothing_is_announced(world: World) -> None:
    tuesday = one(world, "A1", TUESDAY)

    status, problem = call(
        world,
        "PATCH",
        f"/api/v1/sessions/{tuesday['id']}",
        json={"start": "10:00", "end": "11:00"},
    )

    assert (status, problem["code"]) == (409, "schedule_conflict")
    assert problem["clashes"] == [{"kind": "section", "with": one(world, "A2", TUESDAY)["id"]}]
    assert announcements(world) == []
    assert one(world, "A1", TUESDAY)["version"] == 0


def test_a_stale_version_is_refused(world: World) -> None:
    tuesday = one(world, "A1", TUESDAY)
    path = f"/api/v1/sessions/{tuesday['id']}"
    assert call(world, "PATCH", path, json={"venue": "Hall"})[0] == 200

    status, problem = call(world, "PATCH", path, json={"venue": "Lab", "version": 0})
    assert (status, problem["code"]) == (409, "concurrent_update")
    status, problem = call(world, "PATCH", path, json={"date": SATURDAY, "version": 0})
    assert (status, problem["code"]) == (409, "concurrent_update")
    status, problem = call(world, "POST", f"{path}/cancel", json={"version": 0})
    assert (status, problem["code"]) == (409, "concurrent_update")


def test_an_empty_patch_is_refused(world: World) -> None:
    status, problem = call(world, "PATCH", f"/api/v1/sessions/{world.session_a}", json={})

    assert (status, problem["code"]) == (422, "invalid_input")


def test_only_the_teacher_of_record_or_an_admin_changes_a_class(world: World) -> None:
    path = f"/api/v1/sessions/{world.session_a}"
    for who in ("a.other_faculty", "a.student", "a.cr"):
        assert call(world, "PATCH", path, who, json={"venue": "Hall"})[0] == 403
        assert call(world, "PATCH", path, who, json={"start": "09:30"})[0] == 403
        assert call(world, "POST", f"{path}/cancel", who, json={})[0] == 403
    assert announcements(world) == []


def test_a_completed_class_can_be_neither_moved_nor_cancelled(world: World) -> None:
    world.clock.set(world.clock.now().replace(minute=40))
    completed = world.client.post(
        f"/api/v1/sessions/{world.session_a}/complete",
        json={"topic": "Trees"},
        headers=world.headers("a.faculty"),
    )
    assert completed.status_code == 200
    path = f"/api/v1/sessions/{world.session_a}"

    status, problem = call(world, "PATCH", path, json={"date": SATURDAY})
    assert (status, problem["code"]) == (409, "session_completed")
    status, problem = call(world, "PATCH", path, json={"venue": "Hall"})
    assert (status, problem["code"]) == (409, "session_completed")
    status, problem = call(world, "POST", f"{path}/cancel", json={"reason": "oops"})
    assert (status, problem["code"]) == (409, "session_completed")


# -- venue and cancellation -------------------------------------------------------------
def test_a_new_venue_is_announced_and_may_not_be_taken(world: World) -> None:
    path = f"/api/v1/sessions/{world.session_a}"

    status, problem = call(world, "PATCH", path, "a.faculty", json={"venue": "room a3"})
    assert (status, problem["clashes"][0]["kind"]) == (409, "venue")

    status, moved = call(world, "PATCH", path, "a.faculty", json={"venue": "Hall 1"})
    assert (status, moved["venue"], moved["version"]) == (200, "Hall 1", 1)
    told = announcements(world)
    assert [(n.data["sessionId"], n.data["change"]) for n in told] == [(world.session_a, "venue")]
    assert "now in Hall 1" in told[0].body


def test_the_teacher_cancels_a_class_once_and_the_section_is_told_once(world: World) -> None:
    path = f"/api/v1/sessions/{world.session_a}/cancel"

    status, cancelled = call(world, "POST", path, "a.faculty", json={"reason": "unwell"})
    assert (status, cancelled["status"]) == (200, "cancelled")
    status, again = call(world, "POST", path, "a.faculty")  # the body may be left out
    assert (status, again["status"], again["version"]) == (200, "cancelled", cancelled["version"])

    told = announcements(world)
    assert [(n.data["sessionId"], n.data["change"]) for n in told] == [
        (world.session_a, "cancelled")
    ]
    assert told[0].body.endswith("cancelled: unwell")
    assert call(world, "PATCH", f"/api/v1/sessions/{world.session_a}", json={"venue": "X"})[0] == (
        409
    )
