"""Persistence ports: people — sections, students, faculty and students' device bindings.

The rules every adapter must honour are in :mod:`ams_core.ports.persistence`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ams_core.domain.ids import (
    DeviceId,
    FacultyId,
    SectionId,
    StudentId,
)
from ams_core.domain.people import DeviceBinding, Faculty, Section, Student


class SectionRepository(Protocol):
    """Class groups of the current institution."""

    @abstractmethod
    def find(self, section_id: SectionId) -> Section | None: ...

    @abstractmethod
    def get(self, section_id: SectionId) -> Section: ...

    @abstractmethod
    def add(self, section: Section) -> None: ...

    @abstractmethod
    def update(self, section: Section) -> Section: ...

    @abstractmethod
    def list(self) -> Sequence[Section]:
        """All sections, ordered by id."""

    @abstractmethod
    def remove(self, section_id: SectionId) -> bool:
        """Delete the section; False if it does not exist.

        Raises:
            ConflictError: (code ``in_use``) students, teaching assignments, sessions or
                substitute preferences still belong to it.
        """


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What a bulk upsert did."""

    created: int
    updated: int
    unchanged: int


class StudentRepository(Protocol):
    """Students of the current institution; email is unique within it."""

    @abstractmethod
    def find(self, student_id: StudentId) -> Student | None: ...

    @abstractmethod
    def get(self, student_id: StudentId) -> Student: ...

    @abstractmethod
    def add(self, student: Student) -> None:
        """Store a new student; a taken id or email is a ConflictError."""

    @abstractmethod
    def add_many(self, students: Iterable[Student]) -> int:
        """Store many new students at once (all or nothing); return how many."""

    @abstractmethod
    def upsert_many(self, students: Sequence[Student]) -> UpsertCounts:
        """Insert new students and update changed ones, keyed by id (all or nothing).

        A changed row gets ``version + 1``; an identical one is left alone (``unchanged``).
        The same id twice in ``students`` is a ValidationError; an email taken by another
        student is a ConflictError ``email_taken``.
        """

    @abstractmethod
    def update(self, student: Student) -> Student: ...

    @abstractmethod
    def find_by_email(self, email: str) -> Student | None: ...

    @abstractmethod
    def list(self, section_id: SectionId | None = None) -> Sequence[Student]:
        """Students (of one section when given), ordered by roll number then id."""

    @abstractmethod
    def ids_in_section(self, section_id: SectionId) -> frozenset[StudentId]:
        """The section's roster: its active students (a deactivated student is on none)."""

    @abstractmethod
    def remove(self, student_id: StudentId) -> bool:
        """Delete the student; False if it does not exist.

        Raises:
            ConflictError: (code ``in_use``) attendance marks, check-in failures, a device
                binding or push registrations still refer to them.
        """


class FacultyRepository(Protocol):
    """Teachers of the current institution; email is unique within it."""

    @abstractmethod
    def find(self, faculty_id: FacultyId) -> Faculty | None: ...

    @abstractmethod
    def get(self, faculty_id: FacultyId) -> Faculty: ...

    @abstractmethod
    def add(self, faculty: Faculty) -> None: ...

    @abstractmethod
    def update(self, faculty: Faculty) -> Faculty: ...

    @abstractmethod
    def find_by_email(self, email: str) -> Faculty | None: ...

    @abstractmethod
    def find_many(self, faculty_ids: Iterable[FacultyId]) -> Mapping[FacultyId, Faculty]:
        """The teachers among ``faculty_ids`` that exist (unknown ids are left out)."""

    @abstractmethod
    def list(self) -> Sequence[Faculty]:
        """All teachers, ordered by id."""

    @abstractmethod
    def remove(self, faculty_id: FacultyId) -> bool:
        """Delete the teacher; False if it does not exist.

        Raises:
            ConflictError: (code ``in_use``) teaching assignments, sessions (as teacher of
                record), covers (as substitute), absences, cover needs (as absent teacher or
                substitute), cover offers, substitute preferences (as substitute or as the
                absent teacher they concern) or push registrations still refer to them.
        """


class DeviceBindingRepository(Protocol):
    """One device per student, one student per device."""

    @abstractmethod
    def for_student(self, student_id: StudentId) -> DeviceBinding | None: ...

    @abstractmethod
    def for_device(self, device_id: DeviceId) -> DeviceBinding | None: ...

    @abstractmethod
    def add(self, binding: DeviceBinding) -> None:
        """Bind; a student or a device already bound is a ConflictError."""

    @abstractmethod
    def remove(self, student_id: StudentId) -> bool:
        """Unbind a student's device; return whether there was one."""
