"""SessionScheduling, HolidayCalendar and InstitutionProfile: managing dated classes, the
calendar and the institution's settings (PRODUCT.md §2.1–2.3).

Week 2026-W47 of the small college is generated first; the clock stands at Monday
2026-11-16 09:00 in Asia/Kolkata (alice's CS101 of section A starts then).
"""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import (
    AssignmentId,
    ClashKind,
    ClassSession,
    ConcurrencyError,
    ConflictError,
    CoverAssignment,
    CoverId,
    DateRange,
    FacultyId,
    NotFoundError,
    PermissionDeniedError,
    ScheduleConflictError,
    SectionId,
    SessionId,
    SessionStatus,
    ValidationError,
)
from ams_core.testing.builders import MONDAY, OPERATOR, SmallCollege, seed_small_college
from ams_core.use_cases import (
    SESSION_CHANGED_KIND,
    HolidayCalendar,
    InstitutionProfile,
    NewSession,
    PageRequest,
    SessionQuery,
    SessionScheduling,
)
from tests.core.use_cases.helpers import FRIDAY, TUESDAY, App

SATURDAY = MONDAY + timedelta(days=5)
NEXT_MONDAY = MONDAY + timedelta(days=7)
WEEK = DateRange(MONDAY, MONDAY + timedelta(days=6))


class World(App):
    def __init__(
        self,
        uow: InMemoryUnitOfWork,
        clock: FixedClock,
        random: SeededRandomSource,
        college: SmallCollege,
    ) -> None:
        super().__init__(uow, clock, random, college)
        self.scheduling = SessionScheduling(uow, clock, random)
        self.holidays = HolidayCalendar(uow, clock, random)
        self.profile = InstitutionProfile(uow)

    def told(self) -> list[tuple[str, str]]:
        """(session id, change) of every queued session-changed notification, in order."""
        return [
            (n.data["sessionId"], n.data["change"])
            for n in self.outbox()
            if n.kind == SESSION_CHANGED_KIND
        ]


@pytest.fixture
def world(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    random_source: SeededRandomSource,
    college: SmallCollege,
) -> World:
    world = World(uow, clock, random_source, college)
    world.generate()
    return world


def ad_hoc(
    assignment: str = "A1",
    day: date = SATURDAY,
    start: time = time(11),
    end: time = time(12),
    venue: str = "",
) -> NewSession:
    return NewSession(AssignmentId(assignment), day, start, end, venue)


# -- listing ----------------------------------------------------------------------------
def test_an_admin_lists_every_session_filtered_and_paged(world: World) -> None:
    admin = world.college.admin

    everything = world.scheduling.list(admin, SessionQuery(WEEK), PageRequest(limit=500))
    section_b = world.scheduling.list(admin, SessionQuery(WEEK, section_id=SectionId("E2-CSE-B")))
    bobs = world.scheduling.list(admin, SessionQuery(WEEK, teacher_id=FacultyId("F002")))
    page = world.scheduling.list(admin, SessionQuery(WEEK), PageRequest(limit=4, offset=12))

    assert everything.total == 15
    keys = [(s.date, s.start, s.id) for s in everything.items]
    assert keys == sorted(keys)
    assert section_b.total == 5
    assert bobs.total == 10
    assert (len(page.items), page.total) == (3, 15)


def test_teachers_see_what_they_teach_and_students_their_section(world: World) -> None:
    alice = world.scheduling.list(world.college.as_alice(), SessionQuery(WEEK))
    student = world.scheduling.list(world.college.as_student(), SessionQuery(WEEK))

    assert {s.teacher_id for s in alice.items} == {FacultyId("F001")}
    assert {s.section_id for s in student.items} == {SectionId("E2-CSE-A")}
    assert student.total == 10
    with pytest.raises(PermissionDeniedError):
        world.scheduling.list(
            world.college.as_student(), SessionQuery(WEEK, section_id=SectionId("E2-CSE-B"))
        )
    with pytest.raises(PermissionDeniedError):
        world.scheduling.list(OPERATOR, SessionQuery(WEEK))


def test_a_list_covers_at_most_92_days(world: World) -> None:
    long = DateRange(MONDAY, MONDAY + timedelta(days=92))

    with pytest.raises(ValidationError):
        world.scheduling.list(world.college.admin, SessionQuery(long))
    widest = SessionQuery(DateRange(MONDAY, MONDAY + timedelta(days=91)))
    assert world.scheduling.list(world.college.admin, widest).total == 15


def test_one_session_for_its_teachers_admins_and_its_students(world: World) -> None:
    session = world.session(world.college.alice_cs_a)

    for actor in (world.college.admin, world.college.as_alice(), world.college.as_student(3)):
        assert world.scheduling.get(actor, session.id) == session
    with pytest.raises(PermissionDeniedError):
        world.scheduling.get(world.college.as_bob(), session.id)


# -- ad hoc classes ---------------------------------------------------------------------
def test_the_assignments_teacher_adds_an_ad_hoc_class(world: World) -> None:
    created = world.scheduling.create(world.college.as_alice(), ad_hoc(venue=" Hall "))

    assert created == world.reload(created)
    assert (created.slot_id, created.teacher_id, created.section_id, created.venue) == (
        None,
        "F001",
        "E2-CSE-A",
        "Hall",
    )
    assert created.status is SessionStatus.SCHEDULED
    assert world.told() == [(created.id, "added")]
    assert world.outbox()[-1].body.endswith("an extra class in Hall")
    with pytest.raises(PermissionDeniedError):
        world.scheduling.create(world.college.as_bob(), ad_hoc())
    with pytest.raises(NotFoundError):
        world.scheduling.create(world.college.admin, ad_hoc("A404"))


@pytest.mark.parametrize(
    "new",
    [
        ad_hoc(day=date(2027, 2, 1)),  # outside every term
        ad_hoc(day=MONDAY - timedelta(days=3)),  # over already
        ad_hoc(day=MONDAY, start=time(8), end=time(8, 59)),  # over by a minute
        ad_hoc(start=time(12), end=time(11)),  # backwards
        ad_hoc(venue="x" * 101),
    ],
)
def test_an_ad_hoc_class_is_in_a_term_in_the_future_and_well_formed(
    world: World, new: NewSession
) -> None:
    with pytest.raises(ValidationError):
        world.scheduling.create(world.college.admin, new)


def test_no_class_on_a_holiday(world: World) -> None:
    world.holidays.declare(world.college.admin, SATURDAY, "Festival")

    with pytest.raises(ValidationError) as raised:
        world.scheduling.create(world.college.admin, ad_hoc())

    assert [p.field for p in raised.value.problems] == ["date"]


def test_double_bookings_name_what_clashes_with_what(world: World) -> None:
    admin = world.college.admin
    bob_tuesday = world.session(world.college.bob_ma_a, TUESDAY)

    with pytest.raises(ScheduleConflictError) as teacher:
        world.scheduling.create(admin, ad_hoc("A3", TUESDAY, time(10), time(11)))
    with pytest.raises(ScheduleConflictError) as section:
        world.scheduling.create(admin, ad_hoc("A1", TUESDAY, time(10, 59), time(12)))
    lab = world.scheduling.create(admin, ad_hoc("A3", TUESDAY, time(14), time(15), "Lab"))
    with pytest.raises(ScheduleConflictError) as venue:
        world.scheduling.create(admin, ad_hoc("A1", TUESDAY, time(13), time(14, 1), " lab"))

    assert [(c.kind, c.other) for c in teacher.value.clashes] == [
        (ClashKind.TEACHER, bob_tuesday.id)
    ]
    assert [(c.kind, c.other) for c in section.value.clashes] == [
        (ClashKind.SECTION, bob_tuesday.id)
    ]
    assert [(c.kind, c.other) for c in venue.value.clashes] == [(ClashKind.VENUE, lab.id)]
    assert venue.value.code == "schedule_conflict"
    world.scheduling.create(admin, ad_hoc("A1", TUESDAY, time(13), time(14), "Lab"))  # adjacent


# -- rescheduling -----------------------------------------------------------------------
def test_a_class_moved_to_another_day_is_announced_with_its_old_time(world: World) -> None:
    tuesday = world.session(world.college.alice_cs_a, TUESDAY)

    moved = world.scheduling.reschedule(
        world.college.as_alice(), tuesday.id, SATURDAY, time(11), time(12), expected_version=0
    )

    assert (moved.id, moved.date, moved.start, moved.end, moved.version) == (
        tuesday.id,
        SATURDAY,
        time(11),
        time(12),
        1,
    )
    assert world.told() == [(tuesday.id, "rescheduled")]
    notice = world.outbox()[-1]
    assert notice.title == "DS on Tue 17 Nov 09:00"
    assert notice.recipients[0].id == "E2-CSE-A"


def test_regenerating_a_week_neither_restores_a_moved_class_nor_skips_a_regular_one(
    world: World,
) -> None:
    monday = world.session(world.college.alice_cs_a)
    world.clock.set(world.clock.now() - timedelta(hours=1))  # before the class

    world.scheduling.reschedule(world.college.admin, monday.id, NEXT_MONDAY, time(14), time(15))

    assert world.generate().created == 0
    old_day = [
        s
        for s in world.sessions(DateRange(MONDAY, MONDAY))
        if s.assignment_id == world.college.alice_cs_a.id
    ]
    assert [(s.status, s.slot_id) for s in old_day] == [(SessionStatus.CANCELLED, "A1-1")]
    next_week = world.generate("2026-W48")
    assert next_week.created == 15  # A1-1 of next Monday is created next to the moved class
    next_monday = [
        (s.start, s.slot_id)
        for s in world.sessions(DateRange(NEXT_MONDAY, NEXT_MONDAY))
        if s.assignment_id == world.college.alice_cs_a.id
    ]
    assert next_monday == [(time(9), "A1-1"), (time(14), None)]


def test_a_move_on_the_same_day_keeps_the_slot(world: World) -> None:
    tuesday = world.session(world.college.alice_cs_a, TUESDAY)

    moved = world.scheduling.reschedule(
        world.college.admin, tuesday.id, TUESDAY, time(14), time(15), venue="Hall"
    )

    assert (moved.slot_id, moved.venue) == ("A1-2", "Hall")
    assert world.generate().created == 0
    assert len(world.sessions(DateRange(TUESDAY, TUESDAY))) == 3


def test_a_move_onto_a_busy_time_changes_and_announces_nothing(world: World) -> None:
    tuesday = world.session(world.college.alice_cs_a, TUESDAY)

    with pytest.raises(ScheduleConflictError):
        world.scheduling.reschedule(world.college.admin, tuesday.id, TUESDAY, time(10), time(11))

    assert world.reload(tuesday) == tuesday
    assert world.told() == []


def test_only_scheduled_uncovered_classes_move(world: World, uow: InMemoryUnitOfWork) -> None:
    admin = world.college.admin
    monday = world.session(world.college.alice_cs_a)
    world.open(monday)
    with pytest.raises(ConflictError) as opened:
        world.scheduling.reschedule(admin, monday.id, SATURDAY, time(11), time(12))
    assert opened.value.code == "session_open"

    friday = world.session(world.college.alice_cs_a, FRIDAY)
    institution = world.college.institution
    with uow.for_institution(world.college.id) as tx:
        tx.covers.add(
            CoverAssignment(
                CoverId("cover-1"),
                world.college.id,
                friday.id,
                FacultyId("F002"),
                friday.starts_at(institution.tz),
                friday.ends_at(institution.tz),
                world.clock.now(),
            )
        )
        tx.commit()
    with pytest.raises(ConflictError) as covered:
        world.scheduling.reschedule(admin, friday.id, SATURDAY, time(11), time(12))
    assert covered.value.code == "session_covered"


def test_only_the_teacher_of_record_or_an_admin_changes_a_class(world: World) -> None:
    tuesday = world.session(world.college.alice_cs_a, TUESDAY)

    for actor in (world.college.as_bob(), world.college.as_student()):
        with pytest.raises(PermissionDeniedError):
            world.scheduling.reschedule(actor, tuesday.id, SATURDAY, time(11), time(12))
        with pytest.raises(PermissionDeniedError):
            world.scheduling.change_venue(actor, tuesday.id, "Hall")
        with pytest.raises(PermissionDeniedError):
            world.scheduling.cancel(actor, tuesday.id)


def test_changes_check_the_version_read(world: World) -> None:
    tuesday = world.session(world.college.alice_cs_a, TUESDAY)
    world.scheduling.change_venue(world.college.admin, tuesday.id, "Hall", expected_version=0)

    with pytest.raises(ConcurrencyError):
        world.scheduling.change_venue(world.college.admin, tuesday.id, "Lab", expected_version=0)
    with pytest.raises(ConcurrencyError):
        world.scheduling.cancel(world.college.admin, tuesday.id, expected_version=0)


# -- venue and cancellation -------------------------------------------------------------
def test_a_new_venue_must_be_free_and_is_announced(world: World) -> None:
    monday = world.session(world.college.alice_cs_a)
    world.open(monday)  # an open class may still change room

    with pytest.raises(ScheduleConflictError) as raised:
        world.scheduling.change_venue(world.college.as_alice(), monday.id, "ROOM A3")
    moved = world.scheduling.change_venue(world.college.as_alice(), monday.id, " Hall 1 ")

    assert [c.kind for c in raised.value.clashes] == [ClashKind.VENUE]
    assert (moved.venue, moved.status) == ("Hall 1", SessionStatus.OPEN)
    assert world.told() == [(monday.id, "venue")]
    assert world.outbox()[-1].body.endswith("now in Hall 1")


def test_cancelling_is_announced_once_and_frees_the_time(world: World) -> None:
    tuesday = world.session(world.college.alice_cs_a, TUESDAY)
    admin = world.college.admin

    cancelled = world.scheduling.cancel(admin, tuesday.id, " teacher unwell ")
    again = world.scheduling.cancel(admin, tuesday.id)

    assert cancelled.status is SessionStatus.CANCELLED
    assert again == cancelled
    assert world.told() == [(tuesday.id, "cancelled")]
    assert world.outbox()[-1].body.endswith("cancelled: teacher unwell")
    world.scheduling.create(admin, ad_hoc("A1", TUESDAY, time(9), time(10), "Room A1"))


def test_a_completed_class_cannot_be_cancelled(world: World) -> None:
    monday = world.session(world.college.alice_cs_a)
    world.hold(monday, topic="Trees")

    with pytest.raises(ConflictError) as raised:
        world.scheduling.cancel(world.college.admin, monday.id)

    assert raised.value.code == "session_completed"
    with pytest.raises(ValidationError):
        world.scheduling.cancel(world.college.admin, monday.id, "x" * 501)


# -- holidays ---------------------------------------------------------------------------
def test_a_holiday_cancels_and_announces_the_scheduled_classes_of_its_day(world: World) -> None:
    monday = world.session(world.college.alice_cs_a)
    world.open(monday)

    declared = world.holidays.declare(world.college.admin, MONDAY, " Diwali ")

    others = {s.id for s in world.sessions(DateRange(MONDAY, MONDAY)) if s.id != monday.id}
    assert set(declared.cancelled) == others
    assert declared.holiday.name == "Diwali"
    assert world.reload(monday).status is SessionStatus.OPEN
    assert {s.status for s in map(world.reload, _sessions(world, others))} == {
        SessionStatus.CANCELLED
    }
    assert sorted(world.told()) == sorted((i, "cancelled") for i in others)
    assert world.generate().created == 0


def _sessions(world: World, ids: set[SessionId]) -> list[ClassSession]:
    return [s for s in world.sessions(WEEK) if s.id in ids]


def test_holidays_are_declared_once_listed_and_removed(world: World) -> None:
    admin = world.college.admin
    world.holidays.declare(admin, date(2026, 12, 25), "Christmas")
    world.holidays.declare(admin, date(2027, 1, 26))
    with pytest.raises(ConflictError):
        world.holidays.declare(admin, date(2026, 12, 25))
    with pytest.raises(PermissionDeniedError):
        world.holidays.declare(world.college.as_alice(), SATURDAY)
    with pytest.raises(ValidationError):
        world.holidays.declare(admin, SATURDAY, "x" * 101)

    december = world.holidays.list(
        world.college.as_student(), DateRange(date(2026, 12, 1), date(2026, 12, 31))
    )
    assert [(h.date, h.name) for h in december] == [(date(2026, 12, 25), "Christmas")]

    world.holidays.remove(admin, date(2026, 12, 25))
    with pytest.raises(NotFoundError):
        world.holidays.remove(admin, date(2026, 12, 25))
    assert [h.date for h in world.holidays.list(admin)] == [date(2027, 1, 26)]


# -- the institution's settings ---------------------------------------------------------
def test_an_admin_changes_settings_field_by_field(world: World) -> None:
    admin = world.college.admin

    changed = world.profile.update(
        admin,
        {
            "name": "Nuzvid",
            "late_after_minutes": 15,
            "attendance_threshold": "80.5",
            "campus_networks": ["10.0.0.0/8"],
            "cover": {"weight_fairness": 30},
        },
        expected_version=0,
    )

    assert changed.name == "Nuzvid"
    assert changed.settings.late_after_minutes == 15
    assert changed.settings.attendance_threshold == Decimal("80.5")
    assert changed.settings.campus_networks == ("10.0.0.0/8",)
    assert changed.settings.cover.weight_fairness == 30
    assert changed.settings.cover.weight_qualified == 40
    assert changed.version == 1
    assert world.profile.get(admin) == changed
    assert world.profile.update(admin, {"late_after_minutes": 15}).version == 1  # no-op
    with pytest.raises(ConcurrencyError):
        world.profile.update(admin, {"late_after_minutes": 5}, expected_version=0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"attendance_threshold": "NaN"}, "attendance_threshold"),
        ({"attendance_threshold": Decimal("Infinity")}, "attendance_threshold"),
        ({"attendance_threshold": 101}, "attendance_threshold"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"email_domains": ["evil.example"]}, "email_domains"),
        ({"cover": {"weight_luck": 3}}, "cover.weight_luck"),
        ({"cover": {"weight_fairness": -1}}, "cover.weight_fairness"),
        ({"cover": {"max_covers_per_day": 51}}, "cover.max_covers_per_day"),
        ({"cover": {"max_covers_per_day": True}}, "cover.max_covers_per_day"),
        ({"cover": 3}, "cover"),
    ],
)
def test_invalid_settings_are_refused(world: World, changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        world.profile.update(world.college.admin, changes)

    assert field in {p.field for p in raised.value.problems}
    assert world.profile.get(world.college.admin).version == 0


def test_only_an_admin_of_the_institution_sees_its_settings(
    world: World, uow: InMemoryUnitOfWork
) -> None:
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")

    assert world.profile.get(other.admin).id == "inst-b"
    for actor in (world.college.as_alice(), world.college.as_student(), OPERATOR):
        with pytest.raises(PermissionDeniedError):
            world.profile.get(actor)
        with pytest.raises(PermissionDeniedError):
            world.profile.update(actor, {"name": "Mine"})
