"""Sections, students, faculty and device bindings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ams_core.domain.errors import FieldProblem, ValidationError
from ams_core.domain.ids import (
    DeviceId,
    FacultyId,
    InstitutionId,
    SectionId,
    StudentId,
    SubjectCode,
)


def fold_email(email: str) -> str:
    """The one spelling an email is stored and looked up in (emails are case-insensitive)."""
    return email.strip().lower()


def normalise_email(email: str) -> str:
    """Return ``email`` trimmed and lower-cased, or raise if it is not an address."""
    value = fold_email(email)
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or "@" in domain:
        raise ValidationError([FieldProblem("email", f"{email!r} is not an email address")])
    return value


@dataclass(frozen=True, slots=True)
class Section:
    """A class group such as E2-CSE-A: year, department and name."""

    id: SectionId
    institution_id: InstitutionId
    year: int
    department: str
    name: str
    version: int = 0


@dataclass(frozen=True, slots=True)
class Student:
    """A student, identified by roll id (e.g. N210595) within the institution.

    A student who is not ``active`` (deactivated, e.g. missing from a full roster import)
    keeps their history but is on no class's roster and cannot sign in or check in.
    """

    id: StudentId
    institution_id: InstitutionId
    name: str
    email: str
    section_id: SectionId
    roll_number: int | None = None
    is_class_representative: bool = False
    active: bool = True
    version: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "email", fold_email(self.email))


def require_distinct_ids(students: Sequence[Student]) -> None:
    """Refuse a batch that names the same student twice (it would be ambiguous)."""
    seen: set[StudentId] = set()
    for index, student in enumerate(students):
        if student.id in seen:
            raise ValidationError(
                [FieldProblem(f"students[{index}].id", f"{student.id} appears twice")]
            )
        seen.add(student.id)


@dataclass(frozen=True, slots=True)
class Faculty:
    """A teacher: department, subjects they are qualified for and cover caps.

    A teacher who is not ``active`` keeps their history but cannot sign in and is never
    offered cover.
    """

    id: FacultyId
    institution_id: InstitutionId
    name: str
    email: str
    department: str
    qualified_subjects: frozenset[SubjectCode] = frozenset()
    max_covers_per_day: int | None = None
    max_covers_per_week: int | None = None
    is_admin: bool = False
    active: bool = True
    version: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "email", fold_email(self.email))


@dataclass(frozen=True, slots=True)
class DeviceBinding:
    """The one device a student may check in from (one per student, one student per device)."""

    institution_id: InstitutionId
    student_id: StudentId
    device_id: DeviceId
    bound_at: datetime


def validate_device_id(device_id: str) -> DeviceId:
    """Return a device id if it is well-formed: 8 to 200 printable characters, no spaces."""
    if not 8 <= len(device_id) <= 200 or not device_id.isprintable() or " " in device_id:
        raise ValidationError(
            [FieldProblem("device_id", "must be 8 to 200 printable characters without spaces")]
        )
    return DeviceId(device_id)
