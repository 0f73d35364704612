"""Importing an institution from Excel over HTTP: validated, all or nothing, idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ams_core.domain import SectionId, StudentId
from ams_core.ports.workbooks import XLSX_MEDIA_TYPE
from tests.adapters.excel import crafted
from tests.adapters.excel import test_hostile_workbooks as hostile
from tests.http.conftest import World
from tests.http.workbooks import read_back, workbook

URL = "/api/v1/imports"


def upload(
    world: World,
    data: bytes,
    *,
    dry_run: bool = False,
    who: str = "a.admin",
    deactivateMissing: str = "false",  # noqa: N803 - the query parameter's name
    **form: str,
) -> Any:
    return world.client.post(
        URL,
        params={"dryRun": str(dry_run).lower(), "deactivateMissing": deactivateMissing},
        files={"file": ("upload.xlsx", data, XLSX_MEDIA_TYPE)},
        data=form,
        headers=world.headers(who),
    )


SUBJECTS: list[list[Any]] = [
    ["code", "mnemonic", "name", "type"],
    ["CS301", "DBMS", "Database Systems", "Theory"],
    ["CS391", "DBMS LAB", "Database Lab", "Lab"],
]
LEGACY_STUDENTS: list[list[Any]] = [
    ["id", "name", "roll_number", "section"],
    ["Z910001", "Asha Rao", 1, "A"],
    ["Z910002", "Bilal Khan", 2, "A"],
    ["Z910003", "Chen Li", 3, "B"],
]
LEGACY_FACULTY: list[list[Any]] = [
    ["FacultyId", "FacultyName", "SubjectCode", "Department", "Year", "Section"],
    ["F100", "Dr. Meera", "CS301", "ECE", "E2", "A"],
    ["F100", "Dr. Meera", "CS301", "ECE", "E2", "B"],
    ["F101", "Mr. Ravi", "CS391", "ECE", "E2", "A"],
]
LEGACY_TIMETABLE: list[list[Any]] = [
    ["Day", "Section", "Period", "SubjectCode", "FacultyId", "Venue"],
    ["MON", "A", 1, "CS301", "F100", "LH-1"],
    ["TUE", "B", 2, "CS301", "F100", "LH-2"],
    ["WED", "A", 5, "CS391", "F101", "LAB-3"],
]


def test_the_legacy_upload_files_import_unchanged_with_their_form_fields(world: World) -> None:
    subjects = upload(world, workbook({"Sheet1": SUBJECTS}))
    students = upload(world, workbook({"Sheet1": LEGACY_STUDENTS}), year="E2", department="ECE")
    faculty = upload(world, workbook({"Sheet1": LEGACY_FACULTY}))
    timetable = upload(world, workbook({"Sheet1": LEGACY_TIMETABLE}), year="E2", department="ECE")

    for answer in (subjects, students, faculty, timetable):
        assert answer.status_code == 200, answer.text
    assert [s["kind"] for s in (subjects.json()["sheets"][0], students.json()["sheets"][0])] == [
        "subjects",
        "students",
    ]
    assert students.json()["sectionsCreated"] == 2
    assert faculty.json()["sheets"][0]["kind"] == "assignments"
    assert faculty.json()["facultyCreatedFromAssignments"] == 2
    assert timetable.json()["sheets"][0]["created"] == 3
    with world.uow().for_institution(world.a.id) as uow:
        asha = uow.students.get(StudentId("Z910001"))
        assert (asha.email, asha.section_id, asha.roll_number) == (
            "z910001@a.edu",
            SectionId("E2-ECE-A"),
            1,
        )
        section = uow.sections.get(SectionId("E2-ECE-A"))
        assert (section.year, section.department, section.name) == (2, "ECE", "A")
        lab = next(s for s in uow.slots.list() if s.venue == "LAB-3")
        assert (lab.weekday, str(lab.start), str(lab.end)) == (3, "13:40:00", "16:40:00")
        assert uow.faculty.get(world.a.alice.id) == world.a.alice


def _full_workbook(student_name: str = "Asha Rao") -> bytes:
    return workbook(
        {
            "Subjects": SUBJECTS,
            "Terms": [["Name", "Start", "End"], ["2027 Spring", "2027-01-04", "2027-05-28"]],
            "Holidays": [["Date", "Name"], ["2027-01-26", "Republic Day"]],
            "Faculty": [
                ["Faculty ID", "Name", "Department", "Qualified Subjects", "Max Covers Per Day"],
                ["F100", "Dr. Meera", "ECE", "CS301, CS391", 2],
            ],
            "Students": [
                ["Student ID", "Name", "Section", "Year", "Department", "Roll Number"],
                ["Z910001", student_name, "A", "E2", "ECE", 1],
                ["Z910002", "Bilal Khan", "A", "E2", "ECE", 2],
            ],
            "Assignments": [
                ["Faculty ID", "Subject Code", "Section"],
                ["F100", "CS301", "E2-ECE-A"],
            ],
            "Timetable": [
                ["Day", "Section", "Start", "End", "Subject Code", "Faculty ID", "Venue"],
                ["Thursday", "E2-ECE-A", "14:00", "15:00", "CS301", "F100", "LH-9"],
            ],
        }
    )


def _counts(answer: Any) -> dict[str, tuple[int, int, int]]:
    sheets = answer.json()["sheets"]
    return {s["sheet"]: (s["created"], s["updated"], s["unchanged"]) for s in sheets}


def test_re_importing_changes_nothing_and_one_edited_name_is_exactly_one_update(
    any_world: World,
) -> None:
    first = upload(any_world, _full_workbook())
    assert first.status_code == 200, first.text
    assert _counts(first)["Students"] == (2, 0, 0)

    again = upload(any_world, _full_workbook())
    edited = upload(any_world, _full_workbook("Asha R. Rao"))

    assert again.status_code == 200
    assert all(created == updated == 0 for created, updated, _ in _counts(again).values())
    assert _counts(edited) == {**_counts(again), "Students": (0, 1, 1)}
    with any_world.uow().for_institution(any_world.a.id) as uow:
        assert uow.students.get(StudentId("Z910001")).name == "Asha R. Rao"


def test_a_re_import_leaves_the_database_exactly_as_it_was(any_world: World) -> None:
    assert upload(any_world, _full_workbook()).status_code == 200
    before = any_world.snapshot()

    assert upload(any_world, _full_workbook()).status_code == 200

    assert any_world.snapshot() == before


def test_errors_on_several_sheets_are_all_listed_and_nothing_is_written(any_world: World) -> None:
    before = any_world.snapshot()
    bad = workbook(
        {
            "Subjects": [*SUBJECTS, ["CS301", "AGAIN", "Duplicate", "theory"]],
            "Students": [
                ["Student ID", "Name", "Email", "Section"],
                ["N1", "Ok Student", "n1@a.edu", any_world.a.section_a.id],
                ["N2", "", "n2@elsewhere.org", any_world.a.section_a.id],
                ["N3", "No Section", "n3@a.edu", "Z"],
            ],
            "Timetable": [
                ["Day", "Section", "Period", "Subject Code", "Faculty ID"],
                ["FUNDAY", any_world.a.section_a.id, 9, any_world.a.cs101.code, "F404"],
            ],
        }
    )

    answer = upload(any_world, bad)

    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "import_invalid"
    where = {(e["sheet"], e["row"], e["column"]) for e in problem["errors"]}
    assert {
        ("Subjects", 4, "code"),
        ("Students", 3, "Name"),
        ("Students", 3, "Email"),
        ("Students", 4, "Section"),
        ("Timetable", 2, "Day"),
        ("Timetable", 2, "Period"),
    } <= where
    assert problem["errorCount"] == len(problem["errors"])
    assert any_world.snapshot() == before


def test_a_dry_run_counts_what_would_change_and_writes_nothing(world: World) -> None:
    before = world.snapshot()

    answer = upload(world, _full_workbook(), dry_run=True)

    assert answer.status_code == 200
    assert answer.json()["dryRun"] is True
    assert _counts(answer)["Students"] == (2, 0, 0)
    assert world.snapshot() == before


def test_marks_and_sessions_survive_imports_that_move_deactivate_and_bring_back_a_student(
    any_world: World,
) -> None:
    world = any_world
    marked = world.a.students[0]
    put = world.client.put(
        f"/api/v1/sessions/{world.session_a}/attendance",
        json={"marks": [{"studentId": marked.id, "status": "late"}]},
        headers=world.headers("a.faculty"),
    )
    assert put.status_code == 200, put.text

    def history() -> tuple[int, list[str]]:
        with world.uow().for_institution(world.a.id) as uow:
            sessions = uow.sessions.list_for_assignment(world.a.alice_cs_a.id)
            marks = uow.marks.list_for_sessions([s.id for s in sessions])
        return len(sessions), sorted(f"{m.student_id}:{m.status.value}" for m in marks)

    before = history()
    header = ["Student ID", "Name", "Email", "Section"]
    moved = [header, [marked.id, "Renamed", marked.email, world.a.section_b.id]]
    roster = [
        header,
        [world.a.outsider.id, "Outsider", world.a.outsider.email, world.a.section_b.id],
    ]

    answers = [
        upload(world, workbook({"Students": moved})),
        upload(world, workbook({"Students": roster}), deactivateMissing="true"),
        upload(world, workbook({"Students": moved})),
    ]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [_counts(a)["Students"] for a in answers] == [(0, 1, 0), (0, 0, 1), (0, 1, 0)]
    assert answers[1].json()["sheets"][0]["deactivated"] == 1
    assert f"{marked.id}:late" in before[1]
    assert history() == before
    with world.uow().for_institution(world.a.id) as uow:
        assert uow.students.get(marked.id).active


def test_a_tenant_column_is_ignored_and_rows_land_in_the_admins_institution(
    world: World,
) -> None:
    sheet = [
        ["Student ID", "Name", "Section", "Institution"],
        ["N777", "Mallory", world.a.section_a.id, world.b.id],
    ]

    answer = upload(world, workbook({"Students": sheet}))

    assert answer.status_code == 200
    assert answer.json()["sheets"][0]["ignoredColumns"] == ["Institution"]
    with world.uow().for_institution(world.b.id) as uow:
        assert uow.students.find(StudentId("N777")) is None
    with world.uow().for_institution(world.a.id) as uow:
        assert uow.students.get(StudentId("N777")).email == "n777@a.edu"


@pytest.mark.parametrize("who", ["a.student", "a.cr", "a.faculty"])
def test_only_an_admin_imports(world: World, who: str) -> None:
    before = world.snapshot()
    sheet = [["Student ID", "Name", "Section"], ["N778", "X", world.a.section_a.id]]

    answer = upload(world, workbook({"Students": sheet}), who=who)

    assert answer.status_code == 403
    assert world.snapshot() == before


def test_another_institutions_admin_imports_into_their_own(world: World) -> None:
    sheet = [["Student ID", "Name", "Section"], ["N778", "X", world.b.section_a.id]]

    answer = upload(world, workbook({"Students": sheet}), who="b.admin")

    assert answer.status_code == 200
    with world.uow().for_institution(world.a.id) as uow:
        assert uow.students.find(StudentId("N778")) is None
    with world.uow().for_institution(world.b.id) as uow:
        assert uow.students.get(StudentId("N778")).email == "n778@b.edu"


def test_a_file_that_is_not_a_workbook_is_refused_as_unsupported(world: World) -> None:
    answer = upload(world, b"id,name,section\nN1,A,B\n")

    assert answer.status_code == 415
    assert answer.json()["code"] == "not_xlsx"


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(world: World) -> None:
    answer = upload(world, b"PK\x03\x04" + bytes(21 * 1024 * 1024))

    assert answer.status_code == 413


def test_the_legacy_form_fields_are_checked(world: World) -> None:
    answer = upload(world, workbook({"Sheet1": LEGACY_STUDENTS}), year="E99", kind="pets")

    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {"year", "kind"}


def test_the_whole_workbook_template_has_every_sheet_and_imports_as_it_comes(
    world: World,
) -> None:
    template = world.client.get(f"{URL}/templates/workbook", headers=world.headers("a.admin"))

    assert template.status_code == 200
    assert template.headers["content-type"] == XLSX_MEDIA_TYPE
    sheets = read_back(template.content)
    assert list(sheets) == [
        "Subjects",
        "Terms",
        "Holidays",
        "Faculty",
        "Students",
        "Assignments",
        "Timetable",
        "Notes",
    ]
    assert sheets["Students"][0][:2] == ("Student ID", "Name")
    imported = upload(world, template.content)
    assert imported.status_code == 200, imported.text
    assert all(s["created"] == 1 for s in imported.json()["sheets"])


def test_a_template_of_one_kind_and_an_unknown_kind(world: World) -> None:
    one = world.client.get(f"{URL}/templates/students", headers=world.headers("a.admin"))
    unknown = world.client.get(f"{URL}/templates/pets", headers=world.headers("a.admin"))

    assert list(read_back(one.content)) == ["Students", "Notes"]
    assert unknown.status_code == 422


def test_the_legacy_replace_field_is_refused_with_the_way_to_do_it_and_unknown_fields_too(
    world: World,
) -> None:
    replacing = upload(world, workbook({"Sheet1": LEGACY_STUDENTS}), replace="true", year="E2")
    unknown = upload(world, workbook({"Sheet1": LEGACY_STUDENTS}), colour="red")
    kept = upload(
        world, workbook({"Sheet1": LEGACY_STUDENTS}), replace="false", year="E2", department="X"
    )

    assert replacing.status_code == 422
    assert "deactivateMissing" in replacing.json()["errors"][0]["message"]
    assert unknown.status_code == 422
    assert kept.json()["sheets"][0]["created"] == 3


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("entity bomb", 422, "xml_entities_refused"),
        ("zip bomb", 422, "unsafe_archive"),
        ("old xls", 415, "not_xlsx"),
        ("zip slip", 422, "unsafe_archive"),
        ("cells far apart", 422, "too_many_columns"),
    ],
)
def test_hostile_files_are_refused_with_a_clear_problem_and_nothing_written(
    world: World, kind: str, status: int, code: str
) -> None:
    before = world.snapshot()
    data = HOSTILE[kind]()

    answer = upload(world, data)

    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.json()["detail"]
    assert world.snapshot() == before


def _zip_bomb() -> bytes:
    sheet = b"<worksheet>" + b" " * (64 * 1024 * 1024) + b"</worksheet>"
    return crafted.with_sheet(sheet)


def _cells_far_apart() -> bytes:
    return crafted.with_sheet(
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="150000"><c r="XFD150000"><v>1</v></c></row>'
    )


HOSTILE: dict[str, Callable[[], bytes]] = {
    "entity bomb": hostile.entity_bomb,
    "zip bomb": _zip_bomb,
    "cells far apart": _cells_far_apart,
    "old xls": lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096),
    "zip slip": lambda: crafted.rewrite(crafted.workbook(["a"]), add=[("../evil.xml", b"<a/>")]),
}
