"""What an import knows while it checks a workbook: the records as stored, the records the
workbook creates or changes, and the counts of each sheet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from ams_core.domain.ids import InstitutionId, SectionId
from ams_core.domain.imports import CellValue, ProblemLog, SheetCounts
from ams_core.domain.imports.cells import text, year_of_study
from ams_core.domain.institution import Institution
from ams_core.domain.people import Section
from ams_core.ports.clock import RandomSource
from ams_core.use_cases.imports.sheet_input import Row, SheetInput

K = TypeVar("K", bound=Hashable)
E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class ImportDefaults:
    """Values for the whole upload, as the legacy upload forms gave them: the year and
    department of every row (when the sheet has no such column) and the kind of a one-sheet
    upload whose sheet name says nothing.
    """

    year: int | None = None
    department: str | None = None

    def given(self) -> frozenset[str]:
        """The column keys these defaults stand in for."""
        return frozenset(
            key for key, value in (("year", self.year), ("department", self.department)) if value
        )


@dataclass(slots=True)
class Tally:
    """The counts of one sheet while it is checked."""

    sheet: SheetInput
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0

    def counts(self) -> SheetCounts:
        """The finished counts."""
        return SheetCounts(
            self.sheet.name,
            self.sheet.spec.kind,
            self.rows,
            self.created,
            self.updated,
            self.unchanged,
            self.deactivated,
            ignored_columns=self.sheet.header.unknown,
        )


@dataclass(slots=True)
class Records(Generic[K, E]):
    """One kind of record: as stored, and as the workbook creates or changes it."""

    stored: dict[K, E]
    created: dict[K, E] = field(default_factory=dict)
    updated: dict[K, E] = field(default_factory=dict)
    #: key → (sheet name, row number) where the workbook first gave it
    seen: dict[K, tuple[str, int]] = field(default_factory=dict)

    def get(self, key: K) -> E | None:
        """The record as it will be after the import (``None``: neither stored nor given)."""
        return self.created.get(key) or self.updated.get(key) or self.stored.get(key)

    def take_new(self, key: K, new: E, where: tuple[str, int], tally: Tally) -> None:
        """:meth:`take` for a key not given before in the workbook.

        ``new`` carries version 0: it is compared with the stored record with the stored
        version, and an update keeps that version (the repositories check it; a record
        without versions, a holiday, is compared as it is).
        """
        self.seen[key] = where
        old = self.stored.get(key)
        if old is None:
            self.created[key] = new
            tally.created += 1
            return
        candidate = (
            dataclasses.replace(new, version=old.version)  # type: ignore[type-var]
            if hasattr(old, "version")
            else new
        )
        if candidate == old:
            tally.unchanged += 1
        else:
            self.updated[key] = candidate
            tally.updated += 1

    def take(self, key: K, new: E, row: Row, key_column: str, tally: Tally) -> bool:
        """Count ``new`` as created, updated or unchanged; refuse a key given twice."""
        if key in self.seen:
            sheet, number = self.seen[key]
            where = f"row {number}" if sheet == row.sheet_name else f"row {number} of {sheet}"
            row.problem(key_column, f"{_shown(key)} is given twice (first on {where})")
            return False
        self.take_new(key, new, (row.sheet_name, row.number), tally)
        return True


def _shown(key: object) -> str:
    if isinstance(key, tuple):
        return " / ".join(str(k) for k in key)
    return repr(str(key))


class Sections:
    """Sections as stored, found by id or by (year, department, name), and the ones rows
    create by naming a section with its year and department.
    """

    def __init__(self, stored: Mapping[SectionId, Section], institution_id: InstitutionId) -> None:
        self._institution_id = institution_id
        self.stored = dict(stored)
        self.created: dict[SectionId, Section] = {}
        self._by_name = {
            (s.year, s.department.casefold(), s.name.casefold()): s.id for s in stored.values()
        }
        #: (section, year, department) cells → the section they resolved to without a problem
        self._resolved: dict[tuple[CellValue, CellValue, CellValue], SectionId] = {}

    def cached(
        self, section: CellValue, year: CellValue, department: CellValue
    ) -> SectionId | None:
        """The section these cells resolved to before (``None``: not seen yet)."""
        try:
            return self._resolved.get((section, year, department))
        except TypeError:  # an unhashable cell value
            return None

    def resolve(self, row: Row, defaults: ImportDefaults) -> SectionId | None:
        """The section a row names, created when named by year, department and name."""
        before = row.problems
        found = self._resolve(row, defaults, before)
        if found is not None and row.problems == before:
            raw = (row.raw("section"), row.raw("year"), row.raw("department"))
            self._resolved[raw] = found
        return found

    def _resolve(self, row: Row, defaults: ImportDefaults, before: int) -> SectionId | None:
        name = row.read("section", _section_text, required=True)
        if name is None:
            return None
        year = row.read("year", year_of_study) if row.has("year") else None
        year = year or defaults.year
        department = row.read("department", _department) if row.has("department") else None
        department = department or defaults.department
        if row.problems > before:
            return None
        known = name in self.stored or name in self.created
        if year is None or not department:
            if known:
                return SectionId(name)
            row.problem(
                "section",
                f"no section {name!r}: give an existing section id, or Year and Department so "
                "the section can be found or created",
            )
            return None
        found = self._by_name.get((year, department.casefold(), name.casefold()))
        if found is not None:
            return found
        if known:
            return SectionId(name)
        new_id = SectionId(f"E{year}-{department}-{name}")
        if len(new_id) > 64:
            row.problem("section", "the section's id would be longer than 64 characters")
            return None
        section = Section(new_id, self._institution_id, year, department, name)
        self.created[new_id] = section
        self._by_name[(year, department.casefold(), name.casefold())] = new_id
        return new_id


def _section_text(value: CellValue) -> str:
    return text(value, 64)


def _department(value: CellValue) -> str:
    return text(value, 100)


@dataclass
class ImportState:
    """Everything the checks of one workbook share."""

    institution: Institution
    random: RandomSource
    defaults: ImportDefaults
    log: ProblemLog
    sections: Sections
    tallies: list[Tally] = field(default_factory=list)
    progress: Callable[[int], None] = lambda _rows: None
    faculty_created_from_assignments: int = 0
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def tally(self, sheet: SheetInput) -> Tally:
        """A new tally for ``sheet``, kept for the report."""
        tally = Tally(sheet)
        self.tallies.append(tally)
        return tally
