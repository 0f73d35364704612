"""Reading the audit trail and reviewing security events over HTTP."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from ams_core.domain import (
    DeviceBinding,
    DeviceId,
    PermissionDeniedError,
    SecurityEventKind,
    SessionId,
    Student,
    StudentId,
)
from ams_core.testing.builders import MONDAY, student_principal
from ams_core.use_cases import BindDevice, BindDeviceCommand
from tests.http.conftest import World, later

DEVICE = "device-0001-abcdef"


def _get(world: World, who: str, path: str, **params: Any) -> tuple[int, Any]:
    answer = world.client.get(path, params=params, headers=world.headers(who))
    return answer.status_code, answer.json()


def _mark(
    world: World,
    session_id: str,
    marks: dict[str, str],
    who: str = "a.faculty",
    reason: str | None = None,
) -> None:
    body: dict[str, Any] = {"marks": [{"studentId": s, "status": st} for s, st in marks.items()]}
    if reason is not None:
        body["reason"] = reason
    answer = world.client.put(
        f"/api/v1/sessions/{session_id}/attendance", json=body, headers=world.headers(who)
    )
    assert answer.status_code == 200, answer.text


def _bobs_monday_session(world: World) -> SessionId:
    """Bob's MA101 class of section A, Monday 10:00–11:00."""
    uow = world.uow()
    with uow.for_institution(world.a.id):
        sessions = uow.sessions.list_for_assignment(world.a.bob_ma_a.id)
    return next(s.id for s in sessions if s.date == MONDAY)


def test_a_correction_with_its_reason_shows_in_the_sessions_audit_from_old_to_new(
    world: World,
) -> None:
    student = world.a.students[2].id
    _mark(world, world.session_a, {student: "present"})
    marked_at = world.clock.now()
    later(world, 10)
    _mark(world, world.session_a, {student: "absent"}, reason="left after ten minutes")

    status, trail = _get(world, "a.faculty", f"/api/v1/sessions/{world.session_a}/audit")

    assert status == 200, trail
    alice = world.a.alice.email
    assert trail == {
        "items": [
            {
                "sessionId": world.session_a,
                "studentId": student,
                "actor": alice,
                "at": world.clock.now().isoformat().replace("+00:00", "Z"),
                "oldStatus": "present",
                "newStatus": "absent",
                "reason": "left after ten minutes",
            },
            {
                "sessionId": world.session_a,
                "studentId": student,
                "actor": alice,
                "at": marked_at.isoformat().replace("+00:00", "Z"),
                "oldStatus": None,
                "newStatus": "present",
                "reason": "",
            },
        ],
        "total": 2,
        "limit": 50,
        "offset": 0,
    }
    assert _get(world, "a.admin", f"/api/v1/sessions/{world.session_a}/audit") == (200, trail)


def test_a_completion_is_one_entry_of_the_sessions_trail_without_a_student(
    world: World,
) -> None:
    student = world.a.students[0].id
    _mark(world, world.session_a, {student: "present"})
    world.clock.set(world.clock.now().replace(minute=40))
    completed = world.client.post(
        f"/api/v1/sessions/{world.session_a}/complete",
        json={"topic": "Linked lists"},
        headers=world.headers("a.faculty"),
    )
    assert completed.status_code == 200, completed.text

    status, trail = _get(world, "a.admin", f"/api/v1/sessions/{world.session_a}/audit")

    assert status == 200, trail
    assert trail["total"] == 2
    assert trail["items"][0] == {
        "sessionId": world.session_a,
        "studentId": None,
        "actor": world.a.alice.email,
        "at": world.clock.now().isoformat().replace("+00:00", "Z"),
        "oldStatus": None,
        "newStatus": "absent",
        "reason": f"class completed: {completed.json()['markedAbsent']} students without a "
        "mark marked absent",
    }
    absent = world.a.students[1].id
    assert _get(world, "a.admin", f"/api/v1/students/{absent}/audit")[1]["total"] == 0


def test_a_students_trail_spans_sessions_and_a_teacher_sees_only_the_classes_they_teach(
    world: World,
) -> None:
    student = world.a.students[0].id
    _mark(world, world.session_a, {student: "late"})
    bobs = _bobs_monday_session(world)
    opens_early = world.client.patch(
        "/api/v1/institution/settings",
        json={"openEarlyMinutes": 60},  # bob's 10:00 class may be marked now (09:05)
        headers=world.headers("a.admin"),
    )
    assert opens_early.status_code == 200, opens_early.text
    later(world, 1)
    _mark(world, bobs, {student: "excused"}, who="a.other_faculty", reason="sports meet")
    path = f"/api/v1/students/{student}/audit"

    status, everything = _get(world, "a.admin", path)
    _, alices = _get(world, "a.faculty", path)
    _, bobs_view = _get(world, "a.other_faculty", path)

    assert status == 200, everything
    assert [(e["sessionId"], e["newStatus"]) for e in everything["items"]] == [
        (bobs, "excused"),
        (world.session_a, "late"),
    ]
    assert everything["total"] == 2
    assert [(e["sessionId"], e["actor"]) for e in alices["items"]] == [
        (world.session_a, world.a.alice.email)
    ]
    assert alices["total"] == 1
    assert [(e["sessionId"], e["reason"]) for e in bobs_view["items"]] == [(bobs, "sports meet")]
    assert bobs_view["total"] == 1
    # the session's trail is its teacher of record's: bob does not read alice's class
    assert _get(world, "a.other_faculty", f"/api/v1/sessions/{world.session_a}/audit")[0] == 403


def test_audit_pages_carry_the_total_and_follow_limit_and_offset(world: World) -> None:
    students = [s.id for s in world.a.students]
    _mark(world, world.session_a, dict.fromkeys(students, "present"))
    later(world, 1)
    _mark(world, world.session_a, {students[0]: "late"})
    path = f"/api/v1/sessions/{world.session_a}/audit"

    _, whole = _get(world, "a.faculty", path)
    _, first = _get(world, "a.faculty", path, limit=2)
    _, second = _get(world, "a.faculty", path, limit=2, offset=2)
    _, last = _get(world, "a.faculty", path, limit=2, offset=4)
    _, beyond = _get(world, "a.faculty", path, limit=2, offset=6)

    assert whole["total"] == 6
    assert whole["items"][0]["oldStatus"] == "present"  # the newest change comes first
    assert (first["total"], first["limit"], first["offset"]) == (6, 2, 0)
    assert first["items"] + second["items"] + last["items"] == whole["items"]
    assert (beyond["items"], beyond["total"]) == ([], 6)
    student_page = _get(world, "a.admin", f"/api/v1/students/{students[0]}/audit", limit=1)[1]
    assert (len(student_page["items"]), student_page["total"]) == (1, 2)


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "many"}, {"kind": "no_such_kind"}],
)
def test_a_page_outside_the_bounds_or_an_unknown_kind_is_refused(
    world: World, params: dict[str, Any]
) -> None:
    status, problem = _get(world, "a.admin", "/api/v1/security-events", **params)
    assert (status, problem["code"]) == (422, "invalid_input"), problem
    if "kind" not in params:
        for path in (
            f"/api/v1/sessions/{world.session_a}/audit",
            f"/api/v1/students/{world.a.students[0].id}/audit",
        ):
            assert _get(world, "a.admin", path, **params)[0] == 422


def test_students_are_refused_and_another_institutions_staff_find_nothing(world: World) -> None:
    student = world.a.students[0].id
    # a's ids exist in b too (same seed): ask b for a session and a student only a has
    uow = world.uow()
    with uow.for_institution(world.a.id):
        session = uow.sessions.get(world.session_a)
        only_in_a = SessionId("a-only-audit-session")
        uow.sessions.add(dataclasses.replace(session, id=only_in_a, slot_id=None))
        uow.students.add(
            Student(
                StudentId("A-ONLY-0001"),
                world.a.id,
                "Only In A",
                "a-only-0001@a.edu",
                world.a.section_a.id,
            )
        )
        uow.commit()
    _mark(world, only_in_a, {student: "absent", "A-ONLY-0001": "late"})
    session_path = f"/api/v1/sessions/{only_in_a}/audit"
    student_path = "/api/v1/students/A-ONLY-0001/audit"

    for who in ("a.student", "a.cr", "b.student"):
        assert _get(world, who, session_path)[0] == 403
        assert _get(world, who, f"/api/v1/students/{student}/audit")[0] == 403
    for who in ("b.admin", "b.faculty"):
        status, problem = _get(world, who, session_path)
        assert (status, problem["code"]) == (404, "session_not_found")
        assert _get(world, who, student_path)[0] == 404
    # b's own student of the same id has no trail in b
    assert _get(world, "b.admin", f"/api/v1/students/{student}/audit")[1]["total"] == 0
    assert _get(world, "a.admin", session_path)[1]["total"] == 2
    assert _get(world, "a.admin", student_path)[1]["total"] == 1


def _bind(world: World, student_index: int = 0, device: str = DEVICE) -> None:
    uow = world.uow()
    student = world.a.students[student_index]
    with uow.for_institution(world.a.id):
        uow.devices.add(DeviceBinding(world.a.id, student.id, DeviceId(device), world.clock.now()))
        uow.commit()


def _open(world: World) -> str:
    answer = world.client.post(
        f"/api/v1/sessions/{world.session_a}/attendance-code", headers=world.headers("a.faculty")
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["code"])


def test_wrong_codes_and_the_lock_out_appear_for_the_admin_to_review(world: World) -> None:
    _bind(world)
    code = _open(world)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):  # the fifth wrong code locks the student out of the class
        answer = world.client.post(
            f"/api/v1/sessions/{world.session_a}/check-in",
            json={"code": wrong, "deviceId": DEVICE},
            headers=world.headers("a.student"),
        )
        assert answer.status_code == 400, answer.text

    status, everything = _get(world, "a.admin", "/api/v1/security-events")
    _, wrong_codes = _get(world, "a.admin", "/api/v1/security-events", kind="wrong_code")
    _, locked = _get(world, "a.admin", "/api/v1/security-events", kind="check_in_locked")
    _, paged = _get(world, "a.admin", "/api/v1/security-events", limit=2, offset=5)

    assert status == 200, everything
    assert everything["total"] == 6
    assert code not in str(everything)
    assert (wrong_codes["total"], len(wrong_codes["items"])) == (5, 5)
    student = world.a.students[0]
    assert locked["items"] == [
        {
            "kind": "check_in_locked",
            "at": world.clock.now().isoformat().replace("+00:00", "Z"),
            "actor": student.email,
            "studentId": student.id,
            "sessionId": world.session_a,
            "deviceId": DEVICE,
            "clientIp": "testclient",
            "detail": {},
        }
    ]
    assert (len(paged["items"]), paged["total"], paged["limit"], paged["offset"]) == (1, 6, 2, 5)
    by_session = _get(
        world, "a.admin", "/api/v1/security-events", sessionId=world.session_a, studentId=student.id
    )[1]
    assert by_session["total"] == 6
    assert _get(world, "a.admin", "/api/v1/security-events", sessionId="other")[1]["total"] == 0
    # b's admin reviews b's events only; nobody but an admin reviews at all
    assert _get(world, "b.admin", "/api/v1/security-events")[1]["total"] == 0
    for who in ("a.student", "a.cr", "a.faculty", "a.other_faculty", "operator"):
        assert _get(world, who, "/api/v1/security-events")[0] == 403


def test_a_second_account_on_a_device_is_reviewed_by_student_and_since(world: World) -> None:
    _bind(world, 0, DEVICE)
    later(world, 1)
    second = student_principal(world.a.students[1])
    with pytest.raises(PermissionDeniedError):
        BindDevice(world.uow(), world.clock)(BindDeviceCommand(second, DEVICE, "10.0.0.7"))
    tried_at = world.clock.now()

    _, shared = _get(world, "a.admin", "/api/v1/security-events", kind="device_shared")
    _, by_student = _get(
        world, "a.admin", "/api/v1/security-events", studentId=world.a.students[1].id
    )
    since = (tried_at + timedelta(seconds=1)).isoformat()
    _, after = _get(world, "a.admin", "/api/v1/security-events", since=since)
    _, at_or_after = _get(world, "a.admin", "/api/v1/security-events", since=tried_at.isoformat())
    naive = _get(world, "a.admin", "/api/v1/security-events", since="2026-11-16T09:00:00")

    assert [(e["studentId"], e["deviceId"], e["clientIp"]) for e in shared["items"]] == [
        (world.a.students[1].id, DEVICE, "10.0.0.7")
    ]
    assert by_student == shared
    assert after["total"] == 0
    assert at_or_after == shared
    assert naive[0] == 422
    assert naive[1]["errors"][0]["field"] == "since"


def test_the_openapi_document_lists_every_kind_of_event_and_the_page_bounds(
    world: World,
) -> None:
    document = world.client.get("/schema/openapi.json").json()
    operation = document["paths"]["/api/v1/security-events"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}

    assert set(parameters) == {"kind", "studentId", "sessionId", "since", "limit", "offset"}
    assert {"$ref": "#/components/schemas/SecurityEventKind"} in parameters["kind"]["oneOf"]
    kinds = document["components"]["schemas"]["SecurityEventKind"]["enum"]
    assert kinds == [k.value for k in SecurityEventKind]
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 200)
    assert parameters["limit"]["default"] == 50
    for path in ("/api/v1/sessions/{session_id}/audit", "/api/v1/students/{student_id}/audit"):
        answers = document["paths"][path]["get"]["responses"]
        assert {"200", "401", "403", "404", "422"} <= set(answers)
