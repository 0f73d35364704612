"""Generate week: expanding the weekly timetable into dated sessions (PRODUCT.md §2.3).

The pure planner is checked against a brute-force classification of every (slot, date) pair;
the ``GenerateWeek`` use case is checked end to end over the memory adapter.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from ams_adapters.memory import InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain.attendance import StatusTally
from ams_core.domain.calendar import DateRange
from ams_core.domain.ids import (
    AssignmentId,
    FacultyId,
    InstitutionId,
    SectionId,
    SessionId,
    SlotId,
    SubjectCode,
    TermId,
)
from ams_core.domain.institution import Institution
from ams_core.domain.people import Faculty, Section
from ams_core.domain.sessions import ClassSession, SessionStatus
from ams_core.domain.teaching import Holiday, Subject, TeachingAssignment, Term, WeeklySlot
from ams_core.domain.timetable import WeekPlan, plan_sessions
from ams_core.testing.builders import admin_principal
from ams_core.use_cases import GenerateWeek, GenerateWeekCommand

IID = InstitutionId("inst-t")
#: Every generated date falls within ~14 months from here.
EPOCH = date(2026, 7, 1)
HORIZON_DAYS = 420
MAX_RANGE_DAYS = 60

ASSIGNMENTS = tuple(
    TeachingAssignment(
        AssignmentId(f"A{n}"),
        IID,
        FacultyId(f"F{n % 2}"),
        SubjectCode(f"S{n}"),
        SectionId(f"SEC{n % 3}"),
    )
    for n in range(4)
)
ASSIGNMENT_MAP = {a.id: a for a in ASSIGNMENTS}
ORPHAN = AssignmentId("A-deleted")


# -- strategies ----------------------------------------------------------------------------


days = st.integers(min_value=0, max_value=HORIZON_DAYS).map(lambda n: EPOCH + timedelta(days=n))


@st.composite
def times(draw: st.DrawFn) -> tuple[time, time]:
    start = draw(st.integers(min_value=0, max_value=24 * 60 - 2))
    end = draw(st.integers(min_value=start + 1, max_value=24 * 60 - 1))
    return time(start // 60, start % 60), time(end // 60, end % 60)


@st.composite
def slot_lists(draw: st.DrawFn, *, orphans: bool = False, min_size: int = 0) -> list[WeeklySlot]:
    assignment_ids = [a.id for a in ASSIGNMENTS] + ([ORPHAN] if orphans else [])
    count = draw(st.integers(min_value=min_size, max_value=8))
    slots = []
    for n in range(count):
        start, end = draw(times())
        slots.append(
            WeeklySlot(
                SlotId(f"slot-{n}"),
                IID,
                draw(st.sampled_from(assignment_ids)),
                draw(st.integers(min_value=1, max_value=7)),
                start,
                end,
                venue=draw(st.sampled_from(["", "Room 1", "Lab 2"])),
            )
        )
    return slots


@st.composite
def term_lists(draw: st.DrawFn, near: DateRange) -> list[Term]:
    """Up to three terms, most of them overlapping ``near`` (they may overlap each other)."""
    near_start = st.integers(min_value=-90, max_value=len(near)).map(
        lambda n: near.start + timedelta(days=n)
    )
    terms = []
    for n in range(draw(st.integers(min_value=0, max_value=3))):
        start = draw(st.one_of(near_start, days))
        length = draw(st.integers(min_value=0, max_value=120))
        terms.append(Term(TermId(f"T{n}"), IID, f"Term {n}", start, start + timedelta(length)))
    return terms


@st.composite
def date_ranges(draw: st.DrawFn) -> DateRange:
    start = draw(days)
    length = draw(st.integers(min_value=1, max_value=MAX_RANGE_DAYS))
    return DateRange(start, start + timedelta(days=length - 1))


@dataclass(frozen=True)
class Timetable:
    """Everything the planner reads."""

    dates: DateRange
    slots: tuple[WeeklySlot, ...]
    terms: tuple[Term, ...]
    holidays: frozenset[date]


@st.composite
def timetables(draw: st.DrawFn, *, orphans: bool = False, busy: bool = False) -> Timetable:
    """A timetable; a ``busy`` one has slots and a term around its whole date range."""
    dates = draw(date_ranges())
    in_range = st.integers(min_value=0, max_value=len(dates) - 1).map(
        lambda n: dates.start + timedelta(days=n)
    )
    holidays = draw(st.frozensets(st.one_of(in_range, days), max_size=12))
    return Timetable(
        dates=dates,
        slots=tuple(draw(slot_lists(orphans=orphans, min_size=3 if busy else 0))),
        terms=tuple(draw(term_lists(dates)))
        + ((Term(TermId("T-all"), IID, "Whole range", dates.start, dates.end),) if busy else ()),
        holidays=holidays,
    )


# -- helpers -------------------------------------------------------------------------------


def id_factory() -> Callable[[], SessionId]:
    counter = itertools.count()
    return lambda: SessionId(f"s{next(counter)}")


def plan(
    timetable: Timetable,
    existing: Collection[tuple[SlotId, date]] = frozenset(),
    new_id: Callable[[], SessionId] | None = None,
) -> WeekPlan:
    return plan_sessions(
        dates=timetable.dates,
        slots=timetable.slots,
        assignments=ASSIGNMENT_MAP,
        terms=timetable.terms,
        holidays=timetable.holidays,
        existing=existing,
        new_id=new_id or id_factory(),
    )


def pairs(timetable: Timetable) -> list[tuple[WeeklySlot, date]]:
    """Every (slot, date) whose weekday matches: the things generation must account for."""
    return [
        (slot, day)
        for day in timetable.dates
        for slot in timetable.slots
        if slot.weekday == day.isoweekday()
    ]


def classify(
    timetable: Timetable, slot: WeeklySlot, day: date, existing: Collection[tuple[SlotId, date]]
) -> str:
    """The one outcome a pair must land in (holidays win over terms, both over existing)."""
    if day in timetable.holidays:
        return "holiday"
    if not any(term.start <= day <= term.end for term in timetable.terms):
        return "outside_term"
    if (slot.id, day) in existing:
        return "already_present"
    if slot.assignment_id not in ASSIGNMENT_MAP:
        return "without_assignment"
    return "created"


def keys(sessions: Sequence[ClassSession]) -> list[tuple[SlotId | None, date]]:
    return [(s.slot_id, s.date) for s in sessions]


@st.composite
def timetables_with_existing(
    draw: st.DrawFn, *, orphans: bool = True
) -> tuple[Timetable, frozenset[tuple[SlotId, date]]]:
    timetable = draw(timetables(orphans=orphans))
    candidates = [(slot.id, day) for slot, day in pairs(timetable)]
    existing = (
        draw(st.frozensets(st.sampled_from(candidates), max_size=len(candidates)))
        if candidates
        else frozenset()
    )
    return timetable, existing


# -- the pure planner ------------------------------------------------------------------------


@given(timetable=timetables(orphans=True))
def test_generating_twice_creates_nothing_new(timetable: Timetable) -> None:
    first = plan(timetable)
    saved = {(s.slot_id, s.date) for s in first.to_create if s.slot_id is not None}

    second = plan(timetable, existing=saved)

    assert second.to_create == ()
    assert second.already_present == len(first.to_create)
    assert second.skipped_holidays == first.skipped_holidays
    assert second.skipped_outside_term == first.skipped_outside_term
    assert second.skipped_without_assignment == first.skipped_without_assignment


@given(timetable=timetables(orphans=True))
def test_no_session_is_ever_planned_on_a_holiday_or_outside_every_term(
    timetable: Timetable,
) -> None:
    result = plan(timetable)

    for session in result.to_create:
        assert session.date not in timetable.holidays
        assert any(term.start <= session.date <= term.end for term in timetable.terms)
        assert session.date in timetable.dates


@given(case=timetables_with_existing())
def test_no_two_sessions_share_a_slot_and_date_nor_repeat_an_existing_one(
    case: tuple[Timetable, frozenset[tuple[SlotId, date]]],
) -> None:
    timetable, existing = case

    created = keys(plan(timetable, existing).to_create)

    assert len(created) == len(set(created))
    assert not set(created) & existing


@given(case=timetables_with_existing())
def test_every_slot_and_matching_date_lands_in_exactly_one_outcome(
    case: tuple[Timetable, frozenset[tuple[SlotId, date]]],
) -> None:
    timetable, existing = case
    all_pairs = pairs(timetable)

    result = plan(timetable, existing)

    assert (
        len(result.to_create)
        + result.already_present
        + result.skipped_holidays
        + result.skipped_outside_term
        + result.skipped_without_assignment
        == len(all_pairs)
    )
    expected = Counter(classify(timetable, slot, day, existing) for slot, day in all_pairs)
    assert len(result.to_create) == expected["created"]
    assert result.already_present == expected["already_present"]
    assert result.skipped_holidays == expected["holiday"]
    assert result.skipped_outside_term == expected["outside_term"]
    assert result.skipped_without_assignment == expected["without_assignment"]
    assert sorted(keys(result.to_create)) == sorted(
        (slot.id, day)
        for slot, day in all_pairs
        if classify(timetable, slot, day, existing) == "created"
    )


@given(timetable=timetables())
def test_a_planned_session_copies_its_slot_and_assignment(timetable: Timetable) -> None:
    slots = {slot.id: slot for slot in timetable.slots}

    result = plan(timetable)

    assert len({s.id for s in result.to_create}) == len(result.to_create)
    for session in result.to_create:
        assert session.slot_id is not None
        slot = slots[session.slot_id]
        assignment = ASSIGNMENT_MAP[slot.assignment_id]
        assert session.date.isoweekday() == slot.weekday
        assert (session.start, session.end, session.venue) == (slot.start, slot.end, slot.venue)
        assert session.institution_id == IID
        assert session.assignment_id == assignment.id
        assert session.section_id == assignment.section_id
        assert session.subject_code == assignment.subject_code
        assert session.teacher_id == assignment.faculty_id
        assert session.status is SessionStatus.SCHEDULED


# -- the GenerateWeek use case over the memory adapter -----------------------------------------


def seeded_store(timetable: Timetable) -> InMemoryUnitOfWork:
    uow = InMemoryUnitOfWork()
    with uow.for_platform():
        uow.institutions.add(Institution(IID, "Timetable College", "Asia/Kolkata", frozenset()))
        uow.commit()
    with uow.for_institution(IID):
        for section_id in sorted({a.section_id for a in ASSIGNMENTS}):
            uow.sections.add(Section(section_id, IID, 1, "CSE", section_id))
        for faculty_id in sorted({a.faculty_id for a in ASSIGNMENTS}):
            uow.faculty.add(Faculty(faculty_id, IID, faculty_id, f"{faculty_id}@t.edu", "CSE"))
        for code in sorted({a.subject_code for a in ASSIGNMENTS}):
            uow.subjects.add(Subject(code, IID, code, f"Subject {code}"))
        for assignment in ASSIGNMENTS:
            uow.assignments.add(assignment)
        for slot in timetable.slots:
            uow.slots.add(slot)
        for term in timetable.terms:
            uow.terms.add(term)
        for day in timetable.holidays:
            uow.holidays.add(Holiday(IID, day, "Holiday"))
        uow.commit()
    return uow


def all_sessions(uow: InMemoryUnitOfWork) -> dict[SessionId, ClassSession]:
    with uow.for_institution(IID):
        return {
            s.id: s
            for assignment in ASSIGNMENTS
            for s in uow.sessions.list_for_assignment(assignment.id)
        }


ADMIN = admin_principal(IID, "admin@t.edu")


@given(
    timetable=st.one_of(timetables(), timetables(busy=True)),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_generate_week_twice_changes_nothing_in_the_store(timetable: Timetable, seed: int) -> None:
    uow = seeded_store(timetable)
    generate = GenerateWeek(uow, SeededRandomSource(seed))
    command = GenerateWeekCommand(ADMIN, timetable.dates)

    first = generate(command)
    after_first = all_sessions(uow)
    second = generate(command)

    assert len(after_first) == first.created
    assert all_sessions(uow) == after_first
    assert second.created == 0
    assert second.already_present == first.created
    assert (second.skipped_holidays, second.skipped_outside_term) == (
        first.skipped_holidays,
        first.skipped_outside_term,
    )
    stored_keys = [(s.slot_id, s.date) for s in after_first.values()]
    assert len(stored_keys) == len(set(stored_keys))
    assert (
        first.created + first.already_present + first.skipped_holidays + first.skipped_outside_term
        == len(pairs(timetable))
    )
    for session in after_first.values():
        assert session.date not in timetable.holidays
        assert any(term.contains(session.date) for term in timetable.terms)


@st.composite
def regeneration_cases(draw: st.DrawFn) -> tuple[Timetable, DateRange]:
    """A timetable, and a second range overlapping (or next to) the first one."""
    timetable = draw(timetables(busy=True))
    offset = draw(st.integers(min_value=-20, max_value=len(timetable.dates)))
    start = timetable.dates.start + timedelta(days=offset)
    length = draw(st.integers(min_value=1, max_value=MAX_RANGE_DAYS))
    return timetable, DateRange(start, start + timedelta(days=length - 1))


@given(
    case=regeneration_cases(),
    seed=st.integers(min_value=0, max_value=2**32),
    data=st.data(),
)
def test_completed_sessions_are_never_touched_by_a_later_generation(
    case: tuple[Timetable, DateRange], seed: int, data: st.DataObject
) -> None:
    timetable, second_range = case
    uow = seeded_store(timetable)
    generate = GenerateWeek(uow, SeededRandomSource(seed))
    generate(GenerateWeekCommand(ADMIN, timetable.dates))
    generated = sorted(all_sessions(uow).values(), key=lambda s: s.id)
    to_complete = data.draw(
        st.lists(st.sampled_from(generated), min_size=1, unique_by=lambda s: s.id)
        if generated
        else st.just([])
    )
    later = datetime(2030, 1, 1, tzinfo=UTC)
    new_holidays = data.draw(
        st.frozensets(st.sampled_from([s.date for s in generated]) if generated else days)
    )
    with uow.for_institution(IID):
        for session in to_complete:
            done = session.complete(later, UTC, "Topic taught", StatusTally(present=1))
            uow.sessions.update(dataclasses.replace(done, venue=f"{session.venue} (moved)"))
        # The calendar changes after the classes were held: some of their days become holidays.
        for day in new_holidays - timetable.holidays:
            uow.holidays.add(Holiday(IID, day, "Declared later"))
        uow.commit()
    completed = {s.id: s for s in all_sessions(uow).values() if s.status is SessionStatus.COMPLETED}

    generate(GenerateWeekCommand(ADMIN, second_range))

    after = all_sessions(uow)
    for session_id, session in completed.items():
        assert after[session_id] == session
    assert len(completed) == len(to_complete)
