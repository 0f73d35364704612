"""The openpyxl workbook writer: drop-down lists, neutralised text, numbers and times."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import openpyxl
from openpyxl.workbook.workbook import Workbook

from ams_adapters.excel import OpenpyxlWorkbookWriter
from ams_adapters.excel.writer import neutralise
from ams_core.ports.workbooks import Sheet

HOSTILE = ('=HYPERLINK("http://x","y")', "+1-2", "-1+1", "@SUM(A1)", "\t=1")


def _write(*sheets: Sheet) -> Workbook:
    data = OpenpyxlWorkbookWriter().write(list(sheets))
    return openpyxl.load_workbook(io.BytesIO(data))


def _values(workbook: Workbook, title: str) -> list[list[Any]]:
    return [list(row) for row in workbook[title].iter_rows(values_only=True)]


def _lists(workbook: Workbook, title: str) -> dict[str, str]:
    """Each list validation of a sheet: its cell range -> its ``formula1``."""
    found = {}
    for validation in workbook[title].data_validations.dataValidation:
        assert validation.type == "list"
        found[str(validation.sqref)] = str(validation.formula1)
    return found


def test_choices_become_a_drop_down_list_over_the_columns_data_rows() -> None:
    workbook = _write(
        Sheet(
            "Subjects",
            ("Code", "Kind", "Elective"),
            [("CS101", "theory", "no")],
            choices={1: ("theory", "lab"), 2: ("yes", "no")},
        )
    )
    assert _lists(workbook, "Subjects") == {"B2:B1000": '"theory,lab"', "C2:C1000": '"yes,no"'}
    assert _values(workbook, "Subjects") == [
        ["Code", "Kind", "Elective"],
        ["CS101", "theory", "no"],
    ]


def test_a_sheet_without_choices_has_no_validation() -> None:
    workbook = _write(Sheet("Plain", ("A",), [(1,)]))
    assert _lists(workbook, "Plain") == {}


def test_choices_that_cannot_be_written_inline_are_read_from_a_hidden_sheet() -> None:
    long = [f"option number {n}" for n in range(40)]  # far over Excel's 255 characters
    workbook = _write(
        Sheet("Long", ("Pick", "Comma"), [], choices={0: long, 1: ("a, b", 'say "hi"')})
    )
    assert _lists(workbook, "Long") == {
        "A2:A1000": "'_choices'!$A$1:$A$40",
        "B2:B1000": "'_choices'!$B$1:$B$2",
    }
    hidden = workbook["_choices"]
    assert hidden.sheet_state == "hidden"
    assert [row[0] for row in _values(workbook, "_choices")] == long
    assert [row[1] for row in _values(workbook, "_choices")][:2] == ["a, b", 'say "hi"']
    assert workbook.sheetnames[0] == "Long"  # the hidden sheet comes last


def test_text_that_could_run_as_a_formula_is_written_as_text_with_an_apostrophe() -> None:
    workbook = _write(
        Sheet("=Title", ["=Header", "Plain"], [(text, "ok") for text in HOSTILE]),
    )
    sheet = workbook.worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)
    assert [row[0] for row in _values(workbook, sheet.title)] == [
        "'=Header",
        *("'" + text for text in HOSTILE),
    ]


def test_neutralise_leaves_harmless_values_alone() -> None:
    assert neutralise("Ada Lovelace") == "Ada Lovelace"
    assert neutralise("a=b") == "a=b"
    assert neutralise(-1) == -1
    assert neutralise(Decimal("87.5")) == 87.5
    assert neutralise(None) is None


def test_a_carriage_return_first_is_neutralised_too() -> None:
    # (not read back: XML turns the carriage return into a line feed)
    assert neutralise("\r=1") == "'\r=1"


def test_choices_are_neutralised_too() -> None:
    workbook = _write(Sheet("Odd", ("A",), [], choices={0: ("=1+1", "ok")}))
    assert _lists(workbook, "Odd") == {"A2:A1000": '"\'=1+1,ok"'}


def test_times_are_written_as_times_showing_hours_and_minutes() -> None:
    workbook = _write(
        Sheet(
            "Times",
            ("Start", "Precise", "Aware", "Date", "At"),
            [
                (
                    time(9, 30),
                    time(9, 30, 15),
                    time(14, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
                    date(2026, 11, 16),
                    datetime(2026, 11, 16, 9, 30, tzinfo=UTC),
                )
            ],
        )
    )
    start, precise, aware, day, at = workbook["Times"][2]
    assert (start.value, start.number_format, start.data_type) == (time(9, 30), "hh:mm", "d")
    assert (precise.value, precise.number_format) == (time(9, 30, 15), "hh:mm:ss")
    assert aware.value == time(14, 0)  # Excel has no time zones: the clock reading stays
    # read back naive: the date at midnight, the aware instant on its own (UTC) clock
    assert day.value == datetime(2026, 11, 16, tzinfo=UTC).replace(tzinfo=None)
    assert at.value == datetime(2026, 11, 16, 9, 30, tzinfo=UTC).replace(tzinfo=None)


def test_numbers_stay_numbers_and_the_header_is_bold_and_frozen() -> None:
    workbook = _write(Sheet("Figures", ("Held", "Percent", "Flag"), [(3, Decimal("66.67"), True)]))
    sheet = workbook["Figures"]
    assert _values(workbook, "Figures")[1] == [3, 66.67, True]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])


def test_long_titles_are_cut_to_excels_limit() -> None:
    workbook = _write(Sheet("x" * 40, ("A",), []))
    assert workbook.sheetnames == ["x" * 31]
