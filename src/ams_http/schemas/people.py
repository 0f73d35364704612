"""People: sections, students and faculty (see ``schemas.common`` for patches)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from ams_core.domain import (
    Faculty,
    Section,
    Student,
    SubjectCode,
)
from ams_http.schemas.base import CamelStruct, Id
from ams_http.schemas.common import (
    ChangeBody,
    CoverCap,
    LabelText,
    NameText,
    Version,
)

EmailText = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
Year = Annotated[int, msgspec.Meta(ge=1, le=12)]
RollNumber = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
SubjectCodes = Annotated[list[Id], msgspec.Meta(max_length=200)]


# -- sections ---------------------------------------------------------------------------
class SectionIn(ChangeBody):
    id: Id
    year: Year
    department: LabelText
    name: LabelText


class SectionPatch(ChangeBody):
    year: Year | UnsetType = UNSET
    department: LabelText | UnsetType = UNSET
    name: LabelText | UnsetType = UNSET
    version: Version | None = None


class SectionOut(CamelStruct):
    id: str
    year: int
    department: str
    name: str
    version: int

    @classmethod
    def of(cls, section: Section) -> SectionOut:
        return cls(
            id=section.id,
            year=section.year,
            department=section.department,
            name=section.name,
            version=section.version,
        )


class SectionPageOut(CamelStruct):
    items: list[SectionOut]
    total: int
    limit: int
    offset: int


# -- students ---------------------------------------------------------------------------
class StudentIn(ChangeBody):
    id: Id
    name: NameText
    email: EmailText
    section_id: Id
    roll_number: RollNumber | UnsetType | None = UNSET
    is_class_representative: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class StudentPatch(ChangeBody):
    name: NameText | UnsetType = UNSET
    email: EmailText | UnsetType = UNSET
    section_id: Id | UnsetType = UNSET
    roll_number: RollNumber | UnsetType | None = UNSET
    is_class_representative: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    version: Version | None = None


class StudentOut(CamelStruct):
    id: str
    name: str
    email: str
    section_id: str
    roll_number: int | None
    is_class_representative: bool
    active: bool
    version: int

    @classmethod
    def of(cls, student: Student) -> StudentOut:
        return cls(
            id=student.id,
            name=student.name,
            email=student.email,
            section_id=student.section_id,
            roll_number=student.roll_number,
            is_class_representative=student.is_class_representative,
            active=student.active,
            version=student.version,
        )


class StudentPageOut(CamelStruct):
    items: list[StudentOut]
    total: int
    limit: int
    offset: int


# -- faculty ----------------------------------------------------------------------------
def _subject_codes(codes: list[str]) -> frozenset[SubjectCode]:
    return frozenset(SubjectCode(code) for code in codes)


_FACULTY_CONVERT = {"qualified_subjects": _subject_codes}


class FacultyIn(ChangeBody):
    id: Id
    name: NameText
    email: EmailText
    department: LabelText
    qualified_subjects: SubjectCodes | UnsetType = UNSET
    max_covers_per_day: CoverCap | UnsetType | None = UNSET
    max_covers_per_week: CoverCap | UnsetType | None = UNSET
    is_admin: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET

    convert = _FACULTY_CONVERT


class FacultyPatch(ChangeBody):
    name: NameText | UnsetType = UNSET
    email: EmailText | UnsetType = UNSET
    department: LabelText | UnsetType = UNSET
    qualified_subjects: SubjectCodes | UnsetType = UNSET
    max_covers_per_day: CoverCap | UnsetType | None = UNSET
    max_covers_per_week: CoverCap | UnsetType | None = UNSET
    is_admin: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    version: Version | None = None

    convert = _FACULTY_CONVERT


class FacultyOut(CamelStruct):
    id: str
    name: str
    email: str
    department: str
    qualified_subjects: list[str]
    max_covers_per_day: int | None
    max_covers_per_week: int | None
    is_admin: bool
    active: bool
    version: int

    @classmethod
    def of(cls, faculty: Faculty) -> FacultyOut:
        return cls(
            id=faculty.id,
            name=faculty.name,
            email=faculty.email,
            department=faculty.department,
            qualified_subjects=sorted(faculty.qualified_subjects),
            max_covers_per_day=faculty.max_covers_per_day,
            max_covers_per_week=faculty.max_covers_per_week,
            is_admin=faculty.is_admin,
            active=faculty.active,
            version=faculty.version,
        )


class FacultyPageOut(CamelStruct):
    items: list[FacultyOut]
    total: int
    limit: int
    offset: int
