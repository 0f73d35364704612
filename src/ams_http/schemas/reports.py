"""Defaulter lists and registers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec

from ams_core.use_cases import DefaultersResult, Register
from ams_http.schemas.attendance import Status, SubjectAttendanceOut
from ams_http.schemas.base import CamelStruct


class DefaulterOut(CamelStruct):
    student_id: str
    student_name: str
    section_id: str
    attendance: SubjectAttendanceOut


class DefaultersOut(CamelStruct):
    threshold: Decimal
    from_: date = msgspec.field(name="from")
    to: date
    items: list[DefaulterOut]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, result: DefaultersResult, limit: int, offset: int) -> DefaultersOut:
        rows = result.rows[offset : offset + limit]
        return cls(
            threshold=result.threshold,
            from_=result.dates.start,
            to=result.dates.end,
            items=[
                DefaulterOut(
                    student_id=row.student_id,
                    student_name=row.student_name,
                    section_id=row.section_id,
                    attendance=SubjectAttendanceOut.of(row.attendance),
                )
                for row in rows
            ],
            total=len(result.rows),
            limit=limit,
            offset=offset,
        )


class RegisterColumnOut(CamelStruct):
    session_id: str
    date: date
    topic: str | None


class RegisterRowOut(CamelStruct):
    student_id: str
    name: str
    roll_number: int | None
    marks: list[Status | None]
    held: int
    attended: int
    percent: Decimal | None


class RegisterOut(CamelStruct):
    section_id: str
    subject_code: str
    subject_name: str
    from_: date = msgspec.field(name="from")
    to: date
    sessions: list[RegisterColumnOut]
    students: list[RegisterRowOut]

    @classmethod
    def of(cls, register: Register) -> RegisterOut:
        return cls(
            section_id=register.section_id,
            subject_code=register.subject_code,
            subject_name=register.subject_name,
            from_=register.dates.start,
            to=register.dates.end,
            sessions=[
                RegisterColumnOut(session_id=c.session_id, date=c.date, topic=c.topic)
                for c in register.columns
            ],
            students=[
                RegisterRowOut(
                    student_id=r.student_id,
                    name=r.name,
                    roll_number=r.roll_number,
                    marks=[m.value if m else None for m in r.statuses],
                    held=r.summary.held,
                    attended=r.summary.attended,
                    percent=r.summary.percent,
                )
                for r in register.rows
            ],
        )
