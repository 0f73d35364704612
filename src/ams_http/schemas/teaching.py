"""Teaching: subjects, teaching assignments and weekly slots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from ams_core.domain import (
    Subject,
    SubjectKind,
    TeachingAssignment,
    WeeklySlot,
)
from ams_http.schemas.attendance import LocalTime
from ams_http.schemas.base import CamelStruct, Id
from ams_http.schemas.common import (
    ChangeBody,
    NameText,
    VenueText,
    Version,
    local_time,
    time_text,
)

ShortNameText = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Weekday = Annotated[int, msgspec.Meta(ge=1, le=7)]
SubjectKindText = Literal["theory", "lab"]


# -- subjects ---------------------------------------------------------------------------
_SUBJECT_CONVERT = {"kind": SubjectKind}


class SubjectIn(ChangeBody):
    code: Id
    short_name: ShortNameText
    name: NameText
    kind: SubjectKindText | UnsetType = UNSET

    convert = _SUBJECT_CONVERT


class SubjectPatch(ChangeBody):
    short_name: ShortNameText | UnsetType = UNSET
    name: NameText | UnsetType = UNSET
    kind: SubjectKindText | UnsetType = UNSET
    version: Version | None = None

    convert = _SUBJECT_CONVERT


class SubjectOut(CamelStruct):
    code: str
    short_name: str
    name: str
    kind: SubjectKindText
    version: int

    @classmethod
    def of(cls, subject: Subject) -> SubjectOut:
        return cls(
            code=subject.code,
            short_name=subject.short_name,
            name=subject.name,
            kind=subject.kind.value,
            version=subject.version,
        )


class SubjectPageOut(CamelStruct):
    items: list[SubjectOut]
    total: int
    limit: int
    offset: int


# -- teaching assignments ---------------------------------------------------------------
class AssignmentIn(ChangeBody, kw_only=True):
    id: Id | UnsetType = UNSET
    faculty_id: Id
    subject_code: Id
    section_id: Id


class AssignmentPatch(ChangeBody):
    faculty_id: Id | UnsetType = UNSET
    subject_code: Id | UnsetType = UNSET
    section_id: Id | UnsetType = UNSET
    version: Version | None = None


class AssignmentOut(CamelStruct):
    id: str
    faculty_id: str
    subject_code: str
    section_id: str
    version: int

    @classmethod
    def of(cls, assignment: TeachingAssignment) -> AssignmentOut:
        return cls(
            id=assignment.id,
            faculty_id=assignment.faculty_id,
            subject_code=assignment.subject_code,
            section_id=assignment.section_id,
            version=assignment.version,
        )


class AssignmentPageOut(CamelStruct):
    items: list[AssignmentOut]
    total: int
    limit: int
    offset: int


# -- weekly slots -----------------------------------------------------------------------
_SLOT_CONVERT: dict[str, Callable[[Any], object]] = {
    "start": lambda text: local_time("start", text),
    "end": lambda text: local_time("end", text),
}


class SlotIn(ChangeBody, kw_only=True):
    id: Id | UnsetType = UNSET
    assignment_id: Id
    weekday: Weekday
    start: LocalTime
    end: LocalTime
    venue: VenueText | UnsetType = UNSET

    convert = _SLOT_CONVERT


class SlotPatch(ChangeBody):
    assignment_id: Id | UnsetType = UNSET
    weekday: Weekday | UnsetType = UNSET
    start: LocalTime | UnsetType = UNSET
    end: LocalTime | UnsetType = UNSET
    venue: VenueText | UnsetType = UNSET
    version: Version | None = None

    convert = _SLOT_CONVERT


class SlotOut(CamelStruct):
    id: str
    assignment_id: str
    weekday: int
    start: LocalTime
    end: LocalTime
    venue: str
    version: int

    @classmethod
    def of(cls, slot: WeeklySlot) -> SlotOut:
        return cls(
            id=slot.id,
            assignment_id=slot.assignment_id,
            weekday=slot.weekday,
            start=time_text(slot.start),
            end=time_text(slot.end),
            venue=slot.venue,
            version=slot.version,
        )


class SlotPageOut(CamelStruct):
    items: list[SlotOut]
    total: int
    limit: int
    offset: int
