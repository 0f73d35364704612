"""Dated class sessions: new, moved, cancelled."""

from __future__ import annotations

import datetime as dt

from msgspec import UNSET, UnsetType

from ams_core.domain import (
    ClassSession,
)
from ams_http.schemas.attendance import LocalTime, ReasonText, SessionStatusText
from ams_http.schemas.base import CamelBody, CamelStruct, Id
from ams_http.schemas.common import (
    VenueText,
    Version,
    time_text,
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
            start=time_text(session.start),
            end=time_text(session.end),
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
