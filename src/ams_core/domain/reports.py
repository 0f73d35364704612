"""Attendance arithmetic: percentages and the look-ahead (pure, exact)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from ams_core.domain.attendance import StatusTally
from ams_core.domain.ids import SubjectCode
from ams_core.domain.sessions import ClassSession

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SessionCounts:
    """Sessions of one subject for one section: held (completed) and still to come."""

    held: int = 0
    remaining: int = 0


def attendance_percent(attended: int, held: int, excused: int) -> Decimal | None:
    """Return (present + late) / (held − excused) as a percentage rounded to 0.01.

    ``None`` when no countable session was held yet.
    """
    countable = held - excused
    if countable <= 0:
        return None
    return (Decimal(100) * attended / countable).quantize(_CENT, rounding=ROUND_HALF_UP)


def need_to_attend(
    attended: int, held: int, excused: int, remaining: int, threshold: Decimal
) -> int | None:
    """Return how many of the ``remaining`` sessions must be attended to end at ``threshold``.

    The answer is the smallest ``x`` in ``0..remaining`` with
    ``(attended + x) / (held − excused + remaining) >= threshold / 100``, or ``None`` when even
    attending all of them is not enough.
    """
    total = held - excused + remaining
    if total <= 0:
        return 0
    # smallest integer x with 100 * (attended + x) >= threshold * total
    needed = threshold * total / 100 - attended
    x = max(0, int(needed.to_integral_value(rounding=ROUND_CEILING)))
    return x if x <= remaining else None


def is_below(attended: int, held: int, excused: int, threshold: Decimal) -> bool:
    """Return whether the exact (unrounded) percentage is under ``threshold``."""
    countable = held - excused
    return countable > 0 and Decimal(100 * attended) < threshold * countable


@dataclass(frozen=True, slots=True)
class SubjectAttendance:
    """A student's attendance in one subject, with the look-ahead to the term's end."""

    subject_code: SubjectCode
    subject_name: str
    held: int
    attended: int
    excused: int
    percent: Decimal | None
    remaining: int
    need_to_attend: int | None
    below_threshold: bool

    @property
    def reachable(self) -> bool:
        """Whether the threshold can still be reached by attending the remaining sessions."""
        return self.need_to_attend is not None


def summarise_subject(
    subject_code: SubjectCode,
    subject_name: str,
    counts: SessionCounts,
    tally: StatusTally,
    threshold: Decimal,
) -> SubjectAttendance:
    """Combine a subject's session counts and a student's tally into a summary line."""
    attended = tally.attended
    percent = attendance_percent(attended, counts.held, tally.excused)
    return SubjectAttendance(
        subject_code=subject_code,
        subject_name=subject_name,
        held=counts.held,
        attended=attended,
        excused=tally.excused,
        percent=percent,
        remaining=counts.remaining,
        need_to_attend=need_to_attend(
            attended, counts.held, tally.excused, counts.remaining, threshold
        ),
        below_threshold=is_below(attended, counts.held, tally.excused, threshold),
    )


@dataclass(frozen=True, slots=True)
class AssignmentSummary:
    """One class of a teacher: held sessions, their summed tally, the last and the next."""

    held: int
    tally: StatusTally
    last_completed: ClassSession | None
    next_session: ClassSession | None

    @property
    def average_percent(self) -> Decimal | None:
        """Attended over countable marks of all held sessions, as a percentage."""
        return attendance_percent(self.tally.attended, self.tally.countable, 0)
