"""Part of the persistence contract. Counters, security events, the audit trail, push tokens and
the outbox.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest

from ams_core.domain import (
    DeliveryReport,
    NotFoundError,
    NotificationId,
    Recipient,
    RecipientKind,
    SecurityEvent,
    SecurityEventKind,
    SessionId,
    StudentId,
)
from ams_core.ports import (
    FailureCounts,
    SecurityEventFilter,
    SentNotification,
    Slice,
    UnitOfWorkFactory,
)
from ams_core.testing.builders import MONDAY, SmallCollege
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    IST,
    T0,
    _broadcast,
    _event,
    _notification,
    _session,
)


class OutboxContract(ContractHelpers):
    """Counters, security events, the audit trail, push tokens and the outbox."""

    # -- counters, events and the outbox ------------------------------------------------------
    def test_wrong_code_counters_count_per_student_and_per_session(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1 = c.students[0].id, c.students[1].id
        s1, s2 = SessionId("S-1"), SessionId("S-2")
        self._add_sessions(
            uow_factory,
            c,
            _session(c, s1, c.alice_cs_a, MONDAY),
            _session(c, s2, c.bob_ma_a, MONDAY, time(10)),
        )
        with uow_factory().for_institution(c.id) as uow:
            assert uow.code_failures.failures(s1, st0) == 0
            assert uow.code_failures.record_failure(s1, st0) == FailureCounts(student=1, session=1)
            assert uow.code_failures.record_failure(s1, st1) == FailureCounts(student=1, session=2)
            assert uow.code_failures.record_failure(s1, st0) == FailureCounts(student=2, session=3)
            assert uow.code_failures.record_failure(s2, st0) == FailureCounts(student=1, session=1)
            assert (uow.code_failures.failures(s1, st0), uow.code_failures.failures(s1, st1)) == (
                2,
                1,
            )
            assert uow.code_failures.failures(s2, st1) == 0
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            uow.code_failures.reset_session(s1)
            uow.code_failures.reset_session(SessionId("S-404"))
            assert uow.code_failures.failures(s1, st0) == 2
            assert uow.code_failures.record_failure(s1, st1) == FailureCounts(student=2, session=1)
            assert uow.code_failures.record_failure(s2, st1) == FailureCounts(student=1, session=2)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.code_failures.record_failure(s1, st0) == FailureCounts(student=3, session=2)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.code_failures.failures(s1, st0) == 2  # the last increment was not committed

    def test_security_events_come_newest_first_with_since_and_limit(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        minutes = (2, 0, 3, 1)
        events = [_event(college, T0 + timedelta(minutes=m), actor=f"actor-{m}") for m in minutes]
        with uow_factory().for_institution(college.id) as uow:
            for event in events[:2]:
                uow.security_events.add(event)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            for event in events[2:]:
                uow.security_events.add(event)
            uow.commit()
        newest_first = sorted(events, key=lambda e: e.at, reverse=True)
        with uow_factory().for_institution(college.id) as uow:
            listed = uow.security_events
            assert list(listed.list()) == newest_first
            assert list(listed.list(limit=2)) == newest_first[:2]
            assert list(listed.list(since=T0 + timedelta(seconds=90))) == newest_first[:2]
            assert list(listed.list(since=T0 + timedelta(seconds=30), limit=1)) == newest_first[:1]
            assert list(listed.list(since=T0 - timedelta(days=1), limit=10)) == newest_first
            assert list(listed.list(since=T0 + timedelta(hours=1))) == []
            for n in range(101):
                listed.add(_event(college, T0 - timedelta(days=1, seconds=n), actor="old"))
            assert list(listed.list()) == [
                *newest_first,
                *(
                    _event(college, T0 - timedelta(days=1, seconds=n), actor="old")
                    for n in range(96)
                ),
            ]

    def test_security_event_pages_filter_by_kind_student_session_and_since(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, kinds = college, SecurityEventKind
        st0, st1 = c.students[0].id, c.students[1].id
        s1, s2 = SessionId("S-1"), SessionId("S-2")

        def event(
            minutes: int,
            kind: SecurityEventKind,
            student: StudentId | None = None,
            session: SessionId | None = None,
        ) -> SecurityEvent:
            return SecurityEvent(
                institution_id=c.id,
                kind=kind,
                at=T0 + timedelta(minutes=minutes),
                actor=f"{kind.value}-{minutes}",
                student_id=student,
                session_id=session,
            )

        wrong_0 = event(0, kinds.WRONG_CODE, st0, s1)
        wrong_1 = event(1, kinds.WRONG_CODE, st0, s1)
        locked = event(1, kinds.CHECK_IN_LOCKED, st0, s1)  # same instant, written later
        shared = event(2, kinds.DEVICE_SHARED, st1)
        wrong_3 = event(3, kinds.WRONG_CODE, st1, s2)
        rotated = event(3, kinds.SECRET_ROTATED, st1, s2)
        reset = event(-60, kinds.DEVICE_RESET, st0)
        with uow_factory().for_institution(c.id) as uow:
            for written in (wrong_0, wrong_1, locked, shared):
                uow.security_events.add(written)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            for written in (wrong_3, rotated, reset):
                uow.security_events.add(written)
            uow.commit()
        newest = (rotated, wrong_3, shared, locked, wrong_1, wrong_0, reset)

        def page(limit: int = 100, offset: int = 0, **filters: Any) -> Slice[SecurityEvent]:
            with uow_factory().for_institution(c.id) as uow:
                return uow.security_events.page(SecurityEventFilter(**filters), limit, offset)

        with uow_factory().for_institution(c.id) as uow:
            assert tuple(uow.security_events.list()) == newest
        assert page() == Slice(newest, 7)
        assert page(2) == Slice(newest[:2], 7)
        assert page(3, 5) == Slice(newest[5:], 7)
        assert page(3, 7) == Slice((), 7)
        assert page(kind=kinds.WRONG_CODE) == Slice((wrong_3, wrong_1, wrong_0), 3)
        assert page(1, 1, kind=kinds.WRONG_CODE) == Slice((wrong_1,), 3)
        assert page(kind=kinds.OFF_CAMPUS) == Slice((), 0)
        assert page(student_id=st0) == Slice((locked, wrong_1, wrong_0, reset), 4)
        assert page(student_id=StudentId("N404")) == Slice((), 0)
        assert page(session_id=s2) == Slice((rotated, wrong_3), 2)
        assert page(since=T0 + timedelta(minutes=1)) == Slice(newest[:5], 5)
        assert page(2, 2, since=T0 + timedelta(minutes=1)) == Slice((shared, locked), 5)
        assert page(since=T0 + timedelta(minutes=1), student_id=st0) == Slice((locked, wrong_1), 2)
        assert page(kind=kinds.WRONG_CODE, student_id=st0, session_id=s1) == Slice(
            (wrong_1, wrong_0), 2
        )
        assert page(kind=kinds.WRONG_CODE, student_id=st0, session_id=s2) == Slice((), 0)
        assert page(
            kind=kinds.WRONG_CODE,
            student_id=st1,
            session_id=s2,
            since=T0 + timedelta(minutes=3),
        ) == Slice((wrong_3,), 1)

    def test_the_outbox_stores_an_idempotency_key_once(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        first = _notification(college, "N-1", "key-1", T0)
        repeat = _notification(college, "N-2", "key-1", T0 + timedelta(minutes=1))
        with uow_factory().for_institution(college.id) as uow:
            uow.outbox.add(first)
            uow.outbox.add(repeat)
            assert list(uow.outbox.pending()) == [first]
            uow.commit()
        with uow_factory().for_platform() as uow:
            uow.outbox.add(repeat)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.pending()) == [first]
            uow.outbox.mark_delivered(first.id, T0, DeliveryReport(delivered=5))
            uow.commit()
        with uow_factory().for_platform() as uow:
            uow.outbox.add(repeat)
            assert list(uow.outbox.pending()) == []
            with pytest.raises(NotFoundError):
                uow.outbox.mark_delivered(repeat.id, T0, DeliveryReport(delivered=5))

    def test_pending_notifications_are_oldest_first_and_limited(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        minutes = (2, 0, 3, 1)
        queued = [
            _notification(college, f"N-{m}", f"key-{m}", T0 + timedelta(minutes=m)) for m in minutes
        ]
        with uow_factory().for_institution(college.id) as uow:
            for notification in queued:
                uow.outbox.add(notification)
            uow.commit()
        oldest_first = sorted(queued, key=lambda n: n.created_at)
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.pending()) == oldest_first
            assert list(uow.outbox.pending(limit=2)) == oldest_first[:2]
        with uow_factory().for_institution(college.id) as uow:
            assert list(uow.outbox.pending(limit=3)) == oldest_first[:3]

    def test_mark_delivered_takes_a_notification_out_of_pending(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        queued = [
            _notification(college, f"N-{m}", f"key-{m}", T0 + timedelta(minutes=m))
            for m in range(3)
        ]
        with uow_factory().for_institution(college.id) as uow:
            for notification in queued:
                uow.outbox.add(notification)
            uow.commit()
        report = DeliveryReport(delivered=2, failed=1)
        with uow_factory().for_platform() as uow:
            uow.outbox.mark_delivered(queued[1].id, T0 + timedelta(hours=1), report)
            assert list(uow.outbox.pending()) == [queued[0], queued[2]]
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.pending()) == [queued[0], queued[2]]
            uow.outbox.mark_delivered(queued[0].id, T0 + timedelta(hours=1), report)
        with uow_factory().for_institution(college.id) as uow:
            assert list(uow.outbox.pending()) == [queued[0], queued[2]]  # not committed
            uow.outbox.mark_delivered(queued[2].id, T0 + timedelta(hours=2), report)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.pending()) == [queued[0]]
            with pytest.raises(NotFoundError):
                uow.outbox.mark_delivered(NotificationId("N-404"), T0, report)

    def test_history_is_newest_first_and_filtered_by_kind_and_recipient(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        section_a = Recipient(RecipientKind.SECTION, college.section_a.id)
        section_b = Recipient(RecipientKind.SECTION, college.section_b.id)
        # the same id under another kind of recipient must not match section_a
        student_named_like_a = Recipient(RecipientKind.STUDENT, college.section_a.id)
        at = [T0 + timedelta(minutes=m) for m in range(5)]
        to_a = _broadcast(college, "N-1", at[0], section_a)
        to_b = _broadcast(college, "N-2", at[1], section_b)
        to_both = _broadcast(college, "N-3", at[2], section_b, section_a)
        to_student = _broadcast(college, "N-4", at[3], student_named_like_a)
        tied = _broadcast(college, "N-5", at[2], section_a)  # same instant, written later
        other_kind = _broadcast(college, "N-6", at[4], section_a, kind="class_cancelled")
        with uow_factory().for_institution(college.id) as uow:
            for notification in (to_a, to_b, to_both, to_student, tied, other_kind):
                uow.outbox.add(notification)
            assert [s.notification for s in uow.outbox.history("broadcast", section_a)] == [
                tied,
                to_both,
                to_a,
            ]
            uow.commit()
        pending = [SentNotification(n) for n in (to_student, tied, to_both, to_b, to_a)]
        with uow_factory().for_institution(college.id) as uow:
            assert list(uow.outbox.history("broadcast")) == pending
            assert list(uow.outbox.history("broadcast", limit=2)) == pending[:2]
            assert list(uow.outbox.history("broadcast", section_a, limit=2)) == pending[1:3]
            assert list(uow.outbox.history("broadcast", section_b)) == [pending[2], pending[3]]
            assert list(uow.outbox.history("broadcast", student_named_like_a)) == [pending[0]]
            assert list(uow.outbox.history("class_cancelled")) == [SentNotification(other_kind)]
            assert list(uow.outbox.history("nothing_like_it")) == []
            nobody = Recipient(RecipientKind.FACULTY, college.alice.id)
            assert list(uow.outbox.history("broadcast", nobody)) == []
        delivered_at = datetime(2026, 11, 16, 10, 0, tzinfo=IST)
        with uow_factory().for_platform() as uow:
            uow.outbox.mark_delivered(to_both.id, delivered_at, DeliveryReport(4, failed=2))
            uow.outbox.mark_delivered(to_a.id, delivered_at, DeliveryReport(0))
            uow.commit()
        for scope in ("institution", "platform"):
            uow = uow_factory()
            opened = uow.for_platform() if scope == "platform" else uow.for_institution(college.id)
            with opened:
                assert list(uow.outbox.history("broadcast", section_a)) == [
                    SentNotification(tied),
                    SentNotification(to_both, delivered_at, delivered=4, failed=2),
                    SentNotification(to_a, delivered_at, delivered=0, failed=0),
                ]

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_history_shows_a_tenant_only_its_own_notifications_and_the_platform_all(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        section = Recipient(RecipientKind.SECTION, "E2-CSE-A")
        with uow_factory().for_institution(theirs.id) as uow:
            uow.outbox.add(_broadcast(theirs, f"N-{other}-2", T0 + timedelta(hours=1), section))
            uow.commit()
        with uow_factory().for_institution(mine.id) as uow:
            assert [s.notification.id for s in uow.outbox.history("class_cancelled")] == [f"N-{me}"]
            assert list(uow.outbox.history("class_cancelled", section)) == [
                SentNotification(_notification(mine, f"N-{me}", f"key-{me}"))
            ]
            assert list(uow.outbox.history("broadcast")) == []
        with uow_factory().for_platform() as uow:
            ids = [s.notification.id for s in uow.outbox.history("class_cancelled", section)]
            assert sorted(ids) == ["N-A", "N-B"]
            assert [s.notification.id for s in uow.outbox.history("broadcast")] == [f"N-{other}-2"]
