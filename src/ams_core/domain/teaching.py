"""What is taught, by whom, to whom, and when: subjects, assignments, slots, terms, holidays."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, time

from ams_core.domain.errors import FieldProblem, ValidationError
from ams_core.domain.ids import (
    AssignmentId,
    FacultyId,
    InstitutionId,
    SectionId,
    SlotId,
    SubjectCode,
    TermId,
)


class SubjectKind(enum.Enum):
    """Theory classes take one period; labs usually take several."""

    THEORY = "theory"
    LAB = "lab"


@dataclass(frozen=True, slots=True)
class Subject:
    """A subject: code, short name (mnemonic), full name and kind."""

    code: SubjectCode
    institution_id: InstitutionId
    short_name: str
    name: str
    kind: SubjectKind = SubjectKind.THEORY
    version: int = 0


@dataclass(frozen=True, slots=True)
class TeachingAssignment:
    """Faculty × subject × section: who teaches what to which class."""

    id: AssignmentId
    institution_id: InstitutionId
    faculty_id: FacultyId
    subject_code: SubjectCode
    section_id: SectionId
    version: int = 0


@dataclass(frozen=True, slots=True)
class WeeklySlot:
    """One line of the default timetable: an assignment on a weekday (1 = Monday) at a time."""

    id: SlotId
    institution_id: InstitutionId
    assignment_id: AssignmentId
    weekday: int
    start: time
    end: time
    venue: str = ""
    version: int = 0

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.weekday <= 7:
            problems.append(FieldProblem("weekday", "must be 1 (Monday) to 7 (Sunday)"))
        if self.start >= self.end:
            problems.append(FieldProblem("end", "must be after the start"))
        if problems:
            raise ValidationError(problems)


@dataclass(frozen=True, slots=True)
class Term:
    """A teaching term: classes are generated only on dates inside a term."""

    id: TermId
    institution_id: InstitutionId
    name: str
    start: date
    end: date
    version: int = 0

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValidationError([FieldProblem("end", "must not be before the start")])

    def contains(self, day: date) -> bool:
        """Return whether ``day`` falls inside the term (both ends included)."""
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class Holiday:
    """An institution-wide day without classes."""

    institution_id: InstitutionId
    date: date
    name: str = ""
