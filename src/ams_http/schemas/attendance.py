"""Schedules, attendance codes, check-in, rosters, marking and completion."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from ams_core.domain import ClassSession, StatusTally
from ams_core.domain.reports import SubjectAttendance
from ams_core.use_cases import (
    AttendanceSummary,
    CheckInResult,
    CompleteSessionResult,
    DashboardClass,
    FacultyDashboard,
    GenerateWeekResult,
    OpenAttendanceResult,
    ScheduleEntry,
    SessionRoster,
)
from ams_http.schemas.base import CamelBody, CamelStruct, DeviceIdText, Id
from ams_http.schemas.common import time_text

# Litestar documents datetime.time as a duration; the wire form is local "HH:MM[:SS]".
LocalTime = Annotated[str, msgspec.Meta(pattern=r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")]
Status = Literal["present", "late", "absent", "excused"]
SessionStatusText = Literal["scheduled", "open", "completed", "cancelled"]
CodeText = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
TopicText = Annotated[str, msgspec.Meta(max_length=500)]
ReasonText = Annotated[str, msgspec.Meta(max_length=500)]


class ScheduleItemOut(CamelStruct):
    session_id: str
    date: date
    start: LocalTime
    end: LocalTime
    starts_at: datetime
    ends_at: datetime
    section_id: str
    subject_code: str
    subject_name: str
    teacher_id: str
    teacher_name: str
    venue: str
    status: SessionStatusText
    topic: str | None
    my_status: Status | None

    @classmethod
    def of(cls, entry: ScheduleEntry) -> ScheduleItemOut:
        return cls(
            session_id=entry.session_id,
            date=entry.date,
            start=time_text(entry.start),
            end=time_text(entry.end),
            starts_at=entry.starts_at,
            ends_at=entry.ends_at,
            section_id=entry.section_id,
            subject_code=entry.subject_code,
            subject_name=entry.subject_name,
            teacher_id=entry.teacher_id,
            teacher_name=entry.teacher_name,
            venue=entry.venue,
            # _value_, the member's value itself: .value is a property call per read
            status=entry.status._value_,
            topic=entry.topic,
            my_status=entry.my_status._value_ if entry.my_status else None,
        )


class ScheduleOut(CamelStruct):
    from_: date = msgspec.field(name="from")
    to: date
    items: list[ScheduleItemOut]


class AttendanceCodeOut(CamelStruct):
    session_id: str
    code: str
    rotates_every_seconds: int
    code_valid_until: datetime
    window_opened_at: datetime
    window_closes_at: datetime

    @classmethod
    def of(cls, result: OpenAttendanceResult) -> AttendanceCodeOut:
        return cls(
            session_id=result.session_id,
            code=result.code,
            rotates_every_seconds=result.rotates_every_seconds,
            code_valid_until=result.code_valid_until,
            window_opened_at=result.window_opened_at,
            window_closes_at=result.window_closes_at,
        )


class CheckInBody(CamelBody):
    code: CodeText
    device_id: DeviceIdText


class CheckInOut(CamelStruct):
    status: Status
    marked_at: datetime
    already_marked: bool

    @classmethod
    def of(cls, result: CheckInResult) -> CheckInOut:
        return cls(
            status=result.status.value,
            marked_at=result.marked_at,
            already_marked=result.already_marked,
        )


class TallyOut(CamelStruct):
    present: int
    late: int
    absent: int
    excused: int
    unmarked: int | None = None

    @classmethod
    def of(cls, tally: StatusTally, unmarked: int | None = None) -> TallyOut:
        return cls(
            present=tally.present,
            late=tally.late,
            absent=tally.absent,
            excused=tally.excused,
            unmarked=unmarked,
        )


class SessionOut(CamelStruct):
    id: str
    date: date
    start: LocalTime
    end: LocalTime
    section_id: str
    subject_code: str
    teacher_id: str
    venue: str
    status: SessionStatusText
    topic: str | None
    version: int

    @classmethod
    def of(cls, session: ClassSession) -> SessionOut:
        return cls(
            id=session.id,
            date=session.date,
            start=time_text(session.start),
            end=time_text(session.end),
            section_id=session.section_id,
            subject_code=session.subject_code,
            teacher_id=session.teacher_id,
            venue=session.venue,
            status=session.status.value,
            topic=session.topic,
            version=session.version,
        )


class RosterRowOut(CamelStruct):
    student_id: str
    name: str
    roll_number: int | None
    status: Status | None
    marked_at: datetime | None
    source: str | None


class RosterOut(CamelStruct):
    session: SessionOut
    students: list[RosterRowOut]
    tally: TallyOut

    @classmethod
    def of(cls, roster: SessionRoster) -> RosterOut:
        rows = [
            RosterRowOut(
                student_id=row.student_id,
                name=row.name,
                roll_number=row.roll_number,
                status=row.status.value if row.status else None,
                marked_at=row.marked_at,
                source=row.source.value if row.source else None,
            )
            for row in roster.rows
        ]
        unmarked = sum(1 for row in roster.rows if row.status is None)
        return cls(
            session=SessionOut.of(roster.session),
            students=rows,
            tally=TallyOut.of(roster.tally, unmarked),
        )


class MarkIn(CamelBody):
    student_id: Id
    status: Status


class MarkAttendanceBody(CamelBody):
    marks: Annotated[list[MarkIn], msgspec.Meta(min_length=1, max_length=1000)]
    reason: ReasonText | None = None


class MarkAttendanceOut(CamelStruct):
    changed: int
    unchanged: int


class CompleteBody(CamelBody):
    topic: TopicText | None = None


class CompleteOut(CamelStruct):
    session_id: str
    marked_absent: int
    already_completed: bool
    tally: TallyOut

    @classmethod
    def of(cls, result: CompleteSessionResult) -> CompleteOut:
        return cls(
            session_id=result.session_id,
            marked_absent=result.marked_absent,
            already_completed=result.already_completed,
            tally=TallyOut.of(result.tally),
        )


class SubjectAttendanceOut(CamelStruct):
    subject_code: str
    subject_name: str
    held: int
    attended: int
    excused: int
    percent: Decimal | None
    remaining: int
    need_to_attend: int | None
    below_threshold: bool

    @classmethod
    def of(cls, row: SubjectAttendance) -> SubjectAttendanceOut:
        return cls(
            subject_code=row.subject_code,
            subject_name=row.subject_name,
            held=row.held,
            attended=row.attended,
            excused=row.excused,
            percent=row.percent,
            remaining=row.remaining,
            need_to_attend=row.need_to_attend,
            below_threshold=row.below_threshold,
        )


class AttendanceSummaryOut(CamelStruct):
    student_id: str
    student_name: str
    section_id: str
    term_name: str | None
    from_: date = msgspec.field(name="from")
    to: date
    threshold: Decimal
    subjects: list[SubjectAttendanceOut]

    @classmethod
    def of(cls, summary: AttendanceSummary) -> AttendanceSummaryOut:
        return cls(
            student_id=summary.student_id,
            student_name=summary.student_name,
            section_id=summary.section_id,
            term_name=summary.term_name,
            from_=summary.dates.start,
            to=summary.dates.end,
            threshold=summary.threshold,
            subjects=[SubjectAttendanceOut.of(row) for row in summary.subjects],
        )


class DashboardClassOut(CamelStruct):
    assignment_id: str
    section_id: str
    subject_code: str
    subject_name: str
    sessions_held: int
    average_percent: Decimal | None
    last_topic: str | None
    last_held_on: date | None
    next_session: SessionOut | None

    @classmethod
    def of(cls, row: DashboardClass) -> DashboardClassOut:
        return cls(
            assignment_id=row.assignment_id,
            section_id=row.section_id,
            subject_code=row.subject_code,
            subject_name=row.subject_name,
            sessions_held=row.sessions_held,
            average_percent=row.average_percent,
            last_topic=row.last_topic,
            last_held_on=row.last_held_on,
            next_session=SessionOut.of(row.next_session) if row.next_session else None,
        )


class DashboardOut(CamelStruct):
    faculty_id: str
    classes: list[DashboardClassOut]

    @classmethod
    def of(cls, dashboard: FacultyDashboard) -> DashboardOut:
        return cls(
            faculty_id=dashboard.faculty_id,
            classes=[DashboardClassOut.of(row) for row in dashboard.classes],
        )


class GenerateWeekOut(CamelStruct):
    created: int
    already_present: int
    skipped_holidays: int
    skipped_outside_term: int

    @classmethod
    def of(cls, result: GenerateWeekResult) -> GenerateWeekOut:
        return cls(
            created=result.created,
            already_present=result.already_present,
            skipped_holidays=result.skipped_holidays,
            skipped_outside_term=result.skipped_outside_term,
        )
