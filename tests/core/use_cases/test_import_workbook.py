"""The import rules on the memory adapter: every problem found, nothing written on error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import Faculty, FacultyId, ImportRejectedError, StudentId, SubjectCode
from ams_core.domain.imports import CellValue, SheetKind
from ams_core.ports.workbooks import WorkbookLimits
from ams_core.testing.builders import SmallCollege, seed_small_college
from ams_core.testing.workbooks import RowsWorkbookReader
from ams_core.use_cases.imports import ImportDefaults, ImportWorkbook, ImportWorkbookCommand

Sheets = Mapping[str, Sequence[Sequence[CellValue]]]
NOW = datetime(2026, 11, 16, 4, 0, tzinfo=UTC)


@pytest.fixture
def college() -> tuple[InMemoryUnitOfWork, SmallCollege]:
    uow = InMemoryUnitOfWork()
    return uow, seed_small_college(uow)


def run(
    uow: InMemoryUnitOfWork,
    college: SmallCollege,
    sheets: Sheets,
    *,
    dry_run: bool = False,
    defaults: ImportDefaults | None = None,
    kind: SheetKind | None = None,
    deactivate_missing: bool = False,
) -> dict[str, tuple[int, int, int]]:
    use_case = ImportWorkbook(
        uow, FixedClock(NOW), SeededRandomSource(5), RowsWorkbookReader(sheets), WorkbookLimits()
    )
    report = use_case(
        ImportWorkbookCommand(
            college.admin,
            b"",
            dry_run,
            defaults or ImportDefaults(),
            kind=kind,
            deactivate_missing=deactivate_missing,
        )
    )
    return {s.sheet: (s.created, s.updated, s.unchanged) for s in report.sheets}


def problems(
    uow: InMemoryUnitOfWork, college: SmallCollege, sheets: Sheets
) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(ImportRejectedError) as raised:
        run(uow, college, sheets)
    return [(p.sheet, p.row, p.column, p.message) for p in raised.value.import_problems]


def test_a_lab_given_by_its_period_takes_three_periods_but_never_runs_through_lunch(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college
    sheets: Sheets = {
        "Subjects": [["Code", "Short Name", "Name", "Kind"], ["LB1", "LAB", "A Lab", "lab"]],
        "Assignments": [
            ["Faculty ID", "Subject Code", "Section"],
            [c.alice.id, "LB1", c.section_a.id],
        ],
        "Timetable": [
            ["Day", "Section", "Period", "Subject Code", "Faculty ID"],
            ["SAT", c.section_a.id, 1, "LB1", c.alice.id],
            ["SAT", c.section_a.id, 3, "LB1", c.alice.id],
        ],
    }

    found = problems(uow, c, sheets)

    assert found == [
        (
            "Timetable",
            3,
            "Period",
            "a lab of 3 periods starting at period 3 would run into the break; give Start and End",
        )
    ]
    del sheets["Timetable"][2]  # type: ignore[attr-defined]
    run(uow, c, sheets)
    with uow.for_institution(c.institution.id):
        lab = next(s for s in uow.slots.list() if s.weekday == 6)
    assert (lab.start, lab.end) == (time(8, 30), time(11, 30))


def test_a_workbook_that_refers_to_what_it_creates_is_checked_in_dependency_order(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college
    sheets: Sheets = {  # sheets deliberately in the "wrong" order
        "Timetable": [
            ["Day", "Section", "Start", "End", "Subject Code", "Faculty ID"],
            ["Fri", "E3-EEE-A", "2:00 PM", "3:00 PM", "EE1", "F9"],
        ],
        "Assignments": [
            ["Faculty ID", "Subject Code", "Section", "Year", "Department"],
            ["F9", "EE1", "A", 3, "EEE"],
        ],
        "Faculty": [
            ["Faculty ID", "Name", "Department", "Qualified Subjects"],
            ["F9", "Nine", "EEE", "EE1"],
        ],
        "Subjects": [["Code", "Short Name", "Name"], ["EE1", "CIRC", "Circuits"]],
    }

    counts = run(uow, c, sheets)

    assert counts == dict.fromkeys(("Subjects", "Faculty", "Assignments", "Timetable"), (1, 0, 0))
    with uow.for_institution(c.institution.id):
        teacher = uow.faculty.get(FacultyId("F9"))
        assert teacher.qualified_subjects == frozenset({SubjectCode("EE1")})
        new = [s for s in uow.slots.list() if s.weekday == 5 and s.start == time(14, 0)]
    assert [s.end for s in new] == [time(15, 0)]


def test_an_email_taken_by_someone_else_and_one_outside_the_domains_are_refused(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college
    taken = c.students[1]
    sheets: Sheets = {
        "Students": [
            ["Student ID", "Name", "Email", "Section"],
            ["X1", "New", taken.email.upper(), c.section_a.id],
            ["X2", "Other", "x2@gmail.com", c.section_a.id],
            ["X3", "Third", "not-an-address", c.section_a.id],
        ]
    }

    found = {(row, message.split(" ")[0]) for _, row, _, message in problems(uow, c, sheets)}

    assert found == {(2, taken.email), (3, "'gmail.com'"), (4, "'not-an-address'")}


def test_two_students_may_swap_nothing_but_one_may_take_an_address_another_gives_up(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college
    giver, taker = c.students[0], c.students[2]
    sheets: Sheets = {
        "Students": [
            ["Student ID", "Name", "Email", "Section"],
            [giver.id, giver.name, "new-address@a.edu", c.section_a.id],
            [taker.id, taker.name, giver.email, c.section_a.id],
        ]
    }

    assert run(uow, c, sheets, dry_run=True) == {"Students": (0, 2, 0)}


def test_every_error_is_counted_but_only_the_first_two_hundred_are_listed(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college
    rows: list[list[CellValue]] = [["Student ID", "Name", "Section"]]
    rows += [[f"S{i}", "", c.section_a.id] for i in range(250)]

    with pytest.raises(ImportRejectedError) as raised:
        run(uow, c, {"Students": rows})

    assert (len(raised.value.import_problems), raised.value.total) == (200, 250)


def test_a_sheet_without_a_required_column_or_with_a_column_twice_is_refused(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college

    found = problems(
        uow,
        c,
        {
            "Students": [["Student ID", "Full Name", "Name"], ["S1", "A", "A"]],
            "Subjects": [["Code", "Name"], ["C1", "Name"]],
        },
    )

    assert ("Students", 1, "Name", "names the same column as 'Full Name'") in found
    assert ("Students", 1, "Section", "this column is required but missing") in found
    assert ("Subjects", 1, "Short Name", "this column is required but missing") in found


def test_a_sheet_whose_kind_cannot_be_told_is_named_in_the_problem(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college

    found = problems(uow, c, {"Sheet1": [["Colour", "Size"], ["red", 3]]})

    assert found[0][:3] == ("Sheet1", 1, None)
    assert "cannot tell what this sheet holds" in found[0][3]


def test_the_kind_given_for_a_one_sheet_upload_decides_over_its_headers(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college
    sheet = {"Sheet1": [["id", "name", "department"], ["F77", "Seven", "MATH"]]}

    assert run(uow, c, sheet, kind=SheetKind.FACULTY) == {"Sheet1": (1, 0, 0)}


def test_terms_and_holidays_are_keyed_by_name_and_date(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college
    sheets: Sheets = {
        "Terms": [["Name", "Start", "End"], [c.term.name, c.term.start, "2030-01-01"]],
        "Holidays": [["Date", "Name"], ["2026-12-25", "Christmas"]],
    }

    first = run(uow, c, sheets)
    sheets["Holidays"][1][1] = "Xmas"  # type: ignore[index]
    second = run(uow, c, sheets)

    assert first == {"Terms": (0, 1, 0), "Holidays": (1, 0, 0)}
    assert second == {"Terms": (0, 0, 1), "Holidays": (0, 1, 0)}
    with uow.for_institution(c.institution.id):
        assert [h.name for h in uow.holidays.list()] == ["Xmas"]
        assert uow.terms.get(c.term.id).end.isoformat() == "2030-01-01"


def test_a_student_roll_number_and_cr_flag_are_kept_when_their_columns_are_absent(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college
    with uow.for_institution(c.institution.id):
        before = uow.students.get(c.students[1].id)
    sheet = {
        "Students": [["Student ID", "Name", "Section"], [before.id, "Renamed", before.section_id]]
    }

    assert run(uow, c, sheet) == {"Students": (0, 1, 0)}
    with uow.for_institution(c.institution.id):
        after = uow.students.get(StudentId(before.id))
    assert (after.name, after.roll_number, after.is_class_representative) == (
        "Renamed",
        before.roll_number,
        before.is_class_representative,
    )


def test_a_full_roster_deactivates_who_it_leaves_out_and_a_later_import_brings_them_back(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college
    kept, left_out = c.students[:4], c.students[4]
    header: list[CellValue] = ["Student ID", "Name", "Email", "Section"]
    roster: list[list[CellValue]] = [header]
    roster += [[s.id, s.name, s.email, s.section_id] for s in kept]

    counts = run(uow, c, {"Students": roster}, deactivate_missing=True)

    with uow.for_institution(c.institution.id):
        assert not uow.students.get(left_out.id).active
        assert left_out.id not in uow.students.ids_in_section(c.section_a.id)
        assert uow.students.get(c.outsider.id).active  # section B was not on the roster
    assert counts == {"Students": (0, 0, 4)}
    again: list[list[CellValue]] = [
        *roster,
        [left_out.id, left_out.name, left_out.email, left_out.section_id],
    ]
    assert run(uow, c, {"Students": again}) == {"Students": (0, 1, 4)}
    with uow.for_institution(c.institution.id):
        assert uow.students.get(left_out.id).active
        assert left_out.id in uow.students.ids_in_section(c.section_a.id)


def test_a_faculty_roster_deactivates_only_with_the_option_and_never_an_admin(
    college: tuple[InMemoryUnitOfWork, SmallCollege],
) -> None:
    uow, c = college
    with uow.for_institution(c.institution.id):
        uow.faculty.add(
            Faculty(
                FacultyId("ADM"),
                c.institution.id,
                "Adm",
                "adm@a.edu",
                c.bob.department,
                is_admin=True,
            )
        )
        uow.commit()
    header: list[CellValue] = ["Faculty ID", "Name", "Email", "Department"]
    faculty: list[list[CellValue]] = [header]
    faculty.append([c.alice.id, c.alice.name, c.alice.email, c.bob.department])

    run(uow, c, {"Faculty": faculty})
    with uow.for_institution(c.institution.id):
        assert uow.faculty.get(c.bob.id).active
    run(uow, c, {"Faculty": faculty}, deactivate_missing=True)
    with uow.for_institution(c.institution.id):
        assert not uow.faculty.get(c.bob.id).active
        assert uow.faculty.get(FacultyId("ADM")).active
