"""The scheduler with a controlled clock: two schedulers queue each period's job once, and
the jobs generate the week, complete what was left open and tell students below the line."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from dishka import Container, make_container

from ams_adapters.composition import build_providers
from ams_adapters.dramatiq import (
    DramatiqJobQueue,
    QueueSettings,
    make_broker,
    make_redis,
    run_worker,
)
from ams_adapters.identity import IdentitySettings
from ams_adapters.memory import InMemoryUnitOfWork, MemoryStore
from ams_adapters.memory.clock import FixedClock
from ams_core.domain import (
    ClassSession,
    DateRange,
    Faculty,
    FacultyId,
    InstitutionId,
    OfferStatus,
    SessionStatus,
)
from ams_core.ports import Job, JobHandler
from ams_core.testing.builders import seed_small_college
from ams_core.use_cases import (
    BuildCoverPlan,
    BuildCoverPlanCommand,
    CoverPlanCommand,
    GenerateWeek,
    GenerateWeekCommand,
    PublishCoverPlan,
    ReportAbsence,
    ReportAbsenceCommand,
    scheduler_principal,
)
from ams_http.serve.background import PeriodicScheduler, in_process_queue, job_handlers
from tests.http.conftest import SECRET, FixedSystemProvider
from tests.redis_support import REDIS_URL

# Friday 2026-11-20 18:15 in Kolkata (the small college's timezone)
FRIDAY_EVENING = datetime(2026, 11, 20, 12, 45, tzinfo=UTC)
NEXT_WEEK = DateRange(date(2026, 11, 23), date(2026, 11, 29))
INST = InstitutionId("inst-a")


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    seed_small_college(InMemoryUnitOfWork(store))
    return store


def _container(store: MemoryStore, clock: FixedClock) -> Container:
    identity = IdentitySettings(secret_key=SECRET)
    return make_container(
        *build_providers(identity=identity, store=store, system=FixedSystemProvider(clock))
    )


def _sessions(store: MemoryStore, dates: DateRange) -> list[ClassSession]:
    uow = InMemoryUnitOfWork(store)
    with uow.for_institution(INST):
        return list(uow.sessions.list_between(dates))


def test_in_process_ticks_generate_next_week_once(store: MemoryStore) -> None:
    clock = FixedClock(FRIDAY_EVENING)
    container = _container(store, clock)
    try:
        scheduler = PeriodicScheduler(container, in_process_queue(job_handlers(container)))
        for _ in range(3):
            scheduler.tick()
            clock.advance(timedelta(minutes=1))
    finally:
        container.close()
    generated = _sessions(store, NEXT_WEEK)
    assert generated
    assert len({(s.slot_id, s.date) for s in generated}) == len(generated)


def test_sessions_left_open_are_completed_after_their_grace(store: MemoryStore) -> None:
    clock = FixedClock(datetime(2026, 11, 16, 3, 35, tzinfo=UTC))  # Monday 09:05 in Kolkata
    container = _container(store, clock)
    try:
        scheduler = PeriodicScheduler(container, in_process_queue(job_handlers(container)))
        with container() as request:  # this week's sessions, as last Friday's job made them
            request.get(GenerateWeek)(
                GenerateWeekCommand.for_week(scheduler_principal(INST), "2026-W47")
            )
        monday = DateRange(date(2026, 11, 16), date(2026, 11, 16))
        first = min(_sessions(store, monday), key=lambda s: s.start)
        uow = InMemoryUnitOfWork(store)
        with uow.for_institution(INST):  # the teacher opened it and never completed it
            uow.sessions.update(dataclasses.replace(first, status=SessionStatus.OPEN))
            uow.commit()
        clock.advance(timedelta(hours=6))
        scheduler.tick()
    finally:
        container.close()
    [after] = [s for s in _sessions(store, monday) if s.id == first.id]
    assert after.status is SessionStatus.COMPLETED


def test_cover_offers_left_unanswered_expire_and_go_to_the_next_candidate(
    store: MemoryStore,
) -> None:
    clock = FixedClock(datetime(2026, 11, 15, 12, 30, tzinfo=UTC))  # Sunday 18:00 in Kolkata
    container = _container(store, clock)
    uow = InMemoryUnitOfWork(store)
    with uow.for_institution(INST):
        for n, name in ((3, "Carol"), (4, "Dave")):
            uow.faculty.add(
                Faculty(FacultyId(f"F00{n}"), INST, name, f"{name.lower()}@a.edu", "CSE")
            )
        uow.commit()
    try:
        scheduler = PeriodicScheduler(container, in_process_queue(job_handlers(container)))
        with container() as request:
            admin = scheduler_principal(INST)
            request.get(GenerateWeek)(GenerateWeekCommand.for_week(admin, "2026-W47"))
            monday_morning = datetime(2026, 11, 16, 2, 30, tzinfo=UTC)  # 08:00 in Kolkata
            request.get(ReportAbsence)(
                ReportAbsenceCommand(
                    admin,
                    monday_morning,
                    monday_morning + timedelta(hours=2),
                    "sick",
                    faculty_id=FacultyId("F001"),
                )
            )
            plan = request.get(BuildCoverPlan)(
                BuildCoverPlanCommand(admin, date(2026, 11, 16), date(2026, 11, 16))
            )
            [first] = request.get(PublishCoverPlan)(CoverPlanCommand(admin, plan.id)).offers
        scheduler.tick()  # nothing has run out yet
        clock.set(first.expires_at)
        scheduler.tick()
    finally:
        container.close()
    with uow.for_institution(INST):
        offers = list(uow.cover_offers.list_for_need(first.need_id))
    assert [(o.substitute_id, o.status) for o in offers] == [
        (first.substitute_id, OfferStatus.EXPIRED),
        (offers[1].substitute_id, OfferStatus.OFFERED),
    ]
    assert offers[1].substitute_id != first.substitute_id


@pytest.fixture
def queue_settings(redis_prefix: str) -> Iterator[QueueSettings]:
    name = f"ams-test-{uuid.uuid4().hex[:12]}"
    yield QueueSettings(redis_url=REDIS_URL, namespace=name, queue=name)
    client = make_redis(QueueSettings(redis_url=REDIS_URL))
    keys = list(client.scan_iter(match=f"{name}*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.redis
@pytest.mark.timeout(60)
def test_two_schedulers_on_redis_queue_each_periodic_job_once(
    store: MemoryStore, queue_settings: QueueSettings
) -> None:
    clock = FixedClock(FRIDAY_EVENING)
    container = _container(store, clock)
    ran: list[str] = []
    handlers = job_handlers(container)

    def counting(run: JobHandler) -> JobHandler:
        def counted_run(job: Job) -> None:
            ran.append(job.name)
            run(job)

        return counted_run

    counted = {name: counting(run) for name, run in handlers.items()}
    brokers = []
    clients = []
    try:
        schedulers = []
        for _ in range(2):  # two scheduler processes, each with its own broker and client
            client = make_redis(queue_settings)
            clients.append(client)
            broker = make_broker(queue_settings, client=client)
            brokers.append(broker)
            queue = DramatiqJobQueue(broker, client, counted, queue_settings)
            schedulers.append(PeriodicScheduler(container, queue))
        for _ in range(3):
            for scheduler in schedulers:
                scheduler.tick()
            clock.advance(timedelta(seconds=20))
        stop = threading.Event()
        worker = threading.Thread(
            target=run_worker, args=(brokers[0], queue_settings, stop), daemon=True
        )
        worker.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and ran.count("weeks.generate") < 1:
            time.sleep(0.05)
        time.sleep(0.5)  # anything queued twice would have run by now
        stop.set()
        worker.join(30)
    finally:
        for broker in brokers:
            broker.close()
        for client in clients:
            client.close()
        container.close()
    assert ran.count("weeks.generate") == 1
    assert ran.count("sessions.complete-overdue") == 1
    assert ran.count("maintenance.clean-up") == 1
    assert _sessions(store, NEXT_WEEK)
