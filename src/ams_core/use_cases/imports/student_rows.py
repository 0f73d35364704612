"""The common student row, read without the general cell machinery.

A roster of 100,000 students is mostly rows of plain text cells that need no message. This
reads such a row in a few operations and hands every other row (a number where text is
expected, an empty required cell, an unknown section, a key seen before …) to the checked
path, which finds and words the problems. A row read here gives exactly the student the
checked path would give (a property test holds the two to that).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ams_core.domain.ids import SectionId, StudentId
from ams_core.domain.imports import CellValue
from ams_core.domain.people import Student
from ams_core.use_cases.imports.sheet_input import SheetInput
from ams_core.use_cases.imports.state import ImportState, Records

#: an id: 1-64 characters, no spaces, no controls
_ID = re.compile(r"[^\s\x00-\x1f\x7f-\x9f\ud800-\udfff]{1,64}")
#: a name: 1-200 characters without controls, not starting or ending with a space
_NAME = re.compile(
    r"[^\s\x00-\x1f\x7f-\x9f\ud800-\udfff](?:[^\x00-\x1f\x7f-\x9f\ud800-\udfff]{0,198}[^\s\x00-\x1f\x7f-\x9f\ud800-\udfff])?"
)
#: an address the checked path accepts as it is (lower case, one @, a dot in the domain)
_EMAIL = re.compile(
    r"[^@\sA-Z\x00-\x1f\x7f-\x9f\ud800-\udfff]+@([^@\sA-Z\x00-\x1f\x7f-\x9f\ud800-\udfff]*\.[^@\sA-Z\x00-\x1f\x7f-\x9f\ud800-\udfff]*)"
)


class StudentRows:
    """Reads the plain rows of one Students sheet; ``None`` for a row the checked path
    must read.
    """

    def __init__(
        self, state: ImportState, sheet: SheetInput, students: Records[StudentId, Student]
    ) -> None:
        positions = sheet.header.positions
        self._state = state
        self._students = students
        self._iid = state.institution.id
        self._id = positions["id"]
        self._name = positions["name"]
        self._email = positions.get("email")
        self._section = positions["section"]
        self._year = positions.get("year")
        self._department = positions.get("department")
        self._roll = positions.get("roll_number")
        self._cr = positions.get("class_representative")
        domains = state.institution.email_domains
        self._domains = domains
        self._only_domain = next(iter(domains)) if len(domains) == 1 else None
        self._width = 1 + max(positions.values())

    def _cell(self, cells: Sequence[CellValue], index: int | None) -> CellValue:
        return cells[index] if index is not None else None

    def student(self, cells: Sequence[CellValue]) -> Student | None:
        """The row's student, or ``None`` when the checked path must read the row."""
        if len(cells) < self._width:
            return None
        key, name = cells[self._id], cells[self._name]
        if type(key) is not str or type(name) is not str:
            return None
        key, name = key.strip(), name.strip()
        if not _ID.fullmatch(key) or not _NAME.fullmatch(name) or key in self._students.seen:
            return None
        email = self._address(cells, key)
        if email is None:
            return None
        section = self._state.sections.cached(
            cells[self._section],
            self._cell(cells, self._year),
            self._cell(cells, self._department),
        )
        if section is None:
            return None
        stored = self._students.stored.get(StudentId(key))
        roll: int | None = stored.roll_number if stored is not None else None
        if self._roll is not None:
            value = cells[self._roll]
            if value is None or value == "":
                roll = None
            elif type(value) is float and value.is_integer() and 0 <= value <= 9_999_999:
                roll = int(value)
            elif type(value) is int and 0 <= value <= 9_999_999:
                roll = value
            else:
                return None
        is_cr = stored.is_class_representative if stored is not None else False
        if self._cr is not None:
            flag = cells[self._cr]
            if type(flag) is not bool:
                return None
            is_cr = flag
        return Student(StudentId(key), self._iid, name, email, SectionId(section), roll, is_cr)

    def _address(self, cells: Sequence[CellValue], key: str) -> str | None:
        given = cells[self._email] if self._email is not None else None
        if given is None or given == "":
            return f"{key.lower()}@{self._only_domain}" if self._only_domain else None
        if type(given) is not str or len(given) > 254:
            return None
        match = _EMAIL.fullmatch(given)
        if match is None or match.group(1) not in self._domains:
            return None
        return given
