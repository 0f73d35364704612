"""Managing the institution over HTTP: sections, students, faculty, subjects, assignments,
weekly slots, terms, holidays and settings (PRODUCT.md §2.1–2.2).

The world (tests/http/conftest.py) has two institutions seeded alike: section A (five
students, students[1] the class representative) and B (one), alice teaching CS101 to A at
09:00, bob MA101 to A at 10:00 and CS101 to B at 09:00, Monday to Friday; week 2026-W47 is
generated and the clock stands at Monday 2026-11-16 09:05 in Asia/Kolkata.
"""

from __future__ import annotations

from typing import Any

import pytest

from ams_core.domain import DeviceBinding, DeviceId, Notification
from ams_core.use_cases import SESSION_CHANGED_KIND
from tests.http.conftest import World

TUESDAY = "2026-11-17"


def call(
    world: World, method: str, path: str, who: str = "a.admin", **kwargs: Any
) -> tuple[int, Any]:
    answer = world.client.request(method, path, headers=world.headers(who), **kwargs)
    if answer.status_code >= 400:
        assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json() if answer.content else None
    return answer.status_code, body


def error_fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


def outbox(world: World) -> list[Notification]:
    uow = world.uow()
    with uow.for_platform():
        return list(uow.outbox.pending(limit=10_000))


# -- sections ---------------------------------------------------------------------------
def test_an_admin_manages_a_section_from_creation_to_deletion(world: World) -> None:
    created = world.client.post(
        "/api/v1/sections",
        json={"id": "E3-ECE-A", "year": 3, "department": "ECE", "name": "A"},
        headers=world.headers("a.admin"),
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/sections/E3-ECE-A"
    assert created.json() == {
        "id": "E3-ECE-A",
        "year": 3,
        "department": "ECE",
        "name": "A",
        "version": 0,
    }

    status, listed = call(world, "GET", "/api/v1/sections")
    assert status == 200
    assert [s["id"] for s in listed["items"]] == ["E2-CSE-A", "E2-CSE-B", "E3-ECE-A"]
    assert (listed["total"], listed["limit"], listed["offset"]) == (3, 50, 0)
    _, ece = call(world, "GET", "/api/v1/sections", params={"department": "ece"})
    assert [s["id"] for s in ece["items"]] == ["E3-ECE-A"]
    _, second_year = call(world, "GET", "/api/v1/sections", params={"year": 2})
    assert second_year["total"] == 2

    status, patched = call(
        world, "PATCH", "/api/v1/sections/E3-ECE-A", json={"name": "Alpha", "version": 0}
    )
    assert status == 200
    assert (patched["name"], patched["year"], patched["version"]) == ("Alpha", 3, 1)
    assert call(world, "GET", "/api/v1/sections/E3-ECE-A")[1] == patched

    assert call(world, "DELETE", "/api/v1/sections/E3-ECE-A")[0] == 204
    status, problem = call(world, "GET", "/api/v1/sections/E3-ECE-A")
    assert (status, problem["code"]) == (404, "section_not_found")


def test_every_member_reads_sections_but_only_an_admin_writes_them(world: World) -> None:
    for who in ("a.student", "a.cr", "a.faculty"):
        assert call(world, "GET", "/api/v1/sections", who)[0] == 200
        assert call(world, "GET", "/api/v1/sections/E2-CSE-A", who)[0] == 200
        status, problem = call(world, "PATCH", "/api/v1/sections/E2-CSE-A", who, json={})
        assert (status, problem["code"]) == (403, "forbidden")
        assert call(world, "DELETE", "/api/v1/sections/E2-CSE-B", who)[0] == 403
    assert call(world, "GET", "/api/v1/sections", "operator")[0] == 403
    assert call(world, "GET", "/api/v1/sections", "anonymous")[0] == 401


def test_a_stale_version_is_refused_and_the_record_is_unchanged(world: World) -> None:
    assert call(world, "PATCH", "/api/v1/sections/E2-CSE-A", json={"name": "First"})[0] == 200

    status, problem = call(
        world, "PATCH", "/api/v1/sections/E2-CSE-A", json={"name": "Second", "version": 0}
    )

    assert (status, problem["code"]) == (409, "concurrent_update")
    assert call(world, "GET", "/api/v1/sections/E2-CSE-A")[1]["name"] == "First"


def test_a_patch_that_changes_nothing_keeps_the_version(world: World) -> None:
    status, same = call(world, "PATCH", "/api/v1/sections/E2-CSE-A", json={"name": "A"})

    assert (status, same["version"]) == (200, 0)


def test_a_section_that_still_has_students_is_in_use(world: World) -> None:
    status, problem = call(world, "DELETE", "/api/v1/sections/E2-CSE-A")

    assert (status, problem["code"]) == (409, "in_use")
    assert call(world, "GET", "/api/v1/sections/E2-CSE-A")[0] == 200


def test_invalid_and_unknown_section_fields_are_refused_naming_them(world: World) -> None:
    status, problem = call(
        world,
        "POST",
        "/api/v1/sections",
        json={"id": "X", "year": 13, "department": "CSE", "name": "X"},
    )
    assert (status, problem["code"]) == (422, "invalid_input")
    assert "year" in error_fields(problem)

    status, problem = call(
        world, "POST", "/api/v1/sections", json={"id": "X", "department": "CSE", "name": "X"}
    )
    assert status == 422

    status, problem = call(
        world,
        "POST",
        "/api/v1/sections",
        json={"id": "X", "year": 1, "department": "CSE", "name": "   "},
    )
    assert (status, error_fields(problem)) == (422, {"name"})

    status, problem = call(
        world, "PATCH", "/api/v1/sections/E2-CSE-A", json={"institutionId": "inst-b"}
    )
    assert status == 422
    assert call(world, "GET", "/api/v1/sections/E2-CSE-A")[1]["version"] == 0


def test_a_taken_section_id_is_a_conflict(world: World) -> None:
    status, problem = call(
        world,
        "POST",
        "/api/v1/sections",
        json={"id": "E2-CSE-A", "year": 2, "department": "CSE", "name": "A"},
    )

    assert (status, problem["code"]) == (409, "section_exists")


def test_another_institutions_records_are_not_found(world: World) -> None:
    created, _ = call(
        world,
        "POST",
        "/api/v1/sections",
        json={"id": "ONLY-A", "year": 1, "department": "CSE", "name": "Only"},
    )
    assert created == 201

    assert call(world, "GET", "/api/v1/sections/ONLY-A", "b.admin")[0] == 404
    assert call(world, "PATCH", "/api/v1/sections/ONLY-A", "b.admin", json={"year": 2})[0] == 404
    assert call(world, "DELETE", "/api/v1/sections/ONLY-A", "b.admin")[0] == 404
    _, b_sections = call(world, "GET", "/api/v1/sections", "b.admin")
    assert "ONLY-A" not in {s["id"] for s in b_sections["items"]}
    assert call(world, "GET", "/api/v1/sections/ONLY-A")[1]["year"] == 1


# -- students ---------------------------------------------------------------------------
def _student_ids(world: World, who: str = "a.admin", **params: Any) -> list[str]:
    status, page = call(world, "GET", "/api/v1/students", who, params=params)
    assert status == 200, page
    return [s["id"] for s in page["items"]]


def test_students_are_listed_by_roll_number_filtered_searched_and_paged(world: World) -> None:
    section_a = [s.id for s in world.a.students]

    assert _student_ids(world) == [*section_a, world.a.outsider.id]
    assert _student_ids(world, sectionId="E2-CSE-A") == section_a
    assert _student_ids(world, sectionId="E2-CSE-B") == [world.a.outsider.id]
    assert _student_ids(world, isClassRepresentative="true") == [section_a[1]]
    assert _student_ids(world, q="student 3") == [section_a[2]]
    assert _student_ids(world, q="N210004@A.EDU") == [section_a[3]]

    _, page = call(world, "GET", "/api/v1/students", params={"limit": 2, "offset": 2})
    assert [s["id"] for s in page["items"]] == section_a[2:4]
    assert (page["total"], page["limit"], page["offset"]) == (6, 2, 2)
    first = page["items"][0]
    assert first == {
        "id": section_a[2],
        "name": "Student 3",
        "email": "n210003@a.edu",
        "sectionId": "E2-CSE-A",
        "rollNumber": 3,
        "isClassRepresentative": False,
        "active": True,
        "version": 0,
    }


def test_a_teacher_sees_only_the_students_of_the_sections_they_teach(world: World) -> None:
    # alice teaches section A only; bob teaches A and B
    assert world.a.outsider.id not in _student_ids(world, "a.faculty")
    assert len(_student_ids(world, "a.faculty")) == 5
    assert len(_student_ids(world, "a.other_faculty")) == 6
    outsider = f"/api/v1/students/{world.a.outsider.id}"
    assert call(world, "GET", outsider, "a.faculty")[0] == 403
    assert call(world, "GET", outsider, "a.other_faculty")[0] == 200


def test_a_student_reads_only_their_own_record(world: World) -> None:
    me, other = world.a.students[0].id, world.a.students[2].id

    status, mine = call(world, "GET", f"/api/v1/students/{me}", "a.student")
    assert (status, mine["id"]) == (200, me)
    status, problem = call(world, "GET", f"/api/v1/students/{other}", "a.student")
    assert (status, problem["code"]) == (404, "student_not_found")
    assert call(world, "GET", "/api/v1/students/NO-SUCH", "a.student")[0] == 404
    assert call(world, "GET", "/api/v1/students", "a.student")[0] == 403


def test_an_admin_enrols_changes_and_removes_a_student(world: World) -> None:
    status, created = call(
        world,
        "POST",
        "/api/v1/students",
        json={
            "id": "N219000",
            "name": "New Student",
            "email": "N219000@A.edu",
            "sectionId": "E2-CSE-B",
        },
    )
    assert status == 201, created
    assert created["email"] == "n219000@a.edu"
    assert (created["rollNumber"], created["isClassRepresentative"]) == (None, False)

    status, patched = call(
        world,
        "PATCH",
        "/api/v1/students/N219000",
        json={"rollNumber": 7, "isClassRepresentative": True, "version": 0},
    )
    assert (status, patched["rollNumber"], patched["isClassRepresentative"]) == (200, 7, True)
    status, cleared = call(world, "PATCH", "/api/v1/students/N219000", json={"rollNumber": None})
    assert (status, cleared["rollNumber"], cleared["name"]) == (200, None, "New Student")

    assert call(world, "DELETE", "/api/v1/students/N219000")[0] == 204
    assert call(world, "GET", "/api/v1/students/N219000")[0] == 404


def test_a_student_with_a_bad_email_or_section_is_refused_naming_wire_fields(
    world: World,
) -> None:
    status, problem = call(
        world,
        "POST",
        "/api/v1/students",
        json={"id": "N219001", "name": "X", "email": "x@elsewhere.edu", "sectionId": "NOPE"},
    )

    assert (status, problem["code"]) == (422, "invalid_input")
    assert error_fields(problem) == {"email", "sectionId"}


def test_an_email_already_in_use_is_a_conflict(world: World) -> None:
    taken = world.a.students[0].email
    status, problem = call(
        world,
        "POST",
        "/api/v1/students",
        json={"id": "N219002", "name": "X", "email": taken, "sectionId": "E2-CSE-A"},
    )
    assert (status, problem["code"]) == (409, "email_taken")

    status, problem = call(
        world,
        "PATCH",
        f"/api/v1/students/{world.a.students[0].id}",
        json={"email": world.a.alice.email},
    )
    assert (status, problem["code"]) == (409, "email_taken")


def test_a_student_with_attendance_history_is_in_use(world: World) -> None:
    student = world.a.students[2].id
    marked = world.client.put(
        f"/api/v1/sessions/{world.session_a}/attendance",
        json={"marks": [{"studentId": student, "status": "late"}]},
        headers=world.headers("a.faculty"),
    )
    assert marked.status_code == 200, marked.text

    status, problem = call(world, "DELETE", f"/api/v1/students/{student}")

    assert (status, problem["code"]) == (409, "in_use")
    assert call(world, "GET", f"/api/v1/students/{student}")[0] == 200


def test_deleting_a_student_frees_their_device(world: World) -> None:
    student = world.a.students[4]
    uow = world.uow()
    with uow.for_institution(world.a.id):
        uow.devices.add(
            DeviceBinding(world.a.id, student.id, DeviceId("phone-0005-x"), world.clock.now())
        )
        uow.commit()

    assert call(world, "DELETE", f"/api/v1/students/{student.id}")[0] == 204

    with uow.for_institution(world.a.id):
        assert uow.devices.for_device(DeviceId("phone-0005-x")) is None


def test_the_older_student_routes_still_answer(world: World) -> None:
    student = world.a.students[0].id
    assert call(world, "GET", f"/api/v1/students/{student}/attendance")[0] == 200
    assert call(world, "POST", f"/api/v1/students/{student}/device-reset")[0] == 200


# -- faculty ----------------------------------------------------------------------------
def _faculty_ids(world: World, **params: Any) -> list[str]:
    status, page = call(world, "GET", "/api/v1/faculty", params=params)
    assert status == 200, page
    return [f["id"] for f in page["items"]]


def test_faculty_are_filtered_by_department_subject_and_admin_role(world: World) -> None:
    assert _faculty_ids(world) == ["ADM", "F001", "F002"]
    assert _faculty_ids(world, department="cse") == ["F001"]
    assert _faculty_ids(world, qualifiedSubject="MA101") == ["F002"]
    assert _faculty_ids(world, qualifiedSubject="CS101") == ["F001", "F002"]
    assert _faculty_ids(world, isAdmin="true") == ["ADM"]
    assert _faculty_ids(world, isAdmin="false", q="bob") == ["F002"]
    _, bob = call(world, "GET", "/api/v1/faculty/F002")
    assert bob["qualifiedSubjects"] == ["CS101", "MA101"]
    assert (bob["maxCoversPerDay"], bob["isAdmin"], bob["version"]) == (None, False, 0)
    assert call(world, "GET", "/api/v1/faculty", "a.faculty")[0] == 200
    assert call(world, "GET", "/api/v1/faculty", "a.student")[0] == 403


def test_an_admin_adds_and_edits_a_teacher(world: World) -> None:
    status, created = call(
        world,
        "POST",
        "/api/v1/faculty",
        json={
            "id": "F010",
            "name": "Carol",
            "email": "carol@a.edu",
            "department": "PHY",
            "qualifiedSubjects": ["MA101"],
            "maxCoversPerDay": 1,
        },
    )
    assert status == 201, created
    assert (created["qualifiedSubjects"], created["maxCoversPerDay"]) == (["MA101"], 1)

    status, patched = call(
        world,
        "PATCH",
        "/api/v1/faculty/F010",
        json={"qualifiedSubjects": ["CS101", "MA101"], "maxCoversPerWeek": 3, "isAdmin": True},
    )
    assert status == 200, patched
    assert patched["qualifiedSubjects"] == ["CS101", "MA101"]
    assert (patched["maxCoversPerWeek"], patched["isAdmin"]) == (3, True)
    assert call(world, "DELETE", "/api/v1/faculty/F010")[0] == 204


def test_an_unknown_qualified_subject_is_refused(world: World) -> None:
    status, problem = call(
        world, "PATCH", "/api/v1/faculty/F001", json={"qualifiedSubjects": ["NOPE1"]}
    )

    assert (status, error_fields(problem)) == (422, {"qualifiedSubjects"})


def test_an_admin_can_neither_demote_nor_delete_themself(world: World) -> None:
    status, problem = call(world, "PATCH", "/api/v1/faculty/ADM", json={"isAdmin": False})
    assert (status, problem["code"]) == (409, "self_demotion")

    status, problem = call(world, "DELETE", "/api/v1/faculty/ADM")
    assert (status, problem["code"]) == (409, "self_deletion")


def test_a_teacher_with_assignments_is_in_use(world: World) -> None:
    status, problem = call(world, "DELETE", "/api/v1/faculty/F001")

    assert (status, problem["code"]) == (409, "in_use")


def test_teachers_cannot_change_teachers(world: World) -> None:
    status, _ = call(world, "PATCH", "/api/v1/faculty/F001", "a.faculty", json={"name": "Me"})

    assert status == 403


# -- subjects ---------------------------------------------------------------------------
def test_subjects_are_created_filtered_by_kind_searched_and_deleted(world: World) -> None:
    status, lab = call(
        world,
        "POST",
        "/api/v1/subjects",
        json={"code": "CS391", "shortName": "DSL", "name": "Data Structures Lab", "kind": "lab"},
    )
    assert status == 201, lab
    assert lab == {
        "code": "CS391",
        "shortName": "DSL",
        "name": "Data Structures Lab",
        "kind": "lab",
        "version": 0,
    }

    _, labs = call(world, "GET", "/api/v1/subjects", params={"kind": "lab"})
    assert [s["code"] for s in labs["items"]] == ["CS391"]
    _, theory = call(world, "GET", "/api/v1/subjects", params={"kind": "theory"})
    assert [s["code"] for s in theory["items"]] == ["CS101", "MA101"]
    _, found = call(world, "GET", "/api/v1/subjects", params={"q": "data structures"})
    assert [s["code"] for s in found["items"]] == ["CS101", "CS391"]

    status, patched = call(world, "PATCH", "/api/v1/subjects/CS391", json={"kind": "theory"})
    assert (status, patched["kind"], patched["version"]) == (200, "theory", 1)
    status, problem = call(world, "PATCH", "/api/v1/subjects/CS391", json={"code": "CS392"})
    assert (status, problem["code"]) == (422, "invalid_input")
    assert call(world, "DELETE", "/api/v1/subjects/CS391")[0] == 204


def test_a_subject_with_an_unknown_kind_is_refused(world: World) -> None:
    status, _ = call(
        world,
        "POST",
        "/api/v1/subjects",
        json={"code": "CS999", "shortName": "X", "name": "X", "kind": "seminar"},
    )

    assert status == 422


def test_a_taught_subject_is_in_use(world: World) -> None:
    status, problem = call(world, "DELETE", "/api/v1/subjects/CS101")

    assert (status, problem["code"]) == (409, "in_use")


# -- teaching assignments ---------------------------------------------------------------
def test_assignments_get_generated_ids_and_are_filtered(world: World) -> None:
    status, created = call(
        world,
        "POST",
        "/api/v1/assignments",
        json={"facultyId": "F001", "subjectCode": "MA101", "sectionId": "E2-CSE-B"},
    )
    assert status == 201, created
    assert created["id"]
    assert created["version"] == 0

    def ids(**params: Any) -> list[str]:
        return [
            a["id"] for a in call(world, "GET", "/api/v1/assignments", params=params)[1]["items"]
        ]

    assert ids(facultyId="F002") == ["A2", "A3"]
    assert set(ids(facultyId="F001")) == {"A1", created["id"]}
    assert set(ids(sectionId="E2-CSE-B")) == {"A3", created["id"]}
    assert ids(subjectCode="MA101", sectionId="E2-CSE-A") == ["A2"]
    assert call(world, "GET", f"/api/v1/assignments/{created['id']}", "a.faculty")[0] == 200


def test_an_assignment_needs_existing_teacher_subject_and_section(world: World) -> None:
    status, problem = call(
        world,
        "POST",
        "/api/v1/assignments",
        json={"facultyId": "F999", "subjectCode": "XX1", "sectionId": "E2-CSE-A"},
    )

    assert (status, error_fields(problem)) == (422, {"facultyId", "subjectCode"})


def test_the_same_teacher_subject_and_section_twice_is_a_conflict(world: World) -> None:
    status, _ = call(
        world,
        "POST",
        "/api/v1/assignments",
        json={"facultyId": "F001", "subjectCode": "CS101", "sectionId": "E2-CSE-A"},
    )

    assert status == 409


def test_an_assignment_with_sessions_keeps_its_subject_and_section(world: World) -> None:
    status, problem = call(world, "PATCH", "/api/v1/assignments/A1", json={"sectionId": "E2-CSE-B"})
    assert (status, problem["code"]) == (409, "in_use")

    status, problem = call(world, "DELETE", "/api/v1/assignments/A1")
    assert (status, problem["code"]) == (409, "in_use")


def test_handing_an_assignment_to_a_busy_teacher_is_a_schedule_conflict(world: World) -> None:
    # bob's CS101 for B meets at 09:00, when alice teaches A every weekday
    status, problem = call(world, "PATCH", "/api/v1/assignments/A3", json={"facultyId": "F001"})

    assert (status, problem["code"]) == (409, "schedule_conflict")
    assert {c["kind"] for c in problem["clashes"]} == {"teacher"}
    assert {c["with"] for c in problem["clashes"]} == {f"A1-{d}" for d in range(1, 6)}

    # bob's MA101 for A meets at 10:00, when alice is free
    status, moved = call(world, "PATCH", "/api/v1/assignments/A2", json={"facultyId": "F001"})
    assert (status, moved["facultyId"]) == (200, "F001")


def test_deleting_an_assignment_without_sessions_deletes_its_slots(world: World) -> None:
    status, _ = call(
        world,
        "POST",
        "/api/v1/assignments",
        json={"id": "A9", "facultyId": "F001", "subjectCode": "MA101", "sectionId": "E2-CSE-B"},
    )
    assert status == 201
    status, _ = call(
        world,
        "POST",
        "/api/v1/slots",
        json={"id": "A9-6", "assignmentId": "A9", "weekday": 6, "start": "09:00", "end": "10:00"},
    )
    assert status == 201

    assert call(world, "DELETE", "/api/v1/assignments/A9")[0] == 204

    assert call(world, "GET", "/api/v1/slots/A9-6")[0] == 404


# -- weekly slots -----------------------------------------------------------------------
def _slot_ids(world: World, **params: Any) -> list[str]:
    status, page = call(world, "GET", "/api/v1/slots", params={"limit": 500, **params})
    assert status == 200, page
    return [s["id"] for s in page["items"]]


def test_slots_are_listed_by_weekday_and_start_and_filtered(world: World) -> None:
    assert _slot_ids(world)[:3] in (["A1-1", "A3-1", "A2-1"], ["A3-1", "A1-1", "A2-1"])
    assert _slot_ids(world, weekday=1) == ["A1-1", "A3-1", "A2-1"]
    assert _slot_ids(world, sectionId="E2-CSE-A", weekday=2) == ["A1-2", "A2-2"]
    assert len(_slot_ids(world, facultyId="F002")) == 10
    assert _slot_ids(world, assignmentId="A1") == [f"A1-{d}" for d in range(1, 6)]
    _, slot = call(world, "GET", "/api/v1/slots/A2-3")
    assert slot == {
        "id": "A2-3",
        "assignmentId": "A2",
        "weekday": 3,
        "start": "10:00:00",
        "end": "11:00:00",
        "venue": "Room A2",
        "version": 0,
    }


def test_a_slot_that_double_books_teacher_and_section_names_both_clashes(world: World) -> None:
    # alice teaches A at 09:00 on Monday and section B has bob's CS101 then
    status, _ = call(
        world,
        "POST",
        "/api/v1/assignments",
        json={"id": "A9", "facultyId": "F001", "subjectCode": "MA101", "sectionId": "E2-CSE-B"},
    )
    assert status == 201

    status, problem = call(
        world,
        "POST",
        "/api/v1/slots",
        json={"assignmentId": "A9", "weekday": 1, "start": "09:30:00", "end": "10:30:00"},
    )

    assert (status, problem["code"]) == (409, "schedule_conflict")
    assert problem["clashes"] == [
        {"kind": "section", "with": "A3-1"},
        {"kind": "teacher", "with": "A1-1"},
    ]

    status, slot = call(
        world,
        "POST",
        "/api/v1/slots",
        json={"assignmentId": "A9", "weekday": 1, "start": "10:00:00", "end": "11:00:00"},
    )
    assert status == 201, slot  # right after alice's 09:00–10:00 class: adjacent, no clash


def test_two_slots_in_one_room_at_once_are_a_venue_clash(world: World) -> None:
    status, _ = call(
        world,
        "POST",
        "/api/v1/slots",
        json={
            "id": "A1-6",
            "assignmentId": "A1",
            "weekday": 6,
            "start": "09:00",
            "end": "10:00",
            "venue": "Lab 1",
        },
    )
    assert status == 201

    status, problem = call(
        world,
        "POST",
        "/api/v1/slots",
        json={
            "assignmentId": "A3",
            "weekday": 6,
            "start": "09:30",
            "end": "10:30",
            "venue": " lab 1 ",
        },
    )

    assert (status, problem["clashes"]) == (409, [{"kind": "venue", "with": "A1-6"}])


def test_moving_a_slot_onto_a_busy_time_is_refused(world: World) -> None:
    status, problem = call(
        world, "PATCH", "/api/v1/slots/A2-1", json={"start": "09:00", "end": "10:00"}
    )
    assert (status, problem["code"]) == (409, "schedule_conflict")
    assert call(world, "GET", "/api/v1/slots/A2-1")[1]["start"] == "10:00:00"

    status, moved = call(
        world, "PATCH", "/api/v1/slots/A2-1", json={"start": "11:00", "end": "12:00", "version": 0}
    )
    assert (status, moved["start"], moved["end"], moved["version"]) == (
        200,
        "11:00:00",
        "12:00:00",
        1,
    )
    assert call(world, "DELETE", "/api/v1/slots/A2-1")[0] == 204


def test_slot_times_must_be_times_of_day_in_order(world: World) -> None:
    body = {"assignmentId": "A1", "weekday": 6, "start": "25:00", "end": "26:00"}
    status, problem = call(world, "POST", "/api/v1/slots", json=body)
    assert (status, error_fields(problem)) == (422, {"start", "end"})

    body = {"assignmentId": "A1", "weekday": 6, "start": "11:00", "end": "10:00"}
    status, problem = call(world, "POST", "/api/v1/slots", json=body)
    assert (status, error_fields(problem)) == (422, {"end"})

    body = {"assignmentId": "A1", "weekday": 8, "start": "10:00", "end": "11:00"}
    assert call(world, "POST", "/api/v1/slots", json=body)[0] == 422


# -- terms ------------------------------------------------------------------------------
def test_terms_never_overlap(world: World) -> None:
    status, spring = call(
        world,
        "POST",
        "/api/v1/terms",
        json={"name": "Spring 2027", "start": "2027-01-04", "end": "2027-05-28"},
    )
    assert status == 201, spring
    assert spring["id"]

    status, problem = call(
        world,
        "POST",
        "/api/v1/terms",
        json={"name": "Overlap", "start": "2026-12-01", "end": "2027-01-10"},
    )
    assert (status, problem["code"]) == (409, "term_overlap")

    status, problem = call(
        world, "PATCH", f"/api/v1/terms/{spring['id']}", json={"start": "2026-12-18"}
    )
    assert (status, problem["code"]) == (409, "term_overlap")

    _, listed = call(world, "GET", "/api/v1/terms", "a.student")
    assert [t["name"] for t in listed["items"]] == ["Autumn 2026", "Spring 2027"]
    assert call(world, "DELETE", f"/api/v1/terms/{spring['id']}")[0] == 204


def test_a_term_must_not_end_before_it_starts(world: World) -> None:
    status, problem = call(
        world,
        "POST",
        "/api/v1/terms",
        json={"name": "Backwards", "start": "2027-05-01", "end": "2027-04-01"},
    )

    assert (status, error_fields(problem)) == (422, {"end"})


# -- holidays ---------------------------------------------------------------------------
def test_declaring_a_holiday_cancels_and_announces_that_days_classes(world: World) -> None:
    status, declared = call(
        world, "POST", "/api/v1/holidays", json={"date": TUESDAY, "name": "Founders' Day"}
    )

    assert status == 201, declared
    assert (declared["date"], declared["name"]) == (TUESDAY, "Founders' Day")
    assert len(declared["cancelledSessions"]) == 3
    _, tuesday = call(world, "GET", "/api/v1/sessions", params={"from": TUESDAY, "to": TUESDAY})
    assert {s["status"] for s in tuesday["items"]} == {"cancelled"}
    assert {s["id"] for s in tuesday["items"]} == set(declared["cancelledSessions"])
    told = [n for n in outbox(world) if n.kind == SESSION_CHANGED_KIND]
    assert sorted(n.data["sessionId"] for n in told) == sorted(declared["cancelledSessions"])
    assert all(n.data["change"] == "cancelled" for n in told)
    assert all("Founders' Day" in n.body for n in told)
    # the other institution keeps its classes
    _, b_tuesday = call(
        world, "GET", "/api/v1/sessions", "b.admin", params={"from": TUESDAY, "to": TUESDAY}
    )
    assert {s["status"] for s in b_tuesday["items"]} == {"scheduled"}


def test_a_holiday_leaves_a_class_already_open_that_day(world: World) -> None:
    opened = world.client.post(
        f"/api/v1/sessions/{world.session_a}/attendance-code", headers=world.headers("a.faculty")
    )
    assert opened.status_code == 200

    _, declared = call(world, "POST", "/api/v1/holidays", json={"date": "2026-11-16"})

    assert world.session_a not in declared["cancelledSessions"]
    assert len(declared["cancelledSessions"]) == 2
    assert call(world, "GET", f"/api/v1/sessions/{world.session_a}")[1]["status"] == "open"


def test_holidays_are_listed_removed_and_declared_once(world: World) -> None:
    for day in ("2026-12-25", "2027-01-26"):
        assert call(world, "POST", "/api/v1/holidays", json={"date": day})[0] == 201
    status, problem = call(world, "POST", "/api/v1/holidays", json={"date": "2026-12-25"})
    assert (status, problem["code"]) == (409, "holiday_exists")

    _, december = call(world, "GET", "/api/v1/holidays", "a.student", params={"from": "2026-12-01"})
    assert december["items"] == [
        {"date": "2026-12-25", "name": ""},
        {"date": "2027-01-26", "name": ""},
    ]
    _, until = call(world, "GET", "/api/v1/holidays", params={"to": "2026-12-31"})
    assert [h["date"] for h in until["items"]] == ["2026-12-25"]

    assert call(world, "DELETE", "/api/v1/holidays/2026-12-25")[0] == 204
    assert call(world, "DELETE", "/api/v1/holidays/2026-12-25")[0] == 404
    assert call(world, "DELETE", "/api/v1/holidays/2027-01-26", "b.admin")[0] == 404
    assert call(world, "POST", "/api/v1/holidays", "a.faculty", json={"date": TUESDAY})[0] == 403
    assert call(world, "GET", "/api/v1/holidays")[1]["total"] == 1


# -- institution settings ---------------------------------------------------------------
def test_an_admin_reads_and_changes_the_settings(world: World) -> None:
    status, settings = call(world, "GET", "/api/v1/institution/settings")
    assert status == 200
    assert (settings["id"], settings["timezone"], settings["emailDomains"]) == (
        "inst-a",
        "Asia/Kolkata",
        ["a.edu"],
    )
    assert settings["lateAfterMinutes"] == 10
    assert settings["cover"]["weightFairness"] == 20

    status, changed = call(
        world,
        "PATCH",
        "/api/v1/institution/settings",
        json={
            "name": "A College",
            "lateAfterMinutes": 15,
            "attendanceThreshold": "80",
            "campusNetworks": ["10.0.0.0/8"],
            "cover": {"weightFairness": 30},
            "version": settings["version"],
        },
    )

    assert status == 200, changed
    assert (changed["name"], changed["lateAfterMinutes"]) == ("A College", 15)
    assert float(changed["attendanceThreshold"]) == 80
    assert changed["campusNetworks"] == ["10.0.0.0/8"]
    assert changed["cover"]["weightFairness"] == 30
    assert changed["cover"]["weightQualified"] == settings["cover"]["weightQualified"]
    assert changed["checkInWindowMinutes"] == settings["checkInWindowMinutes"]
    assert changed["version"] == settings["version"] + 1
    assert call(world, "GET", "/api/v1/institution/settings", "b.admin")[1]["name"] == (
        "College inst-b"
    )

    status, problem = call(
        world,
        "PATCH",
        "/api/v1/institution/settings",
        json={"lateAfterMinutes": 5, "version": settings["version"]},
    )
    assert (status, problem["code"]) == (409, "concurrent_update")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"attendanceThreshold": "NaN"}, "attendanceThreshold"),
        ({"attendanceThreshold": 101}, "attendanceThreshold"),
        ({"campusNetworks": ["not-a-network"]}, "campusNetworks"),
        ({"cover": {"weightFairness": -1}}, "cover.weightFairness"),
        ({"name": "   "}, "name"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    status, problem = call(world, "PATCH", "/api/v1/institution/settings", json=body)

    assert status == 422, problem
    assert field in error_fields(problem) or any(
        field in e["field"] or field in e["message"] for e in problem["errors"]
    )
    assert call(world, "GET", "/api/v1/institution/settings")[1]["version"] == 0


def test_only_admins_see_the_settings(world: World) -> None:
    for who in ("a.student", "a.cr", "a.faculty", "a.other_faculty", "operator"):
        assert call(world, "GET", "/api/v1/institution/settings", who)[0] == 403
        assert call(world, "PATCH", "/api/v1/institution/settings", who, json={})[0] == 403


def test_unknown_settings_are_refused(world: World) -> None:
    status, _ = call(
        world, "PATCH", "/api/v1/institution/settings", json={"emailDomains": ["evil.example"]}
    )
    assert status == 422
    status, _ = call(
        world, "PATCH", "/api/v1/institution/settings", json={"cover": {"weightLuck": 10}}
    )
    assert status == 422
