"""Periodic jobs with a controlled clock: due once per period, in each institution's time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import pytest

from ams_adapters.memory import InMemoryUnitOfWork, MemoryStore, RecordingJobQueue
from ams_adapters.memory.clock import FixedClock, SeededRandomSource
from ams_core.domain import (
    DateRange,
    DeliveryReport,
    InstitutionId,
    Notification,
    NotificationId,
    SessionStatus,
)
from ams_core.ports import Job, UnitOfWork
from ams_core.testing.builders import seed_small_college
from ams_core.use_cases import (
    CLEAN_UP,
    COMPLETE_OVERDUE,
    EXPIRE_OFFERS,
    GENERATE_WEEK,
    WEEKLY_DIGEST,
    CleanUp,
    CleanUpCommand,
    CompleteOverdueSessions,
    CompleteOverdueSessionsCommand,
    GenerateWeek,
    GenerateWeekCommand,
    PeriodicSettings,
    PlanPeriodicJobs,
    SendWeeklyDigest,
    SendWeeklyDigestCommand,
    scheduler_principal,
)

# Friday 2026-11-20, 12:45 UTC = 18:15 in Kolkata, 07:45 in New York
FRIDAY_EVENING_IN_KOLKATA = datetime(2026, 11, 20, 12, 45, tzinfo=UTC)


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    seed_small_college(InMemoryUnitOfWork(store), institution_id="inst-a", domain="a.edu")
    seed_small_college(
        InMemoryUnitOfWork(store),
        institution_id="inst-b",
        domain="b.edu",
        timezone="America/New_York",
    )
    return store


def _plan(store: MemoryStore, at: datetime, queue: RecordingJobQueue) -> None:
    jobs = PlanPeriodicJobs(InMemoryUnitOfWork(store), FixedClock(at), PeriodicSettings())()
    for job in jobs:
        queue.enqueue(job)


def _named(queue: RecordingJobQueue, name: str) -> list[Job]:
    return [job for job in queue.jobs if job.name == name]


def _weeks(queue: RecordingJobQueue, name: str) -> list[tuple[object, object]]:
    return [(j.payload["institution_id"], j.payload["week"]) for j in _named(queue, name)]


def test_next_week_is_generated_once_per_institution_in_its_own_timezone(
    store: MemoryStore,
) -> None:
    queue = RecordingJobQueue()  # one queue, two schedulers asking every minute
    for minute in range(0, 180, 1):
        at = FRIDAY_EVENING_IN_KOLKATA + timedelta(minutes=minute)
        _plan(store, at, queue)
        _plan(store, at, queue)

    generated = [
        (j.payload["institution_id"], j.payload["week"]) for j in _named(queue, GENERATE_WEEK)
    ]
    # Kolkata reached Friday 18:00 before the first tick; New York did not in these 3 hours
    assert generated == [("inst-a", "2026-W48")]

    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # 18:30 in New York
    _plan(store, late, queue)
    _plan(store, late, queue)
    generated = [
        (j.payload["institution_id"], j.payload["week"]) for j in _named(queue, GENERATE_WEEK)
    ]
    assert generated == [("inst-a", "2026-W48"), ("inst-b", "2026-W48")]


def test_before_the_generation_moment_nothing_is_generated(store: MemoryStore) -> None:
    queue = RecordingJobQueue()
    _plan(store, datetime(2026, 11, 19, 12, 0, tzinfo=UTC), queue)  # Thursday
    assert _named(queue, GENERATE_WEEK) == []


def test_the_weekly_digest_is_due_once_a_week_from_monday_morning_local_time(
    store: MemoryStore,
) -> None:
    queue = RecordingJobQueue()
    sunday_night_utc = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Monday 04:30 in Kolkata
    monday_in_kolkata = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 07:30 in Kolkata
    for at in (sunday_night_utc, monday_in_kolkata, monday_in_kolkata + timedelta(days=2)):
        _plan(store, at, queue)
    digests = [
        (j.payload["institution_id"], j.payload["week"]) for j in _named(queue, WEEKLY_DIGEST)
    ]
    assert ("inst-a", "2026-W48") in digests
    assert digests.count(("inst-a", "2026-W48")) == 1
    assert ("inst-a", "2026-W47") not in digests  # the week before Monday 07:00 had its own


def test_completing_overdue_sessions_is_due_once_per_slot(store: MemoryStore) -> None:
    queue = RecordingJobQueue()
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    for second in range(0, 15 * 60, 30):
        _plan(store, start + timedelta(seconds=second), queue)
    keys = [j.idempotency_key for j in _named(queue, COMPLETE_OVERDUE)]
    assert keys == [
        "complete-overdue:20261120T0900",
        "complete-overdue:20261120T0905",
        "complete-overdue:20261120T0910",
    ]


def test_expiring_cover_offers_is_due_once_a_minute(store: MemoryStore) -> None:
    queue = RecordingJobQueue()
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    for second in range(0, 3 * 60, 20):
        _plan(store, start + timedelta(seconds=second), queue)
    keys = [j.idempotency_key for j in _named(queue, EXPIRE_OFFERS)]
    assert keys == [
        "expire-offers:20261120T0900",
        "expire-offers:20261120T0901",
        "expire-offers:20261120T0902",
    ]


def test_the_clean_up_is_due_once_a_day(store: MemoryStore) -> None:
    queue = RecordingJobQueue()
    for hour in range(0, 48, 6):
        _plan(store, datetime(2026, 11, 20, tzinfo=UTC) + timedelta(hours=hour), queue)
    assert [j.payload["days"] for j in _named(queue, CLEAN_UP)] == [400, 400]


def test_a_retention_of_zero_never_cleans_up(store: MemoryStore) -> None:
    jobs = PlanPeriodicJobs(
        InMemoryUnitOfWork(store),
        FixedClock(FRIDAY_EVENING_IN_KOLKATA),
        PeriodicSettings(retention_days=0),
    )()
    assert CLEAN_UP not in {j.name for j in jobs}


def _notification(store: MemoryStore, key: str, created: datetime) -> Notification:
    uow: UnitOfWork = InMemoryUnitOfWork(store)
    notification = Notification(
        id=NotificationId(key),
        institution_id=InstitutionId("inst-a"),
        kind="broadcast",
        title="t",
        body="b",
        recipients=(),
        idempotency_key=key,
        created_at=created,
    )
    with uow.for_platform():
        uow.outbox.add(notification)
        uow.commit()
    return notification


def test_clean_up_removes_only_notifications_delivered_before_the_retention(
    store: MemoryStore,
) -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    old = _notification(store, "old", now - timedelta(days=40))
    recent = _notification(store, "recent", now - timedelta(days=5))
    pending = _notification(store, "pending", now - timedelta(days=90))
    uow = InMemoryUnitOfWork(store)
    with uow.for_platform():
        uow.outbox.mark_delivered(old.id, now - timedelta(days=39), DeliveryReport(1))
        uow.outbox.mark_delivered(recent.id, now - timedelta(days=5), DeliveryReport(1))
        uow.commit()
    clean_up = CleanUp(InMemoryUnitOfWork(store), FixedClock(now))

    dry = clean_up(CleanUpCommand(days=30, dry_run=True))
    done = clean_up(CleanUpCommand(days=30))
    again = clean_up(CleanUpCommand(days=30))

    assert (dry.delivered_notifications, dry.dry_run) == (1, True)
    assert (done.delivered_notifications, again.delivered_notifications) == (1, 0)
    with uow.for_platform():
        assert uow.outbox.find(old.id) is None
        assert uow.outbox.find(recent.id) is not None
        assert [n.id for n in uow.outbox.pending()] == [pending.id]


def test_clean_up_never_touches_the_attendance_history(store: MemoryStore) -> None:
    admin = scheduler_principal(InstitutionId("inst-a"))
    GenerateWeek(InMemoryUnitOfWork(store), SeededRandomSource(1))(
        GenerateWeekCommand.for_week(admin, "2026-W47")
    )
    week = DateRange(date(2026, 11, 16), date(2026, 11, 22))

    def sessions() -> list[object]:
        uow = InMemoryUnitOfWork(store)
        with uow.for_institution(InstitutionId("inst-a")):
            return list(uow.sessions.list_between(week))

    held = sessions()
    CleanUp(InMemoryUnitOfWork(store), FixedClock(datetime(2030, 1, 1, tzinfo=UTC)))(
        CleanUpCommand(days=1)
    )
    assert held
    assert sessions() == held


def test_periodic_settings_refuse_impossible_values() -> None:
    with pytest.raises(ValueError, match="weekdays"):
        PeriodicSettings(generate_weekday=8)
    with pytest.raises(ValueError, match="retention"):
        PeriodicSettings(retention_days=-1)
    with pytest.raises(ValueError, match="complete_every_minutes"):
        PeriodicSettings(complete_every_minutes=0)
    assert PeriodicSettings(generate_at=time(6)).generate_at == time(6)


def test_the_weekly_digest_tells_each_student_below_the_threshold_once(
    store: MemoryStore,
) -> None:
    inst = InstitutionId("inst-a")
    admin = scheduler_principal(inst)
    GenerateWeek(InMemoryUnitOfWork(store), SeededRandomSource(1))(
        GenerateWeekCommand.for_week(admin, "2026-W47")
    )
    clock = FixedClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))  # Friday afternoon
    uow = InMemoryUnitOfWork(store)
    with uow.for_institution(inst):  # every class Monday to Thursday opened, nobody came
        for held in uow.sessions.list_between(DateRange(date(2026, 11, 16), date(2026, 11, 19))):
            uow.sessions.update(dataclasses.replace(held, status=SessionStatus.OPEN))
        uow.commit()
    CompleteOverdueSessions(InMemoryUnitOfWork(store), clock)(CompleteOverdueSessionsCommand())
    digest = SendWeeklyDigest(InMemoryUnitOfWork(store), clock, SeededRandomSource(2))

    first = digest(SendWeeklyDigestCommand(inst, "2026-W47"))
    again = digest(SendWeeklyDigestCommand(inst, "2026-W47"))

    with uow.for_institution(inst):
        sent = uow.outbox.history("attendance_digest")
    # nobody checked in all week: every student with a class is below 75 %
    assert first.students == again.students > 0
    assert len(sent) == first.students  # the second run queued nothing new
    assert {len(n.notification.recipients) for n in sent} == {1}
    assert all(
        "left)" in n.notification.body or "out of reach" in n.notification.body for n in sent
    )
