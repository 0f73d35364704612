"""Managing the institution: people, teaching, calendar, settings and dated sessions.

Create bodies carry the writable fields of a record (the key is optional where the server
generates one); patch bodies carry only the fields to change: a field left out keeps its
value (``UNSET``), ``null`` clears a nullable one. ``version`` in a patch body is the
version the client read; the change is refused with ``409 concurrent_update`` if the record
changed since.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from datetime import time
from decimal import Decimal
from typing import Annotated, Any, Literal, TypedDict

import msgspec
from msgspec import UNSET, UnsetType

from ams_core.domain import (
    ClassSession,
    Faculty,
    FieldProblem,
    Holiday,
    Institution,
    Section,
    Student,
    Subject,
    SubjectCode,
    SubjectKind,
    TeachingAssignment,
    Term,
    ValidationError,
    WeeklySlot,
)
from ams_core.use_cases import HolidayDeclared, Page
from ams_http.schemas.attendance import LocalTime, ReasonText, SessionStatusText
from ams_http.schemas.base import CamelBody, CamelStruct, Id

NameText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LabelText = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
ShortNameText = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
EmailText = Annotated[str, msgspec.Meta(min_length=3, max_length=254)]
VenueText = Annotated[str, msgspec.Meta(max_length=100)]
HolidayName = Annotated[str, msgspec.Meta(max_length=100)]
Year = Annotated[int, msgspec.Meta(ge=1, le=12)]
Weekday = Annotated[int, msgspec.Meta(ge=1, le=7)]
RollNumber = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
CoverCap = Annotated[int, msgspec.Meta(ge=0, le=50)]
CoverWeight = Annotated[int, msgspec.Meta(ge=0, le=100)]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=1440)]
Version = Annotated[int, msgspec.Meta(ge=0)]
SubjectKindText = Literal["theory", "lab"]
SubjectCodes = Annotated[list[Id], msgspec.Meta(max_length=200)]
NetworkText = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
TimezoneText = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


def local_time(field: str, text: str) -> time:
    """Parse a local ``HH:MM[:SS]`` time, naming ``field`` when it is not a time of day."""
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValidationError([FieldProblem(field, f"{text!r} is not a time of day")]) from None


def local_times(**texts: str | UnsetType) -> dict[str, time]:
    """Parse the local times given (``start="09:00"``), naming every one that is not a time."""
    times: dict[str, time] = {}
    problems: list[FieldProblem] = []
    for field, text in texts.items():
        if isinstance(text, UnsetType):
            continue
        try:
            times[field] = local_time(field, text)
        except ValidationError as error:
            problems.extend(error.problems)
    if problems:
        raise ValidationError(problems)
    return times


def given(
    body: msgspec.Struct,
    convert: Mapping[str, Callable[[Any], object]] | None = None,
    *,
    skip: frozenset[str] = frozenset({"version"}),
) -> dict[str, object]:
    """The fields the client set (snake_case, as the core names them), converted."""
    convert = convert or {}
    fields: dict[str, object] = {}
    problems: list[FieldProblem] = []
    for name in body.__struct_fields__:
        value = getattr(body, name)
        if name in skip or value is UNSET:
            continue
        try:
            fields[name] = convert[name](value) if name in convert and value is not None else value
        except ValidationError as error:
            problems.extend(error.problems)
    if problems:
        raise ValidationError(problems)
    return fields


class PageCounts(TypedDict):
    """The paging members every list answer carries next to its ``items``."""

    total: int
    limit: int
    offset: int


def counts(page: Page[Any]) -> PageCounts:
    """The paging members of a page."""
    return PageCounts(total=page.total, limit=page.limit, offset=page.offset)


# -- sections ---------------------------------------------------------------------------
class SectionIn(CamelBody):
    id: Id
    year: Year
    department: LabelText
    name: LabelText

    def fields(self) -> dict[str, object]:
        return given(self)


class SectionPatch(CamelBody):
    year: Year | UnsetType = UNSET
    department: LabelText | UnsetType = UNSET
    name: LabelText | UnsetType = UNSET
    version: Version | None = None

    def fields(self) -> dict[str, object]:
        return given(self)


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
class StudentIn(CamelBody):
    id: Id
    name: NameText
    email: EmailText
    section_id: Id
    roll_number: RollNumber | UnsetType | None = UNSET
    is_class_representative: bool | UnsetType = UNSET

    def fields(self) -> dict[str, object]:
        return given(self)


class StudentPatch(CamelBody):
    name: NameText | UnsetType = UNSET
    email: EmailText | UnsetType = UNSET
    section_id: Id | UnsetType = UNSET
    roll_number: RollNumber | UnsetType | None = UNSET
    is_class_representative: bool | UnsetType = UNSET
    version: Version | None = None

    def fields(self) -> dict[str, object]:
        return given(self)


class StudentOut(CamelStruct):
    id: str
    name: str
    email: str
    section_id: str
    roll_number: int | None
    is_class_representative: bool
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


class FacultyIn(CamelBody):
    id: Id
    name: NameText
    email: EmailText
    department: LabelText
    qualified_subjects: SubjectCodes | UnsetType = UNSET
    max_covers_per_day: CoverCap | UnsetType | None = UNSET
    max_covers_per_week: CoverCap | UnsetType | None = UNSET
    is_admin: bool | UnsetType = UNSET

    def fields(self) -> dict[str, object]:
        return given(self, _FACULTY_CONVERT)


class FacultyPatch(CamelBody):
    name: NameText | UnsetType = UNSET
    email: EmailText | UnsetType = UNSET
    department: LabelText | UnsetType = UNSET
    qualified_subjects: SubjectCodes | UnsetType = UNSET
    max_covers_per_day: CoverCap | UnsetType | None = UNSET
    max_covers_per_week: CoverCap | UnsetType | None = UNSET
    is_admin: bool | UnsetType = UNSET
    version: Version | None = None

    def fields(self) -> dict[str, object]:
        return given(self, _FACULTY_CONVERT)


class FacultyOut(CamelStruct):
    id: str
    name: str
    email: str
    department: str
    qualified_subjects: list[str]
    max_covers_per_day: int | None
    max_covers_per_week: int | None
    is_admin: bool
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
            version=faculty.version,
        )


class FacultyPageOut(CamelStruct):
    items: list[FacultyOut]
    total: int
    limit: int
    offset: int


# -- subjects ---------------------------------------------------------------------------
_SUBJECT_CONVERT = {"kind": SubjectKind}


class SubjectIn(CamelBody):
    code: Id
    short_name: ShortNameText
    name: NameText
    kind: SubjectKindText | UnsetType = UNSET

    def fields(self) -> dict[str, object]:
        return given(self, _SUBJECT_CONVERT)


class SubjectPatch(CamelBody):
    short_name: ShortNameText | UnsetType = UNSET
    name: NameText | UnsetType = UNSET
    kind: SubjectKindText | UnsetType = UNSET
    version: Version | None = None

    def fields(self) -> dict[str, object]:
        return given(self, _SUBJECT_CONVERT)


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
class AssignmentIn(CamelBody, kw_only=True):
    id: Id | UnsetType = UNSET
    faculty_id: Id
    subject_code: Id
    section_id: Id

    def fields(self) -> dict[str, object]:
        return given(self)


class AssignmentPatch(CamelBody):
    faculty_id: Id | UnsetType = UNSET
    subject_code: Id | UnsetType = UNSET
    section_id: Id | UnsetType = UNSET
    version: Version | None = None

    def fields(self) -> dict[str, object]:
        return given(self)


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


class SlotIn(CamelBody, kw_only=True):
    id: Id | UnsetType = UNSET
    assignment_id: Id
    weekday: Weekday
    start: LocalTime
    end: LocalTime
    venue: VenueText | UnsetType = UNSET

    def fields(self) -> dict[str, object]:
        return given(self, _SLOT_CONVERT)


class SlotPatch(CamelBody):
    assignment_id: Id | UnsetType = UNSET
    weekday: Weekday | UnsetType = UNSET
    start: LocalTime | UnsetType = UNSET
    end: LocalTime | UnsetType = UNSET
    venue: VenueText | UnsetType = UNSET
    version: Version | None = None

    def fields(self) -> dict[str, object]:
        return given(self, _SLOT_CONVERT)


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
            start=slot.start.isoformat(),
            end=slot.end.isoformat(),
            venue=slot.venue,
            version=slot.version,
        )


class SlotPageOut(CamelStruct):
    items: list[SlotOut]
    total: int
    limit: int
    offset: int


# -- terms ------------------------------------------------------------------------------
class TermIn(CamelBody, kw_only=True):
    id: Id | UnsetType = UNSET
    name: LabelText
    start: dt.date
    end: dt.date

    def fields(self) -> dict[str, object]:
        return given(self)


class TermPatch(CamelBody):
    name: LabelText | UnsetType = UNSET
    start: dt.date | UnsetType = UNSET
    end: dt.date | UnsetType = UNSET
    version: Version | None = None

    def fields(self) -> dict[str, object]:
        return given(self)


class TermOut(CamelStruct):
    id: str
    name: str
    start: dt.date
    end: dt.date
    version: int

    @classmethod
    def of(cls, term: Term) -> TermOut:
        return cls(id=term.id, name=term.name, start=term.start, end=term.end, version=term.version)


class TermPageOut(CamelStruct):
    items: list[TermOut]
    total: int
    limit: int
    offset: int


# -- holidays ---------------------------------------------------------------------------
class HolidayIn(CamelBody):
    date: dt.date
    name: HolidayName = ""


class HolidayOut(CamelStruct):
    date: dt.date
    name: str

    @classmethod
    def of(cls, holiday: Holiday) -> HolidayOut:
        return cls(date=holiday.date, name=holiday.name)


class HolidayDeclaredOut(CamelStruct):
    date: dt.date
    name: str
    cancelled_sessions: list[str]

    @classmethod
    def of(cls, declared: HolidayDeclared) -> HolidayDeclaredOut:
        return cls(
            date=declared.holiday.date,
            name=declared.holiday.name,
            cancelled_sessions=list(declared.cancelled),
        )


class HolidayPageOut(CamelStruct):
    items: list[HolidayOut]
    total: int
    limit: int
    offset: int


# -- institution settings ---------------------------------------------------------------
class CoverSettingsPatch(CamelBody):
    max_covers_per_day: CoverCap | UnsetType = UNSET
    max_covers_per_week: CoverCap | UnsetType = UNSET
    weight_qualified: CoverWeight | UnsetType = UNSET
    weight_teaches_section: CoverWeight | UnsetType = UNSET
    weight_same_department: CoverWeight | UnsetType = UNSET
    weight_adjacent: CoverWeight | UnsetType = UNSET
    weight_fairness: CoverWeight | UnsetType = UNSET
    weight_continuity: CoverWeight | UnsetType = UNSET
    weight_preferred: CoverWeight | UnsetType = UNSET


class InstitutionPatch(CamelBody):
    name: NameText | UnsetType = UNSET
    timezone: TimezoneText | UnsetType = UNSET
    attendance_threshold: Decimal | UnsetType = UNSET
    code_rotation_seconds: Annotated[int, msgspec.Meta(ge=0, le=3600)] | UnsetType = UNSET
    check_in_window_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] | UnsetType = UNSET
    late_after_minutes: Minutes | UnsetType = UNSET
    open_early_minutes: Minutes | UnsetType = UNSET
    auto_complete_grace_minutes: Minutes | UnsetType = UNSET
    campus_networks: Annotated[list[NetworkText], msgspec.Meta(max_length=100)] | UnsetType = UNSET
    max_wrong_codes_per_student: Annotated[int, msgspec.Meta(ge=1, le=100)] | UnsetType = UNSET
    max_wrong_codes_per_session: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | UnsetType = UNSET
    cover: CoverSettingsPatch | UnsetType = UNSET
    version: Version | None = None

    def changes(self) -> dict[str, object]:
        return given(self, {"cover": given})


class CoverSettingsOut(CamelStruct):
    max_covers_per_day: int
    max_covers_per_week: int
    weight_qualified: int
    weight_teaches_section: int
    weight_same_department: int
    weight_adjacent: int
    weight_fairness: int
    weight_continuity: int
    weight_preferred: int


class InstitutionOut(CamelStruct):
    id: str
    name: str
    timezone: str
    email_domains: list[str]
    attendance_threshold: Decimal
    code_rotation_seconds: int
    check_in_window_minutes: int
    late_after_minutes: int
    open_early_minutes: int
    auto_complete_grace_minutes: int
    campus_networks: list[str]
    max_wrong_codes_per_student: int
    max_wrong_codes_per_session: int
    cover: CoverSettingsOut
    version: int

    @classmethod
    def of(cls, institution: Institution) -> InstitutionOut:
        settings, cover = institution.settings, institution.settings.cover
        return cls(
            id=institution.id,
            name=institution.name,
            timezone=institution.timezone,
            email_domains=sorted(institution.email_domains),
            attendance_threshold=settings.attendance_threshold,
            code_rotation_seconds=settings.code_rotation_seconds,
            check_in_window_minutes=settings.check_in_window_minutes,
            late_after_minutes=settings.late_after_minutes,
            open_early_minutes=settings.open_early_minutes,
            auto_complete_grace_minutes=settings.auto_complete_grace_minutes,
            campus_networks=list(settings.campus_networks),
            max_wrong_codes_per_student=settings.max_wrong_codes_per_student,
            max_wrong_codes_per_session=settings.max_wrong_codes_per_session,
            cover=CoverSettingsOut(
                max_covers_per_day=cover.max_covers_per_day,
                max_covers_per_week=cover.max_covers_per_week,
                weight_qualified=cover.weight_qualified,
                weight_teaches_section=cover.weight_teaches_section,
                weight_same_department=cover.weight_same_department,
                weight_adjacent=cover.weight_adjacent,
                weight_fairness=cover.weight_fairness,
                weight_continuity=cover.weight_continuity,
                weight_preferred=cover.weight_preferred,
            ),
            version=institution.version,
        )


# -- dated sessions ---------------------------------------------------------------------
class NewSessionIn(CamelBody):
    assignment_id: Id
    date: dt.date
    start: LocalTime
    end: LocalTime
    venue: VenueText = ""


class SessionPatch(CamelBody):
    date: dt.date | UnsetType = UNSET
    start: LocalTime | UnsetType = UNSET
    end: LocalTime | UnsetType = UNSET
    venue: VenueText | UnsetType = UNSET
    version: Version | None = None


class CancelSessionIn(CamelBody):
    reason: ReasonText | None = None
    version: Version | None = None


class ClassSessionOut(CamelStruct):
    id: str
    assignment_id: str
    slot_id: str | None
    section_id: str
    subject_code: str
    teacher_id: str
    date: dt.date
    start: LocalTime
    end: LocalTime
    venue: str
    status: SessionStatusText
    topic: str | None
    version: int

    @classmethod
    def of(cls, session: ClassSession) -> ClassSessionOut:
        return cls(
            id=session.id,
            assignment_id=session.assignment_id,
            slot_id=session.slot_id,
            section_id=session.section_id,
            subject_code=session.subject_code,
            teacher_id=session.teacher_id,
            date=session.date,
            start=session.start.isoformat(),
            end=session.end.isoformat(),
            venue=session.venue,
            status=session.status.value,
            topic=session.topic,
            version=session.version,
        )


class ClassSessionPageOut(CamelStruct):
    items: list[ClassSessionOut]
    total: int
    limit: int
    offset: int
