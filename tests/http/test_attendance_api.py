"""The attendance walk over HTTP: open, check in, roster, mark, complete, summary."""

from __future__ import annotations

from ams_core.domain import DeviceBinding, DeviceId
from tests.http.conftest import World

DEVICE = "device-0001-abcdef"


def _bind(world: World, student_index: int = 0) -> None:
    uow = world.uow()
    student = world.a.students[student_index]
    with uow.for_institution(world.a.id):
        uow.devices.add(DeviceBinding(world.a.id, student.id, DeviceId(DEVICE), world.clock.now()))
        uow.commit()


def _open(world: World) -> str:
    answer = world.client.post(
        f"/api/v1/sessions/{world.session_a}/attendance-code", headers=world.headers("a.faculty")
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) >= {"code", "rotatesEverySeconds", "windowClosesAt"}
    return str(body["code"])


def test_a_student_checks_in_with_the_code_the_teacher_opened(world: World) -> None:
    _bind(world)
    code = _open(world)
    first = world.client.post(
        f"/api/v1/sessions/{world.session_a}/check-in",
        json={"code": code, "deviceId": DEVICE},
        headers=world.headers("a.student"),
    )
    again = world.client.post(
        f"/api/v1/sessions/{world.session_a}/check-in",
        json={"code": code, "deviceId": DEVICE},
        headers=world.headers("a.student"),
    )
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "present"
    assert first.json()["alreadyMarked"] is False
    assert again.json()["alreadyMarked"] is True


def test_a_wrong_code_is_a_problem_with_a_stable_code_and_attempts_left(world: World) -> None:
    _bind(world)
    code = _open(world)
    wrong = "000000" if code != "000000" else "111111"
    answer = world.client.post(
        f"/api/v1/sessions/{world.session_a}/check-in",
        json={"code": wrong, "deviceId": DEVICE},
        headers=world.headers("a.student"),
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == "wrong_code"
    assert problem["attemptsLeft"] == 4
    assert code not in answer.text


def test_a_numeric_code_is_refused_rather_than_coerced(world: World) -> None:
    _bind(world)
    _open(world)
    answer = world.client.post(
        f"/api/v1/sessions/{world.session_a}/check-in",
        json={"code": 12345, "deviceId": DEVICE},
        headers=world.headers("a.student"),
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_input"


def test_the_teacher_marks_completes_and_the_student_sees_the_summary(world: World) -> None:
    student = world.a.students[2].id
    marked = world.client.put(
        f"/api/v1/sessions/{world.session_a}/attendance",
        json={"marks": [{"studentId": student, "status": "late"}]},
        headers=world.headers("a.faculty"),
    )
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"changed": 1, "unchanged": 0}
    world.clock.set(world.clock.now().replace(minute=40))
    completed = world.client.post(
        f"/api/v1/sessions/{world.session_a}/complete",
        json={"topic": "Linked lists"},
        headers=world.headers("a.faculty"),
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["markedAbsent"] == 4
    roster = world.client.get(
        f"/api/v1/sessions/{world.session_a}/attendance", headers=world.headers("a.faculty")
    ).json()
    assert roster["session"]["status"] == "completed"
    assert roster["tally"]["late"] == 1
    summary = world.client.get("/api/v1/me/attendance", headers=world.headers("a.student"))
    assert summary.status_code == 200, summary.text
    cs = next(s for s in summary.json()["subjects"] if s["subjectCode"] == "CS101")
    assert (cs["held"], cs["attended"]) == (1, 0)


def test_the_schedule_lists_the_week_with_camel_case_fields(world: World) -> None:
    answer = world.client.get(
        "/api/v1/me/schedule?from=2026-11-16&to=2026-11-22", headers=world.headers("a.student")
    )
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert len(items) == 10
    assert {"sessionId", "subjectName", "teacherName", "venue", "startsAt", "status"} <= set(
        items[0]
    )


def test_requests_without_a_token_are_refused_with_401(world: World) -> None:
    answer = world.client.get("/api/v1/me/schedule")
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthenticated"
    assert answer.headers["www-authenticate"].startswith("Bearer")
