"""Checking the Subjects, Terms and Holidays sheets."""

from __future__ import annotations

from datetime import date

from ams_core.domain.errors import ValidationError
from ams_core.domain.ids import SubjectCode, TermId
from ams_core.domain.imports.cells import CellError, CellValue, calendar_date, text
from ams_core.domain.teaching import Holiday, Subject, SubjectKind, Term
from ams_core.use_cases.imports.sheet_input import SheetInput, rows_of
from ams_core.use_cases.imports.state import ImportState, Records

_LAB = {"lab", "labs", "laboratory", "practical", "practicals", "p", "l", "lab session"}
_THEORY = {"theory", "t", "lecture", "tutorial", "th", ""}


def subject_kind(value: CellValue) -> SubjectKind:
    """``theory`` or ``lab`` (and the words the legacy files use for them)."""
    word = text(value, 40).casefold()
    if word in _LAB:
        return SubjectKind.LAB
    if word in _THEORY:
        return SubjectKind.THEORY
    raise CellError(f"must be theory or lab, not {word!r}")


def check_subjects(
    state: ImportState, sheet: SheetInput, subjects: Records[SubjectCode, Subject]
) -> None:
    """Subjects keyed by code: short name, name and kind."""
    tally = state.tally(sheet)
    iid = state.institution.id
    for row in rows_of(sheet, state.log):
        tally.rows += 1
        code = row.read("code", lambda v: text(v, 64), required=True)
        short_name = row.read("short_name", lambda v: text(v, 100), required=True)
        name = row.read("name", lambda v: text(v, 200), required=True)
        kind = row.read("kind", subject_kind) or SubjectKind.THEORY
        if row.failed or code is None or short_name is None or name is None:
            continue
        key = SubjectCode(code)
        subjects.take(key, Subject(key, iid, short_name, name, kind), row, "code", tally)
    state.progress(tally.rows)


def check_terms(state: ImportState, sheet: SheetInput, terms: Records[str, Term]) -> None:
    """Terms keyed by name (case-insensitive): start and end dates."""
    tally = state.tally(sheet)
    iid = state.institution.id
    for row in rows_of(sheet, state.log):
        tally.rows += 1
        name = row.read("name", lambda v: text(v, 100), required=True)
        start = row.read("start", calendar_date, required=True)
        end = row.read("end", calendar_date, required=True)
        if row.failed or name is None or start is None or end is None:
            continue
        stored = terms.stored.get(name.casefold())
        term_id = stored.id if stored is not None else TermId(state.random.new_id())
        try:
            term = Term(term_id, iid, name, start, end)
        except ValidationError as error:
            row.problem("end", error.problems[0].message)
            continue
        terms.take(name.casefold(), term, row, "name", tally)
    state.progress(tally.rows)


def check_holidays(state: ImportState, sheet: SheetInput, holidays: Records[date, Holiday]) -> None:
    """Holidays keyed by date, with a name."""
    tally = state.tally(sheet)
    iid = state.institution.id
    for row in rows_of(sheet, state.log):
        tally.rows += 1
        day = row.read("date", calendar_date, required=True)
        name = row.read("name", lambda v: text(v, 200)) or ""
        if row.failed or day is None:
            continue
        holidays.take(day, Holiday(iid, day, name), row, "date", tally)
    state.progress(tally.rows)
