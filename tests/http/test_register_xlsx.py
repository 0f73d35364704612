"""The section/subject register as an Excel workbook when ``Accept`` asks for one."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest

from ams_adapters.identity import JwtAccessTokens
from ams_adapters.memory import SeededRandomSource
from ams_core.domain import AssignmentId
from ams_core.ports.workbooks import XLSX_MEDIA_TYPE
from ams_core.testing.builders import OPERATOR, SmallCollege
from ams_core.use_cases import IssueLocalToken, IssueLocalTokenCommand, SignInLifetimes
from tests.http.conftest import SECRET, World

MONDAY = date(2026, 11, 16)
REGISTER = "/api/v1/reports/register"
CLASS = {"sectionId": "E2-CSE-A", "subjectCode": "CS101"}
WEEK = {**CLASS, "from": "2026-11-16", "to": "2026-11-20"}
#: section A's five students are renamed to text a spreadsheet could run as a formula
HOSTILE_NAMES = ('=HYPERLINK("http://x","y")', "+1-2", "-1+1", "@SUM(A1)", "\t=1")


def _session_on(world: World, assignment: AssignmentId, day: date) -> str:
    uow = world.uow()
    with uow.for_institution(world.a.id):
        sessions = uow.sessions.list_for_assignment(assignment)
    return next(s.id for s in sessions if s.date == day)


def _sign_in_again(world: World, seed: int) -> None:
    """Fresh access tokens at the world's current time (a day later the old ones expired);
    each call needs its own ``seed`` (the sign-in ids come from it).
    """
    tokens = JwtAccessTokens(SECRET, clock=world.clock)
    issue = IssueLocalToken(
        world.uow(), tokens, world.clock, SeededRandomSource(100 + seed), SignInLifetimes()
    )
    colleges: tuple[tuple[str, SmallCollege], ...] = (("a", world.a), ("b", world.b))
    for name, college in colleges:
        emails = {
            "student": college.students[0].email,
            "faculty": college.alice.email,
            "other_faculty": college.bob.email,
            "admin": college.admin_email,
        }
        for role, email in emails.items():
            command = IssueLocalTokenCommand(OPERATOR, email)
            world.tokens[f"{name}.{role}"] = issue(command).access_token


def _mark(world: World, session: str, statuses: list[str]) -> None:
    marks = [
        {"studentId": student.id, "status": status}
        for student, status in zip(world.a.students, statuses, strict=False)
    ]
    answer = world.client.put(
        f"/api/v1/sessions/{session}/attendance",
        json={"marks": marks},
        headers=world.headers("a.faculty"),
    )
    assert answer.status_code == 200, answer.text


def _open(world: World, session: str) -> None:
    answer = world.client.post(
        f"/api/v1/sessions/{session}/attendance-code", headers=world.headers("a.faculty")
    )
    assert answer.status_code == 200, answer.text


def _complete(world: World, session: str) -> None:
    world.clock.set(world.clock.now() + timedelta(minutes=5))
    answer = world.client.post(
        f"/api/v1/sessions/{session}/complete",
        json={"topic": "Linked lists"},
        headers=world.headers("a.faculty"),
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture
def marked_week(world: World) -> World:
    """Alice's CS101 for section A: Monday and Tuesday completed with mixed marks, and
    Wednesday still open with two marks (a column, but not yet counted).
    """
    uow = world.uow()
    with uow.for_institution(world.a.id):
        for student, name in zip(world.a.students, HOSTILE_NAMES, strict=True):
            uow.students.update(dataclasses.replace(uow.students.get(student.id), name=name))
        uow.commit()
    assignment = world.a.alice_cs_a.id
    five_past_nine = world.clock.now()  # Monday, five minutes into the class
    days = [
        ["present", "late", "absent", "excused", "present"],
        ["absent", "present", "present", "late"],  # completing marks the fifth absent
        ["present", "absent"],
    ]
    for offset, statuses in enumerate(days):
        day = MONDAY + timedelta(days=offset)
        if offset:
            world.clock.set(five_past_nine + timedelta(days=offset))
            _sign_in_again(world, seed=offset)
        session = _session_on(world, assignment, day)
        _mark(world, session, statuses)
        if offset < 2:
            _complete(world, session)
        else:
            _open(world, session)
    return world


def _json(world: World, query: dict[str, str]) -> dict[str, Any]:
    answer = world.client.get(REGISTER, params=query, headers=world.headers("a.faculty"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return dict(answer.json())


def _xlsx(world: World, query: dict[str, str], who: str = "a.faculty") -> Any:
    headers = {**world.headers(who), "Accept": XLSX_MEDIA_TYPE}
    answer = world.client.get(REGISTER, params=query, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


def _sheet(content: bytes) -> tuple[list[list[Any]], list[Any]]:
    """The register sheet's values by row, and every cell of it."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Register"]
    sheet = workbook["Register"]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    return [list(row) for row in sheet.iter_rows(values_only=True)], cells


def _expected(register: dict[str, Any]) -> list[list[Any]]:
    header = [
        "Student ID",
        "Student name",
        "Roll number",
        *(f"{s['date']} 09:00" for s in register["sessions"]),  # CS101 for A starts at 09:00
        "Held",
        "Attended",
        "Attendance %",
    ]
    rows = [
        [
            student["studentId"],
            "'" + student["name"],  # every name here could run as a formula
            student["rollNumber"],
            *student["marks"],
            student["held"],
            student["attended"],
            None if student["percent"] is None else float(student["percent"]),
        ]
        for student in register["students"]
    ]
    return [header, *rows]


def test_the_register_workbook_has_the_same_figures_as_the_json_register(
    marked_week: World,
) -> None:
    register = _json(marked_week, WEEK)
    assert [s["date"] for s in register["sessions"]] == ["2026-11-16", "2026-11-17", "2026-11-18"]
    assert [s["held"] for s in register["students"]] == [2] * 5
    assert [s["attended"] for s in register["students"]] == [1, 2, 1, 1, 1]
    rows, _ = _sheet(_xlsx(marked_week, WEEK).content)
    assert rows == _expected(register)
    assert rows[1][3:6] == ["present", "absent", "present"]
    assert rows[5][4:6] == ["absent", None]  # completing marks the rest absent; open: empty
    assert all(isinstance(row[-1], int | float) for row in rows[1:])  # numbers, not text


def test_the_register_workbook_follows_the_reporting_term_like_the_json(
    marked_week: World,
) -> None:
    register = _json(marked_week, CLASS)
    answer = _xlsx(marked_week, CLASS)
    rows, _ = _sheet(answer.content)
    assert rows == _expected(register)
    filename = f"register-E2-CSE-A-CS101-{register['from']}-to-{register['to']}.xlsx"
    assert answer.headers["content-disposition"] == f'attachment; filename="{filename}"'


def test_names_that_could_run_as_formulas_are_written_as_text(marked_week: World) -> None:
    answer = _xlsx(marked_week, WEEK, who="a.admin")
    assert answer.headers["content-type"] == XLSX_MEDIA_TYPE
    rows, cells = _sheet(answer.content)
    assert not any(cell.data_type == "f" for cell in cells)
    names = [row[1] for row in rows[1:]]
    assert all(str(name).startswith("'") for name in names)
    assert sorted(names) == sorted("'" + name for name in HOSTILE_NAMES)


def test_json_stays_the_default_and_caches_keep_the_two_apart(marked_week: World) -> None:
    answer = marked_week.client.get(
        REGISTER, params=WEEK, headers={**marked_week.headers("a.faculty"), "Accept": "*/*"}
    )
    assert answer.headers["content-type"].startswith("application/json")
    assert "accept" in answer.headers["vary"].lower()
    assert "accept" in _xlsx(marked_week, WEEK).headers["vary"].lower()


def test_the_workbook_is_refused_to_whoever_may_not_read_the_register(
    marked_week: World,
) -> None:
    for who, status in (("a.student", 403), ("a.other_faculty", 403)):
        answer = marked_week.client.get(
            REGISTER,
            params=WEEK,
            headers={**marked_week.headers(who), "Accept": XLSX_MEDIA_TYPE},
        )
        assert answer.status_code == status, (who, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_register_without_sessions_is_a_workbook_of_students_and_figures(world: World) -> None:
    register = _json(world, WEEK)
    assert register["sessions"] == []
    rows, _ = _sheet(_xlsx(world, WEEK).content)
    assert rows[0] == [
        "Student ID",
        "Student name",
        "Roll number",
        "Held",
        "Attended",
        "Attendance %",
    ]
    assert [row[0] for row in rows[1:]] == [s["studentId"] for s in register["students"]]
