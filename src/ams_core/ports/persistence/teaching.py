"""Persistence ports: teaching — subjects, assignments, weekly slots, terms and holidays.

The rules every adapter must honour are in :mod:`ams_core.ports.persistence`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol

from ams_core.domain.calendar import DateRange
from ams_core.domain.ids import (
    AssignmentId,
    FacultyId,
    SectionId,
    SlotId,
    SubjectCode,
    TermId,
)
from ams_core.domain.teaching import Holiday, Subject, TeachingAssignment, Term, WeeklySlot


class SubjectRepository(Protocol):
    """Subjects of the current institution, keyed by code."""

    @abstractmethod
    def find(self, code: SubjectCode) -> Subject | None: ...

    @abstractmethod
    def get(self, code: SubjectCode) -> Subject: ...

    @abstractmethod
    def add(self, subject: Subject) -> None: ...

    @abstractmethod
    def update(self, subject: Subject) -> Subject: ...

    @abstractmethod
    def find_many(self, codes: Iterable[SubjectCode]) -> Mapping[SubjectCode, Subject]:
        """The subjects among ``codes`` that exist (unknown codes are left out)."""

    @abstractmethod
    def list(self) -> Sequence[Subject]:
        """All subjects, ordered by code."""

    @abstractmethod
    def remove(self, code: SubjectCode) -> bool:
        """Delete the subject; False if it does not exist.

        Raises:
            ConflictError: (code ``in_use``) teaching assignments, sessions or substitute
                preferences still refer to it.
        """


class AssignmentRepository(Protocol):
    """Teaching assignments; (faculty, subject, section) is unique."""

    @abstractmethod
    def find(self, assignment_id: AssignmentId) -> TeachingAssignment | None: ...

    @abstractmethod
    def get(self, assignment_id: AssignmentId) -> TeachingAssignment: ...

    @abstractmethod
    def add(self, assignment: TeachingAssignment) -> None: ...

    @abstractmethod
    def update(self, assignment: TeachingAssignment) -> TeachingAssignment: ...

    @abstractmethod
    def list(
        self, faculty_id: FacultyId | None = None, section_id: SectionId | None = None
    ) -> Sequence[TeachingAssignment]:
        """Assignments, filtered by teacher and/or section, ordered by id."""

    @abstractmethod
    def sections_by_teacher(self) -> Mapping[FacultyId, frozenset[SectionId]]:
        """The sections each teacher has a teaching assignment for (teachers without one
        are left out).
        """

    @abstractmethod
    def remove(self, assignment_id: AssignmentId) -> bool:
        """Delete the teaching assignment; False if it does not exist.

        Raises:
            ConflictError: (code ``in_use``) weekly slots or sessions still refer to it.
        """


class SlotRepository(Protocol):
    """The weekly timetable."""

    @abstractmethod
    def find(self, slot_id: SlotId) -> WeeklySlot | None: ...

    @abstractmethod
    def get(self, slot_id: SlotId) -> WeeklySlot: ...

    @abstractmethod
    def add(self, slot: WeeklySlot) -> None: ...

    @abstractmethod
    def update(self, slot: WeeklySlot) -> WeeklySlot: ...

    @abstractmethod
    def list(self) -> Sequence[WeeklySlot]:
        """All slots, ordered by id."""

    @abstractmethod
    def remove(self, slot_id: SlotId) -> bool:
        """Delete the weekly slot; False if it does not exist.

        Sessions generated from it are history and stay (they keep the slot id as a plain
        value, and their (slot, date) key stays taken).
        """


class TermRepository(Protocol):
    """Teaching terms."""

    @abstractmethod
    def find(self, term_id: TermId) -> Term | None: ...

    @abstractmethod
    def get(self, term_id: TermId) -> Term: ...

    @abstractmethod
    def add(self, term: Term) -> None: ...

    @abstractmethod
    def update(self, term: Term) -> Term: ...

    @abstractmethod
    def list(self) -> Sequence[Term]:
        """All terms, ordered by start date."""

    @abstractmethod
    def remove(self, term_id: TermId) -> bool:
        """Delete the term; False if it does not exist (sessions never refer to terms)."""


class HolidayRepository(Protocol):
    """Institution-wide holidays, one per date."""

    @abstractmethod
    def add(self, holiday: Holiday) -> None:
        """Store a holiday; a second one on the same date is a ConflictError."""

    @abstractmethod
    def remove(self, day: date) -> bool:
        """Remove the holiday on ``day``; return whether there was one."""

    @abstractmethod
    def list(self, dates: DateRange | None = None) -> Sequence[Holiday]:
        """Holidays (inside ``dates`` when given), ordered by date."""
