"""Rows of dated class sessions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ams_adapters.sql.mappers._base import Row
from ams_adapters.sql.mappers.attendance import mark_status
from ams_core.domain import (
    AssignmentId,
    AttendanceWindow,
    ClassSession,
    FacultyId,
    InstitutionId,
    SectionId,
    SessionId,
    SessionStatus,
    SlotId,
    StatusTally,
    SubjectCode,
)
from ams_core.ports import ScheduledClass


def session_row(s: ClassSession) -> dict[str, Any]:
    w = s.window
    return {
        "institution_id": s.institution_id,
        "id": s.id,
        "assignment_id": s.assignment_id,
        "section_id": s.section_id,
        "subject_code": s.subject_code,
        "day": s.date,
        "start_time": s.start,
        "end_time": s.end,
        "teacher_id": s.teacher_id,
        "venue": s.venue,
        "slot_id": s.slot_id,
        "status": s.status.value,
        "topic": s.topic,
        "window_opened_at": w.opened_at if w else None,
        "window_closes_at": w.closes_at if w else None,
        "window_secret": w.secret if w else None,
        "window_rotation_seconds": w.rotation_seconds if w else None,
        "completed_at": s.completed_at,
        "tally_present": s.tally.present,
        "tally_late": s.tally.late,
        "tally_absent": s.tally.absent,
        "tally_excused": s.tally.excused,
        "version": s.version,
    }


#: a status by its stored value: a dict lookup where calling the enum runs its lookup in
#: Python (a week's schedule maps 30 sessions); an unknown value still raises ValueError
_SESSION_STATUS = {status.value: status for status in SessionStatus}


def session_from(row: Row) -> ClassSession:
    window = None
    if row["window_opened_at"] is not None:
        window = AttendanceWindow(
            opened_at=row["window_opened_at"],
            closes_at=row["window_closes_at"],
            secret=bytes(row["window_secret"]),
            rotation_seconds=row["window_rotation_seconds"],
        )
    return ClassSession(
        id=SessionId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        assignment_id=AssignmentId(row["assignment_id"]),
        section_id=SectionId(row["section_id"]),
        subject_code=SubjectCode(row["subject_code"]),
        date=row["day"],
        start=row["start_time"],
        end=row["end_time"],
        teacher_id=FacultyId(row["teacher_id"]),
        venue=row["venue"],
        slot_id=SlotId(row["slot_id"]) if row["slot_id"] is not None else None,
        status=_SESSION_STATUS.get(row["status"]) or SessionStatus(row["status"]),
        topic=row["topic"],
        window=window,
        completed_at=row["completed_at"],
        tally=StatusTally(
            row["tally_present"], row["tally_late"], row["tally_absent"], row["tally_excused"]
        ),
        version=row["version"],
    )


def scheduled_class_from(row: Sequence[Any]) -> ScheduledClass:
    """A row of ``(id, day, start_time, end_time, section_id, subject_code, teacher_id,
    venue, status, topic, the student's mark's status)``: one class of a schedule."""
    (session_id, day, start, end, section, subject, teacher, venue, status, topic, mark) = row
    return ScheduledClass(
        id=session_id,
        date=day,
        start=start,
        end=end,
        section_id=section,
        subject_code=subject,
        teacher_id=teacher,
        venue=venue,
        status=_SESSION_STATUS.get(status) or SessionStatus(status),
        topic=topic,
        my_status=None if mark is None else mark_status(mark),
    )
