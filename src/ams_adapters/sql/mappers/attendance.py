"""Rows of attendance marks."""

from __future__ import annotations

from typing import Any

from ams_adapters.sql.mappers._base import Row
from ams_core.domain import (
    AttendanceMark,
    AttendanceStatus,
    DeviceId,
    InstitutionId,
    MarkSource,
    SessionId,
    StudentId,
)


def mark_row(m: AttendanceMark, subject_code: str, day: object, counted: bool) -> dict[str, Any]:
    return {
        "institution_id": m.institution_id,
        "session_id": m.session_id,
        "student_id": m.student_id,
        "status": m.status.value,
        "marked_at": m.marked_at,
        "marked_by": m.marked_by,
        "source": m.source.value,
        "device_id": m.device_id,
        "version": m.version,
        "subject_code": subject_code,
        "day": day,
        "counted": counted,
    }


#: by stored value, as ``sessions._SESSION_STATUS``: many marks are read at once
_STATUS = {status.value: status for status in AttendanceStatus}
_SOURCE = {source.value: source for source in MarkSource}


def mark_status(value: str) -> AttendanceStatus:
    """The status stored as ``value`` (ValueError for an unknown one)."""
    return _STATUS.get(value) or AttendanceStatus(value)


def mark_from(row: Row) -> AttendanceMark:
    return AttendanceMark(
        institution_id=InstitutionId(row["institution_id"]),
        session_id=SessionId(row["session_id"]),
        student_id=StudentId(row["student_id"]),
        status=mark_status(row["status"]),
        marked_at=row["marked_at"],
        marked_by=row["marked_by"],
        source=_SOURCE.get(row["source"]) or MarkSource(row["source"]),
        device_id=DeviceId(row["device_id"]) if row["device_id"] is not None else None,
        version=row["version"],
    )
