"""The sheets an institution can import, their columns, and how a header row is matched.

Headers are matched case-insensitively and without regard to spaces, underscores or
punctuation (``roll_number``, ``Roll Number`` and ``RollNumber`` are one header), with
aliases that accept the legacy AMS Server's column names, so the college's files import
unchanged. A column the sheet does not know is ignored (it is reported in the answer, so a
misspelt header does not pass unnoticed).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ams_core.domain.imports.cells import CellValue, is_blank

#: legacy timetable periods: number → (start, end), lunch between 4 and 5
PERIODS: Mapping[int, tuple[str, str]] = {
    1: ("08:30", "09:30"),
    2: ("09:30", "10:30"),
    3: ("10:30", "11:30"),
    4: ("11:30", "12:30"),
    5: ("13:40", "14:40"),
    6: ("14:40", "15:40"),
    7: ("15:40", "16:40"),
}
#: a lab given by its first period runs this many periods
LAB_PERIODS = 3
#: periods between which there is no break (a lab may not run through lunch)
PERIOD_BLOCKS: tuple[frozenset[int], ...] = (frozenset({1, 2, 3, 4}), frozenset({5, 6, 7}))


class SheetKind(enum.Enum):
    """What one sheet holds; the value is the name used in URLs and the ``kind`` field."""

    SUBJECTS = "subjects"
    TERMS = "terms"
    HOLIDAYS = "holidays"
    FACULTY = "faculty"
    STUDENTS = "students"
    ASSIGNMENTS = "assignments"
    TIMETABLE = "timetable"


def fold_header(name: object) -> str:
    """The form a header is compared in: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a sheet: the header the template writes and the ones also accepted."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: str = ""
    note: str = ""
    choices: tuple[str, ...] = ()

    def accepts(self) -> frozenset[str]:
        """Every folded header that names this column."""
        return frozenset({fold_header(self.header), *(fold_header(a) for a in self.aliases)})


@dataclass(frozen=True, slots=True)
class SheetSpec:
    """A kind of sheet: its title, the other sheet names it is known by, and its columns."""

    kind: SheetKind
    title: str
    columns: tuple[Column, ...]
    sheet_names: tuple[str, ...] = ()
    about: str = ""

    def column(self, key: str) -> Column:
        """The column named ``key``."""
        return next(c for c in self.columns if c.key == key)


_SECTION = Column(
    "section",
    "Section",
    ("class", "section id", "class section"),
    required=True,
    example="A",
    note="a section id (E2-CSE-A), or its name (A) with Year and Department",
)
_YEAR = Column("year", "Year", ("batch",), example="E2", note="1-12 or a batch code E1-E12")
_DEPARTMENT = Column("department", "Department", ("dept", "branch"), example="CSE")
_EMAIL = Column(
    "email",
    "Email",
    ("email id", "email address", "mail"),
    example="",
    note="in one of the institution's sign-in domains; when empty: <id>@<the domain>",
)

SPECS: Mapping[SheetKind, SheetSpec] = {
    spec.kind: spec
    for spec in (
        SheetSpec(
            SheetKind.SUBJECTS,
            "Subjects",
            (
                Column("code", "Code", ("subject code",), True, "CS301"),
                Column(
                    "short_name",
                    "Short Name",
                    ("mnemonic", "subject mnemonic", "abbreviation"),
                    True,
                    "DBMS",
                ),
                Column("name", "Name", ("subject name", "title"), True, "Database Systems"),
                Column(
                    "kind",
                    "Kind",
                    ("type", "subject type"),
                    example="theory",
                    choices=("theory", "lab"),
                    note="theory (one period) or lab; empty: theory",
                ),
            ),
            ("subject",),
            "Subjects, keyed by code.",
        ),
        SheetSpec(
            SheetKind.TERMS,
            "Terms",
            (
                Column("name", "Name", ("term", "term name", "semester"), True, "2026-27 Odd"),
                Column("start", "Start", ("start date", "from"), True, "2026-07-01"),
                Column("end", "End", ("end date", "to"), True, "2026-11-30"),
            ),
            ("term", "semesters"),
            "Teaching terms, keyed by name; classes are generated only inside a term.",
        ),
        SheetSpec(
            SheetKind.HOLIDAYS,
            "Holidays",
            (
                Column("date", "Date", ("day", "holiday date"), True, "2026-10-02"),
                Column(
                    "name", "Name", ("holiday", "occasion", "description"), example="Gandhi Jayanti"
                ),
            ),
            ("holiday",),
            "Institution-wide days without classes, keyed by date.",
        ),
        SheetSpec(
            SheetKind.FACULTY,
            "Faculty",
            (
                Column(
                    "id",
                    "Faculty ID",
                    ("id", "faculty id", "employee id", "staff id"),
                    True,
                    "F042",
                ),
                Column("name", "Name", ("faculty name", "full name"), True, "A. Rao"),
                _EMAIL,
                Column("department", "Department", ("dept", "branch"), True, "CSE"),
                Column(
                    "qualified_subjects",
                    "Qualified Subjects",
                    ("subjects", "subject codes", "qualified for"),
                    example="CS301",
                    note="subject codes separated by commas",
                ),
                Column(
                    "max_covers_per_day", "Max Covers Per Day", ("covers per day",), example="2"
                ),
                Column(
                    "max_covers_per_week", "Max Covers Per Week", ("covers per week",), example="6"
                ),
            ),
            ("faculties", "teachers", "staff"),
            "Teachers, keyed by id.",
        ),
        SheetSpec(
            SheetKind.STUDENTS,
            "Students",
            (
                Column(
                    "id",
                    "Student ID",
                    ("id", "student id", "roll id", "registration number", "reg no"),
                    True,
                    "N210595",
                ),
                Column("name", "Name", ("student name", "full name"), True, "Priya Sharma"),
                _EMAIL,
                _SECTION,
                _YEAR,
                _DEPARTMENT,
                Column("roll_number", "Roll Number", ("roll no", "roll"), example="12"),
                Column(
                    "class_representative",
                    "Class Representative",
                    ("cr", "is cr"),
                    example="no",
                    choices=("yes", "no"),
                ),
            ),
            ("student",),
            "Students, keyed by id; a section named by Year, Department and Section is "
            "created when it does not exist.",
        ),
        SheetSpec(
            SheetKind.ASSIGNMENTS,
            "Assignments",
            (
                Column("faculty", "Faculty ID", ("faculty", "facultyid"), True, "F042"),
                Column("subject", "Subject Code", ("subject", "code"), True, "CS301"),
                _SECTION,
                _YEAR,
                _DEPARTMENT,
                Column(
                    "faculty_name",
                    "Faculty Name",
                    (),
                    example="A. Rao",
                    note="creates the teacher when the Faculty ID is new",
                ),
            ),
            ("assignment", "teaching assignments", "faculty assignments"),
            "Who teaches which subject to which section.",
        ),
        SheetSpec(
            SheetKind.TIMETABLE,
            "Timetable",
            (
                Column("day", "Day", ("weekday", "day of week"), True, "MON"),
                _SECTION,
                _YEAR,
                _DEPARTMENT,
                Column(
                    "period",
                    "Period",
                    (),
                    example="1",
                    note="1-7 (08:30 … 16:40; a lab takes 3 periods); or give Start and End",
                ),
                Column("start", "Start", ("start time", "from"), example=""),
                Column("end", "End", ("end time", "to"), example=""),
                Column("subject", "Subject Code", ("subject", "code"), True, "CS301"),
                Column("faculty", "Faculty ID", ("faculty", "facultyid"), True, "F042"),
                Column("venue", "Venue", ("room",), example="LH-3"),
            ),
            ("default schedule", "default timetable", "schedule", "weekly slots", "slots"),
            "The weekly timetable, keyed by section, day and start time.",
        ),
    )
}

#: the order sheets are applied in (what a sheet refers to comes before it)
APPLY_ORDER: tuple[SheetKind, ...] = tuple(SheetKind)


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """Where each known column of a sheet is, and what is wrong with the header row."""

    positions: Mapping[str, int]
    labels: Mapping[str, str]
    unknown: tuple[str, ...] = ()
    problems: tuple[tuple[str, str], ...] = field(default=())

    def has(self, key: str) -> bool:
        """Whether the sheet has the column ``key``."""
        return key in self.positions


def match_header(
    spec: SheetSpec, header: Sequence[CellValue], given: frozenset[str] = frozenset()
) -> HeaderMatch:
    """Find ``spec``'s columns in a header row.

    ``given`` are column keys supplied for the whole upload (the legacy form fields ``year``
    and ``department``): they need no column. Problems are (column, message) pairs: a
    required column missing, or one column named twice.
    """
    by_folded = {folded: c for c in spec.columns for folded in c.accepts()}
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    unknown: list[str] = []
    problems: list[tuple[str, str]] = []
    for index, cell in enumerate(header):
        if is_blank(cell):
            continue
        label = str(cell).strip()
        column = by_folded.get(fold_header(label))
        if column is None:
            unknown.append(label)
        elif column.key in positions:
            problems.append((label, f"names the same column as {labels[column.key]!r}"))
        else:
            positions[column.key] = index
            labels[column.key] = label
    for column in spec.columns:
        if column.required and column.key not in positions and column.key not in given:
            problems.append((column.header, "this column is required but missing"))
    return HeaderMatch(positions, labels, tuple(unknown), tuple(problems))


def spec_for_sheet_name(name: str) -> SheetSpec | None:
    """The kind of sheet a sheet's name says it is (``Students``, ``Default Schedule`` …)."""
    folded = fold_header(name)
    for spec in SPECS.values():
        names = (spec.title, spec.kind.value, *spec.sheet_names)
        if folded in {fold_header(n) for n in names}:
            return spec
    return None


def guess_spec(header: Sequence[CellValue], given: frozenset[str]) -> SheetSpec | None:
    """The kind of sheet whose required columns the header has, naming the most columns
    (a sheet called ``Sheet1`` in a one-sheet upload); ``None`` if none or a tie.
    """
    scored: list[tuple[int, SheetSpec]] = []
    for spec in SPECS.values():
        found = match_header(spec, header, given)
        if not found.problems:
            scored.append((len(found.positions), spec))
    scored.sort(key=lambda pair: -pair[0])
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]
