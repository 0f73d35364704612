"""A cover plan as an Excel workbook when ``Accept`` asks for one.

Bob (F002) is away on Tuesday 2026-11-17 from 09:00 to 11:00: his CS101 class for section B
(09:00) and his MA101 class for section A (10:00) need cover. The admin is excluded from
covering bob, and alice teaches at 09:00 herself, so the plan gives alice the 10:00 class
and leaves the 09:00 class uncovered.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import openpyxl
import pytest

from ams_core.ports.workbooks import XLSX_MEDIA_TYPE
from tests.http.conftest import World
from tests.http.test_cover_api import TUESDAY, bob_reports_his_absence
from tests.http.test_management_api import call

NEED_COLUMNS = ["Need ID", "Date", "Start", "End", "Section", "Subject code", "Absent teacher"]


@pytest.fixture
def plan(world: World) -> dict[str, Any]:
    """The draft plan for Tuesday: one class covered by alice, one left uncovered."""
    status, excluded = call(
        world,
        "POST",
        "/api/v1/cover/preferences",
        json={"substituteId": "ADM", "kind": "excluded", "facultyId": "F002"},
    )
    assert status == 201, excluded
    bob_reports_his_absence(world, start=f"{TUESDAY}T09:00:00+05:30")
    status, built = call(
        world, "POST", "/api/v1/cover/plans", json={"from": TUESDAY, "to": TUESDAY}
    )
    assert status == 201, built
    assert (len(built["assignments"]), len(built["uncovered"])) == (1, 1)
    return dict(built)


def _xlsx(world: World, plan_id: str, who: str = "a.admin") -> Any:
    return world.client.get(
        f"/api/v1/cover/plans/{plan_id}",
        headers={**world.headers(who), "Accept": XLSX_MEDIA_TYPE},
    )


def _need(world: World, need_id: str) -> dict[str, Any]:
    status, need = call(world, "GET", f"/api/v1/cover/needs/{need_id}")
    assert status == 200, need
    return dict(need)


def _need_cells(need: dict[str, Any]) -> list[Any]:
    day = datetime.fromisoformat(need["date"])  # a date reads back as its midnight
    return [
        need["id"],
        day,
        datetime.fromisoformat(need["start"]),
        datetime.fromisoformat(need["end"]),
        need["sectionId"],
        need["subjectCode"],
        need["absentFacultyId"],
    ]


def _as_read(row: tuple[Any, ...]) -> list[Any]:
    """A data row with its start and end instants parsed, to compare with the JSON."""
    cells = list(row)
    cells[2:4] = [datetime.fromisoformat(cells[2]), datetime.fromisoformat(cells[3])]
    return cells


def test_the_plan_workbook_lists_its_assignments_and_uncovered_needs_as_the_json_does(
    world: World, plan: dict[str, Any]
) -> None:
    status, read = call(world, "GET", f"/api/v1/cover/plans/{plan['id']}")
    assert (status, read) == (200, plan)

    answer = _xlsx(world, plan["id"])

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX_MEDIA_TYPE
    assert "accept" in answer.headers["vary"].lower()
    assert answer.headers["content-disposition"] == (
        'attachment; filename="cover-plan-2026-11-17-to-2026-11-17-draft.xlsx"'
    )
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert workbook.sheetnames == ["Assignments", "Uncovered"]
    assert not any(
        cell.data_type == "f" for sheet in workbook for row in sheet.iter_rows() for cell in row
    )

    assignments = list(workbook["Assignments"].iter_rows(values_only=True))
    assert list(assignments[0]) == [*NEED_COLUMNS, "Substitute", "Score", "Reasons", "Need status"]
    [planned] = plan["assignments"]
    need = _need(world, planned["needId"])
    assert (need["subjectCode"], need["status"]) == ("MA101", "open")
    reasons = "; ".join(f"{r['rule']} {r['points']:+d}" for r in planned["reasons"])
    assert [_as_read(row) for row in assignments[1:]] == [
        [*_need_cells(need), "F001", planned["score"], reasons, need["status"]]
    ]
    assert isinstance(assignments[1][8], int)  # the score is a number

    uncovered = list(workbook["Uncovered"].iter_rows(values_only=True))
    assert list(uncovered[0]) == [*NEED_COLUMNS, "Reason", "Need status"]
    [left] = plan["uncovered"]
    need = _need(world, left["needId"])
    assert need["subjectCode"] == "CS101"
    assert [_as_read(row) for row in uncovered[1:]] == [
        [*_need_cells(need), left["reason"], need["status"]]
    ]


def test_json_stays_the_default_for_a_plan(world: World, plan: dict[str, Any]) -> None:
    answer = world.client.get(
        f"/api/v1/cover/plans/{plan['id']}",
        headers={**world.headers("a.admin"), "Accept": "*/*"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert "accept" in answer.headers["vary"].lower()
    assert answer.json() == plan


def test_only_admins_of_the_plans_institution_get_its_workbook(
    world: World, plan: dict[str, Any]
) -> None:
    for who, status in (("a.faculty", 403), ("a.student", 403), ("b.admin", 404)):
        answer = _xlsx(world, plan["id"], who)
        assert answer.status_code == status, (who, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert _xlsx(world, "no-such-plan").status_code == 404
