"""The defaulter list as an Excel workbook when ``Accept`` asks for one."""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from typing import Any

import openpyxl
import pytest

from ams_core.domain import AssignmentId
from ams_core.ports.workbooks import XLSX_MEDIA_TYPE
from tests.http.conftest import World

MONDAY = date(2026, 11, 16)
TRICKY_NAME = '=HYPERLINK("http://evil.example","click")'
HEADER = [
    "Student ID",
    "Student name",
    "Section",
    "Subject code",
    "Subject",
    "Held",
    "Attended",
    "Excused",
    "Attendance %",
    "Remaining",
    "Need to attend",
    "Threshold %",
]


def _monday_session(world: World, assignment: AssignmentId) -> str:
    uow = world.uow()
    with uow.for_institution(world.a.id):
        sessions = uow.sessions.list_for_assignment(assignment)
    return next(s.id for s in sessions if s.date == MONDAY)


@pytest.fixture
def held_monday(world: World) -> World:
    """Alice (section A) and Bob (section B) complete Monday's CS101 with nobody marked."""
    uow = world.uow()
    with uow.for_institution(world.a.id):
        student = uow.students.get(world.a.students[2].id)
        uow.students.update(dataclasses.replace(student, name=TRICKY_NAME))
        uow.commit()
    world.clock.set(world.clock.now().replace(minute=40))
    for who, assignment in (
        ("a.faculty", world.a.alice_cs_a.id),
        ("a.other_faculty", world.a.bob_cs_b.id),
    ):
        session = _monday_session(world, assignment)
        answer = world.client.post(
            f"/api/v1/sessions/{session}/complete",
            json={"topic": "Linked lists"},
            headers=world.headers(who),
        )
        assert answer.status_code == 200, answer.text
    return world


def _json(world: World, **query: str) -> dict[str, Any]:
    answer = world.client.get(
        "/api/v1/reports/defaulters", params=query, headers=world.headers("a.admin")
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return dict(answer.json())


def _workbook(world: World, **query: str) -> tuple[Any, list[list[Any]]]:
    headers = {**world.headers("a.admin"), "Accept": XLSX_MEDIA_TYPE}
    answer = world.client.get("/api/v1/reports/defaulters", params=query, headers=headers)
    assert answer.status_code == 200, answer.text
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    sheet = workbook.active
    assert sheet is not None
    assert sheet.title == "Defaulters"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return answer, rows


def _as_row(item: dict[str, Any], threshold: str) -> list[Any]:
    attendance = item["attendance"]
    name = item["studentName"]
    return [
        item["studentId"],
        "'" + name if name.startswith(("=", "+", "-", "@")) else name,
        item["sectionId"],
        attendance["subjectCode"],
        attendance["subjectName"],
        attendance["held"],
        attendance["attended"],
        attendance["excused"],
        float(attendance["percent"]),
        attendance["remaining"],
        attendance["needToAttend"],
        float(threshold),
    ]


def test_the_workbook_has_the_json_rows(held_monday: World) -> None:
    world = held_monday
    listing = _json(world, limit="500")
    assert listing["total"] == 6  # section A's five and section B's one, all at 0 %
    answer, rows = _workbook(world)
    assert answer.headers["content-type"] == XLSX_MEDIA_TYPE
    assert "accept" in answer.headers["vary"].lower()
    disposition = answer.headers["content-disposition"]
    dates = f"{listing['from']}-to-{listing['to']}"
    assert disposition == f'attachment; filename="defaulters-{dates}.xlsx"'
    assert rows[0] == HEADER
    assert rows[1:] == [_as_row(item, listing["threshold"]) for item in listing["items"]]
    # percentages are numbers, not text
    assert all(isinstance(row[8], int | float) for row in rows[1:])


def test_the_workbook_applies_the_same_filters(held_monday: World) -> None:
    world = held_monday
    query = {"sectionId": "E2-CSE-B", "subjectCode": "CS101", "threshold": "50"}
    listing = _json(world, **query)
    assert [item["sectionId"] for item in listing["items"]] == ["E2-CSE-B"]
    answer, rows = _workbook(world, **query)
    assert rows[1:] == [_as_row(item, listing["threshold"]) for item in listing["items"]]
    assert rows[1][11] == 50.0
    dates = f"{listing['from']}-to-{listing['to']}"
    assert (
        f'filename="defaulters-E2-CSE-B-CS101-{dates}.xlsx"'
        in (answer.headers["content-disposition"])
    )


def test_the_workbook_is_not_paged(held_monday: World) -> None:
    assert len(_json(held_monday, limit="2")["items"]) == 2
    _, rows = _workbook(held_monday, limit="2")
    assert len(rows) == 1 + 6


def test_text_that_could_run_as_a_formula_is_neutralised(held_monday: World) -> None:
    _, rows = _workbook(held_monday)
    names = [row[1] for row in rows[1:]]
    assert "'" + TRICKY_NAME in names
    assert not any(str(name).startswith("=") for name in names)


def test_json_stays_the_default(held_monday: World) -> None:
    answer = held_monday.client.get(
        "/api/v1/reports/defaulters",
        headers={**held_monday.headers("a.admin"), "Accept": "*/*"},
    )
    assert answer.headers["content-type"].startswith("application/json")
    assert "accept" in answer.headers["vary"].lower()  # caches keep JSON and xlsx apart
    refused = held_monday.client.get(
        "/api/v1/reports/defaulters",
        headers={**held_monday.headers("a.student"), "Accept": XLSX_MEDIA_TYPE},
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_an_empty_list_is_a_workbook_with_the_header(world: World) -> None:
    _, rows = _workbook(world)
    assert rows == [HEADER]
