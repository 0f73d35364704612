"""What an import did, or would do in a dry run, and the problems it found."""

from __future__ import annotations

from dataclasses import dataclass

from ams_core.domain.errors import ImportProblem, ImportRejectedError
from ams_core.domain.imports.sheets import SheetKind

#: problems listed in an answer; the rest are only counted
MAX_LISTED_PROBLEMS = 200


@dataclass(frozen=True, slots=True)
class SheetCounts:
    """One sheet's rows by what the import does with them.

    ``deactivated`` counts people missing from a full roster that the import deactivated
    (only with the option, only on the Students and Faculty sheets); ``ignored_columns``
    are headers the sheet has that no column of its kind accepts.
    """

    sheet: str
    kind: SheetKind
    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    ignored_columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of a valid workbook: per-sheet counts, and sections it created."""

    dry_run: bool
    sheets: tuple[SheetCounts, ...]
    sections_created: int = 0
    faculty_created_from_assignments: int = 0

    @property
    def changed(self) -> int:
        """Rows created, updated or deactivated over every sheet."""
        return sum(s.created + s.updated + s.deactivated for s in self.sheets)


class ProblemLog:
    """Collects every problem of a workbook; lists the first ones and counts all."""

    def __init__(self, cap: int = MAX_LISTED_PROBLEMS) -> None:
        self._cap = cap
        self.listed: list[ImportProblem] = []
        self.total = 0

    def add(self, sheet: str, row: int | None, column: str | None, message: str) -> None:
        """Record one problem."""
        self.total += 1
        if len(self.listed) < self._cap:
            self.listed.append(ImportProblem(sheet, row, column, message))

    def raise_if_any(self) -> None:
        """Refuse the workbook when anything was wrong with it.

        Raises:
            ImportRejectedError: at least one problem was recorded.
        """
        if self.total:
            raise ImportRejectedError(self.listed, self.total)
