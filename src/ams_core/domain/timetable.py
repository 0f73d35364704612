"""Expanding the weekly timetable into dated sessions (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from ams_core.domain.calendar import DateRange
from ams_core.domain.ids import AssignmentId, SessionId, SlotId
from ams_core.domain.sessions import ClassSession
from ams_core.domain.teaching import TeachingAssignment, Term, WeeklySlot


@dataclass(frozen=True, slots=True)
class WeekPlan:
    """What generating a date range would do.

    Every (slot, date) pair whose weekday matches lands in exactly one outcome: created,
    already present, skipped for a holiday, skipped for being outside every term, or (only
    for a slot whose teaching assignment no longer exists) skipped without an assignment.
    """

    to_create: tuple[ClassSession, ...] = ()
    already_present: int = 0
    skipped_holidays: int = 0
    skipped_outside_term: int = 0
    skipped_without_assignment: int = field(default=0)


def plan_sessions(
    dates: DateRange,
    slots: Iterable[WeeklySlot],
    assignments: Mapping[AssignmentId, TeachingAssignment],
    terms: Collection[Term],
    holidays: Collection[date],
    existing: Collection[tuple[SlotId, date]],
    new_id: Callable[[], SessionId],
) -> WeekPlan:
    """Plan the sessions of ``slots`` over ``dates``.

    Holidays win over terms; a (slot, date) already in ``existing`` is never planned again,
    so running the plan, saving it and planning again creates nothing (idempotence).
    """
    by_weekday: dict[int, list[WeeklySlot]] = {}
    for slot in slots:
        by_weekday.setdefault(slot.weekday, []).append(slot)
    holiday_set = frozenset(holidays)
    existing_set = existing if isinstance(existing, (set, frozenset)) else set(existing)
    created: list[ClassSession] = []
    present = holiday_count = outside = orphaned = 0
    for day in dates:
        day_slots = by_weekday.get(day.isoweekday())
        if not day_slots:
            continue
        if day in holiday_set:
            holiday_count += len(day_slots)
            continue
        if not any(term.contains(day) for term in terms):
            outside += len(day_slots)
            continue
        for slot in day_slots:
            if (slot.id, day) in existing_set:
                present += 1
                continue
            assignment = assignments.get(slot.assignment_id)
            if assignment is None:
                orphaned += 1
                continue
            created.append(
                ClassSession(
                    id=new_id(),
                    institution_id=slot.institution_id,
                    assignment_id=assignment.id,
                    section_id=assignment.section_id,
                    subject_code=assignment.subject_code,
                    date=day,
                    start=slot.start,
                    end=slot.end,
                    teacher_id=assignment.faculty_id,
                    venue=slot.venue,
                    slot_id=slot.id,
                )
            )
    return WeekPlan(tuple(created), present, holiday_count, outside, orphaned)
