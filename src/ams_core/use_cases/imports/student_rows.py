"""The common student row, read without the general cell machinery.

A roster of 100,000 students is mostly rows of plain text cells that need no message. This
reads such a row in a few operations and hands every other row (a number where text is
expected, an empty required cell, an unknown section, a key seen before …) to the checked
path, which finds and words the problems. A row read here gives exactly the student the
checked path would give (a property test holds the two to that).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ams_core.domain.ids import StudentId
from ams_core.domain.imports import CellValue
from ams_core.domain.people import Student
from ams_core.use_cases.imports.sheet_input import SheetInput
from ams_core.use_cases.imports.state import ImportState, Records, Tally

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
        self._sheet = sheet.name

    def read(
        self,
        rows: Sequence[Sequence[CellValue]],
        first_row: int,
        tally: Tally,
        checked: Callable[[int, Sequence[CellValue]], None],
    ) -> None:
        """Take every plain row of ``rows`` (numbered from ``first_row``) and hand each other
        one to ``checked``. One loop over local names: this runs once per row of a roster.
        """
        seen, stored_students = self._students.seen, self._students.stored
        take, cached = self._students.take_new, self._state.sections.cached
        width, sheet = self._width, self._sheet
        at_id, at_name, at_email, at_section = self._id, self._name, self._email, self._section
        at_year, at_department, at_roll, at_cr = self._year, self._department, self._roll, self._cr
        id_ok, name_ok, email_ok = _ID.fullmatch, _NAME.fullmatch, _EMAIL.fullmatch
        domains, only_domain, iid = self._domains, self._only_domain, self._iid
        number = first_row - 1
        for cells in rows:
            number += 1
            if len(cells) < width:
                checked(number, cells)
                continue
            key, name = cells[at_id], cells[at_name]
            if type(key) is not str or type(name) is not str:
                checked(number, cells)
                continue
            key, name = key.strip(), name.strip()
            if not id_ok(key) or not name_ok(name) or key in seen:
                checked(number, cells)
                continue
            email = cells[at_email] if at_email is not None else None
            if email is None or email == "":
                if only_domain is None:
                    checked(number, cells)
                    continue
                email = f"{key.lower()}@{only_domain}"
            elif type(email) is not str or len(email) > 254:
                checked(number, cells)
                continue
            else:
                match = email_ok(email)
                if match is None or match.group(1) not in domains:
                    checked(number, cells)
                    continue
            section = cached(
                cells[at_section],
                cells[at_year] if at_year is not None else None,
                cells[at_department] if at_department is not None else None,
            )
            if section is None:
                checked(number, cells)
                continue
            stored = stored_students.get(key)  # type: ignore[call-overload]
            roll: int | None = stored.roll_number if stored is not None else None
            if at_roll is not None:
                value = cells[at_roll]
                if value is None or value == "":
                    roll = None
                elif type(value) is float and value.is_integer() and 0 <= value <= 9_999_999:
                    roll = int(value)
                elif type(value) is int and 0 <= value <= 9_999_999:
                    roll = value
                else:
                    checked(number, cells)
                    continue
            is_cr = stored.is_class_representative if stored is not None else False
            if at_cr is not None:
                flag = cells[at_cr]
                if type(flag) is not bool:
                    checked(number, cells)
                    continue
                is_cr = flag
            student_id = StudentId(key)
            student = Student(student_id, iid, name, email, section, roll, is_cr)
            tally.rows += 1
            take(student_id, student, (sheet, number), tally)
