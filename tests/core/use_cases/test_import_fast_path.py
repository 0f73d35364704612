"""The fast path for plain student rows gives exactly what the checked path gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ams_adapters.memory import InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import StudentId
from ams_core.domain.imports import SPECS, CellValue, ProblemLog, SheetKind, match_header
from ams_core.domain.people import Student
from ams_core.testing.builders import seed_small_college
from ams_core.use_cases.imports import people_sheets
from ams_core.use_cases.imports.people_sheets import check_students
from ams_core.use_cases.imports.sheet_input import Row, SheetInput
from ams_core.use_cases.imports.state import ImportDefaults, ImportState, Records, Sections

UOW = InMemoryUnitOfWork()
COLLEGE = seed_small_college(UOW)
with UOW.for_institution(COLLEGE.id) as _uow:
    STORED = {s.id: s for s in _uow.students.list()}
    SECTIONS = {s.id: s for s in _uow.sections.list()}

HEADER: list[CellValue] = [
    "Student ID",
    "Name",
    "Email",
    "Section",
    "Year",
    "Department",
    "Roll Number",
    "CR",
]
ids = st.one_of(
    st.sampled_from([*STORED, "N1", "n1", " N2 ", "N 3", "", "X" * 65]),
    st.text(max_size=8),
    st.integers(0, 10),
    st.none(),
)
names = st.one_of(
    st.sampled_from(["Asha", "  Asha  ", "", "A\tB", "Ravi\u200dKumar", "x" * 201]),
    st.text(max_size=12),
    st.floats(allow_nan=False),
)
emails = st.one_of(
    st.sampled_from(
        ["", "a1@a.edu", "A1@A.EDU", "a1@b.edu", "a1@@a.edu", "a 1@a.edu", " a2@a.edu"]
    ),
    st.emails(),
    st.none(),
)
sections = st.sampled_from([*SECTIONS, "A", "B", "Z", "", None, 3])
years = st.sampled_from([None, "", 2, 2.0, "E2", "E99", "two"])
departments = st.sampled_from([None, "", "CSE", "cse", "MATH"])
rolls = st.one_of(
    st.none(), st.sampled_from(["", "7", -1, 10**8, True]), st.integers(0, 99), st.floats()
)
flags = st.sampled_from([None, "", True, False, "yes", 1])
#: rows the fast path may take (once their section was seen): mostly well-formed
plain = st.tuples(
    st.sampled_from(["P1", "P2", "p2", *STORED]),
    st.sampled_from(["Asha", "Ravi Kumar", "Ravi\u200dKumar"]),
    st.sampled_from(["", "p1@a.edu", "P1@a.edu", "p1@b.edu", *(s.email for s in STORED.values())]),
    st.sampled_from(list(SECTIONS)),
    st.none(),
    st.none(),
    st.sampled_from([None, 3, 4.0, "", 4.5]),
    st.sampled_from([None, True, False]),
).map(list)
anything = st.tuples(ids, names, emails, sections, years, departments, rolls, flags).map(list)
rows = st.lists(st.one_of(plain, plain, anything, st.just([])), max_size=12)


def _check(cells: list[list[CellValue]], fast: bool) -> tuple[object, ...]:
    log = ProblemLog()
    state = ImportState(
        UOW_INSTITUTION,
        SeededRandomSource(1),
        ImportDefaults(),
        log,
        Sections(SECTIONS, COLLEGE.id),
        now=datetime(2026, 11, 16, tzinfo=UTC),
    )
    spec = SPECS[SheetKind.STUDENTS]
    sheet = SheetInput("Students", spec, match_header(spec, HEADER), 2, cells)
    students: Records[StudentId, Student] = Records(dict(STORED))
    check_students(state, sheet, students, fast=fast)
    return (
        students.created,
        students.updated,
        students.seen,
        [t.counts() for t in state.tallies],
        log.listed,
        log.total,
        state.sections.created,
    )


with UOW.for_institution(COLLEGE.id) as _uow:
    UOW_INSTITUTION = _uow.institutions.get(COLLEGE.id)


@settings(max_examples=300, deadline=None)
@given(rows)
def test_the_fast_path_and_the_checked_path_agree_on_every_row(
    generated: list[list[CellValue]],
) -> None:
    assert _check(generated, fast=True) == _check(generated, fast=False)


def test_plain_rows_after_the_first_of_their_section_take_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[int] = []
    original = people_sheets._check_student

    def counting(state: ImportState, row: Row, *args: Any) -> None:
        checked.append(row.number)
        original(state, row, *args)

    monkeypatch.setattr(people_sheets, "_check_student", counting)
    section = next(iter(SECTIONS))
    plain: list[list[CellValue]] = [
        [f"P{n}", f"Plain {n}", f"p{n}@a.edu", section, None, None, n, False] for n in range(5)
    ]

    created = _check(plain, fast=True)[0]

    assert len(created) == 5  # type: ignore[arg-type]
    assert checked == [2]  # only the first row, which resolved the section
