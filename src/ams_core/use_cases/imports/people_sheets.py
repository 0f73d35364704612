"""Checking the Faculty and Students sheets: ids, names, emails in the institution's domains,
sections, and emails unique among the people after the import.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Protocol, TypeVar

from ams_core.domain.errors import ValidationError
from ams_core.domain.ids import FacultyId, StudentId, SubjectCode
from ams_core.domain.imports.cells import (
    CellError,
    CellValue,
    code_list,
    is_blank,
    text,
    whole_number,
    yes_no,
)
from ams_core.domain.people import Faculty, Student, normalise_email
from ams_core.domain.teaching import Subject
from ams_core.use_cases.imports.sheet_input import Row, SheetInput, rows_of
from ams_core.use_cases.imports.state import ImportState, Records, Tally
from ams_core.use_cases.imports.student_rows import StudentRows

MAX_NAME = 200
#: rows checked between two progress reports
_PROGRESS_ROWS = 5_000
_SPACE = re.compile(r"\s")


def _id_text(value: CellValue) -> str:
    result = text(value, 64)
    if _SPACE.search(result):
        raise CellError("must not contain spaces")
    return result


def _name(value: CellValue) -> str:
    return text(value, MAX_NAME)


def _roll_number(value: CellValue) -> int:
    return whole_number(value, 0, 9_999_999)


def email_for(state: ImportState, row: Row, person_id: str) -> str | None:
    """The row's email, checked against the institution's domains; when empty, the id at the
    institution's one domain (the legacy rule), which needs the institution to have one.
    """
    domains = state.institution.email_domains
    given = row.read("email", lambda v: text(v, 254))
    if given is None:
        if len(domains) != 1:
            row.problem("email", "must be given: the institution signs in from several domains")
            return None
        return f"{person_id.lower()}@{next(iter(domains))}"
    try:
        address = normalise_email(given)
    except ValidationError as error:
        row.problem("email", error.problems[0].message)
        return None
    domain = address.rpartition("@")[2]
    if domain not in domains:
        allowed = ", ".join(sorted(domains))
        row.problem("email", f"{domain!r} is not one of the institution's domains ({allowed})")
        return None
    return address


def check_faculty(
    state: ImportState,
    sheet: SheetInput,
    faculty: Records[FacultyId, Faculty],
    subjects: Records[SubjectCode, Subject],
) -> None:
    """Teachers keyed by id: name, email, department, qualified subjects and cover caps.

    A column the sheet lacks keeps what is stored (a new teacher gets the default).
    """
    tally = state.tally(sheet)
    iid = state.institution.id
    for row in rows_of(sheet, state.log):
        tally.rows += 1
        key = row.read("id", _id_text, required=True)
        name = row.read("name", _name, required=True)
        department = row.read("department", lambda v: text(v, 100), required=True)
        email = email_for(state, row, key) if key is not None else None
        if row.failed or key is None or name is None or department is None or email is None:
            continue
        stored = faculty.stored.get(FacultyId(key))
        qualified = stored.qualified_subjects if stored is not None else frozenset()
        if row.has("qualified_subjects"):
            codes = row.read("qualified_subjects", lambda v: code_list(v, 64)) or ()
            unknown = [c for c in codes if subjects.get(SubjectCode(c)) is None]
            if unknown:
                row.problem("qualified_subjects", f"no subject {', '.join(unknown)}")
                continue
            qualified = frozenset(SubjectCode(c) for c in codes)
        per_day = stored.max_covers_per_day if stored is not None else None
        per_week = stored.max_covers_per_week if stored is not None else None
        if row.has("max_covers_per_day"):
            per_day = row.read("max_covers_per_day", lambda v: whole_number(v, 0, 20))
        if row.has("max_covers_per_week"):
            per_week = row.read("max_covers_per_week", lambda v: whole_number(v, 0, 100))
        if row.has_problems():
            continue
        new = Faculty(
            FacultyId(key),
            iid,
            name,
            email,
            department,
            qualified,
            per_day,
            per_week,
            is_admin=stored.is_admin if stored is not None else False,
        )
        faculty.take(FacultyId(key), new, row, "id", tally)
    state.progress(tally.rows)
    _check_unique_emails(state, faculty, "a teacher")


def check_students(
    state: ImportState,
    sheet: SheetInput,
    students: Records[StudentId, Student],
    *,
    fast: bool = True,
) -> None:
    """Students keyed by id: name, email, section, roll number and class representative.

    A section named by year, department and name is created when it does not exist. Plain
    rows are read by :class:`StudentRows` (``fast``), the others by the checked path.
    """
    tally = state.tally(sheet)
    log = state.log

    def checked(number: int, cells: Sequence[CellValue]) -> None:
        if not all(is_blank(c) for c in cells):
            tally.rows += 1
            _check_student(state, Row(sheet, number, cells, log), students, tally)

    reported = 0
    for start in range(0, len(sheet.rows), _PROGRESS_ROWS):
        batch = sheet.rows[start : start + _PROGRESS_ROWS]
        first = sheet.first_data_row + start
        if fast:
            StudentRows(state, sheet, students).read(batch, first, tally, checked)
        else:
            for offset, cells in enumerate(batch):
                checked(first + offset, cells)
        state.progress(tally.rows - reported)
        reported = tally.rows
    _check_unique_emails(state, students, "a student")


def _check_student(
    state: ImportState, row: Row, students: Records[StudentId, Student], tally: Tally
) -> None:
    """One student row read cell by cell, every problem worded."""
    iid = state.institution.id
    has_cr = row.has("class_representative")
    has_roll = row.has("roll_number")
    key = row.read("id", _id_text, required=True)
    name = row.read("name", _name, required=True)
    email = email_for(state, row, key) if key is not None else None
    section = state.sections.resolve(row, state.defaults)
    roll = row.read("roll_number", _roll_number) if has_roll else None
    if row.failed or key is None or name is None or email is None or section is None:
        return
    stored = students.stored.get(StudentId(key))
    if not has_roll and stored is not None:
        roll = stored.roll_number
    is_cr = stored.is_class_representative if stored is not None else False
    if has_cr:
        is_cr = bool(row.read("class_representative", yes_no))
    new = Student(StudentId(key), iid, name, email, section, roll, is_cr)
    students.take(StudentId(key), new, row, "id", tally)


class _Person(Protocol):
    @property
    def email(self) -> str: ...


K = TypeVar("K", bound=Hashable)
P = TypeVar("P", bound=_Person)


def _check_unique_emails(state: ImportState, records: Records[K, P], who: str) -> None:
    """Every email belongs to one person after the import (the stored owner of an address
    may give it up in the same workbook).
    """
    given = {**records.created, **records.updated}
    if not given:
        return
    owners: dict[str, K] = {}
    for key, person in records.stored.items():
        if key not in given:
            owners.setdefault(person.email, key)
    for key, person in given.items():
        owner = owners.setdefault(person.email, key)
        if owner != key:
            sheet, number = records.seen[key]
            state.log.add(
                sheet, number, "Email", f"{person.email} is already the email of {who} ({owner})"
            )
