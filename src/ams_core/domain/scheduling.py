"""Double-booking rules: a teacher, a section or a venue holds one class at a time."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from ams_core.domain.errors import ConflictError
from ams_core.domain.ids import FacultyId, SectionId
from ams_core.domain.sessions import ClassSession, SessionStatus
from ams_core.domain.teaching import TeachingAssignment, WeeklySlot


class ClashKind(enum.Enum):
    """What is double-booked."""

    TEACHER = "teacher"
    SECTION = "section"
    VENUE = "venue"


@dataclass(frozen=True, slots=True)
class Booking:
    """A class occupying a teacher, a section and a venue on one day (or weekday) and time.

    ``ref`` names the session or weekly slot; ``day`` is a date's ISO string for sessions and
    ``"weekday:N"`` for weekly slots, so only like is compared with like.
    """

    ref: str
    day: str
    start: time
    end: time
    teacher_id: FacultyId
    section_id: SectionId
    venue: str

    @classmethod
    def of_session(cls, session: ClassSession) -> Booking:
        """The booking a session makes (the teacher of record, the substitute when covered)."""
        return cls(
            session.id,
            session.date.isoformat(),
            session.start,
            session.end,
            session.teacher_id,
            session.section_id,
            session.venue,
        )

    @classmethod
    def of_slot(cls, slot: WeeklySlot, assignment: TeachingAssignment) -> Booking:
        """The weekly booking a timetable slot makes."""
        return cls(
            slot.id,
            f"weekday:{slot.weekday}",
            slot.start,
            slot.end,
            assignment.faculty_id,
            assignment.section_id,
            slot.venue,
        )

    def overlaps(self, other: Booking) -> bool:
        """Same day and the times overlap (a class ending at 10:00 and one starting at 10:00
        do not).
        """
        return self.day == other.day and self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class Clash:
    """One double booking: what clashes, and with which session or slot."""

    kind: ClashKind
    other: str


def _same_venue(a: str, b: str) -> bool:
    return bool(a.strip()) and a.strip().casefold() == b.strip().casefold()


def find_clashes(candidate: Booking, others: Iterable[Booking]) -> list[Clash]:
    """Every clash of ``candidate`` with ``others`` (itself excluded), in a stable order."""
    clashes: list[Clash] = []
    for other in others:
        if other.ref == candidate.ref or not candidate.overlaps(other):
            continue
        if other.teacher_id == candidate.teacher_id:
            clashes.append(Clash(ClashKind.TEACHER, other.ref))
        if other.section_id == candidate.section_id:
            clashes.append(Clash(ClashKind.SECTION, other.ref))
        if _same_venue(other.venue, candidate.venue):
            clashes.append(Clash(ClashKind.VENUE, other.ref))
    return sorted(clashes, key=lambda clash: (clash.kind.value, clash.other))


def active_bookings(sessions: Iterable[ClassSession]) -> list[Booking]:
    """The bookings of sessions that still occupy their time (cancelled ones do not)."""
    return [Booking.of_session(s) for s in sessions if s.status is not SessionStatus.CANCELLED]


class ScheduleConflictError(ConflictError):
    """The teacher, the section or the venue is already booked at that time."""

    code = "schedule_conflict"

    def __init__(self, clashes: list[Clash]) -> None:
        described = ", ".join(f"{c.kind.value} with {c.other}" for c in clashes)
        super().__init__(f"already booked at that time: {described}")
        self.clashes = tuple(clashes)


def require_no_clash(candidate: Booking, others: Iterable[Booking]) -> None:
    """Raise :class:`ScheduleConflictError` if ``candidate`` double-books anything."""
    clashes = find_clashes(candidate, others)
    if clashes:
        raise ScheduleConflictError(clashes)
