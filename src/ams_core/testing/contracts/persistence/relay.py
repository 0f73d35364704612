"""Part of the persistence contract: what the outbox relay and the clean-up rely on."""

from __future__ import annotations

from datetime import timedelta

from ams_core.domain import DeliveryReport, Notification, NotificationId
from ams_core.ports import UnitOfWorkFactory
from ams_core.testing.builders import SmallCollege, seed_small_college
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    T0,
    _notification,
)

_MINUTE = timedelta(minutes=1)


class OutboxRelayContract(ContractHelpers):
    """Relaying the outbox to the job queue, finding one notification, purging old ones."""

    def _queue(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, count: int
    ) -> list[Notification]:
        queued = [
            _notification(college, f"N-{n}", f"key-{n}", T0 + n * _MINUTE) for n in range(count)
        ]
        with uow_factory().for_institution(college.id) as uow:
            for notification in queued:
                uow.outbox.add(notification)
            uow.commit()
        return queued

    def test_a_notification_never_relayed_is_due_oldest_first(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        queued = self._queue(uow_factory, college, 3)
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.due_for_relay(T0)) == queued
            assert list(uow.outbox.due_for_relay(T0, limit=2)) == queued[:2]

    def test_a_relayed_notification_is_due_again_only_after_the_redelivery_time(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        first, second, third = self._queue(uow_factory, college, 3)
        relayed_at = T0 + 10 * _MINUTE
        with uow_factory().for_platform() as uow:
            uow.outbox.mark_relayed([first.id, third.id, NotificationId("N-404")], relayed_at)
            uow.commit()
        with uow_factory().for_platform() as uow:
            # a stuck notification does not block the ones behind it
            assert list(uow.outbox.due_for_relay(relayed_at)) == [second]
            assert list(uow.outbox.due_for_relay(relayed_at + _MINUTE)) == [first, second, third]
        with uow_factory().for_institution(college.id) as uow:
            assert list(uow.outbox.due_for_relay(relayed_at, limit=5)) == [second]

    def test_a_delivered_notification_is_never_due_and_not_marked_relayed(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        first, second = self._queue(uow_factory, college, 2)
        with uow_factory().for_platform() as uow:
            uow.outbox.mark_delivered(first.id, T0, DeliveryReport(delivered=1))
            uow.outbox.mark_relayed([first.id], T0)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.due_for_relay(T0 + 60 * _MINUTE)) == [second]

    def test_marking_relayed_is_undone_by_a_rollback(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        (first,) = self._queue(uow_factory, college, 1)
        with uow_factory().for_platform() as uow:
            uow.outbox.mark_relayed([first.id], T0 + _MINUTE)
            assert list(uow.outbox.due_for_relay(T0 + _MINUTE)) == []
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.due_for_relay(T0 + _MINUTE)) == [first]

    def test_find_gives_a_notification_with_what_became_of_it(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        first, second = self._queue(uow_factory, college, 2)
        at = T0 + 5 * _MINUTE
        with uow_factory().for_platform() as uow:
            uow.outbox.mark_delivered(second.id, at, DeliveryReport(delivered=3, failed=1))
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            pending = uow.outbox.find(first.id)
            delivered = uow.outbox.find(second.id)
            assert pending is not None and pending.notification == first
            assert pending.delivered_at is None
            assert delivered is not None
            assert (delivered.delivered_at, delivered.delivered, delivered.failed) == (at, 3, 1)
            assert uow.outbox.find(NotificationId("N-404")) is None

    def test_another_institution_neither_finds_nor_relays_a_notification(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        other_college = seed_small_college(uow_factory(), institution_id="inst-b", domain="b.edu")
        (first,) = self._queue(uow_factory, college, 1)
        with uow_factory().for_institution(other_college.id) as uow:
            assert uow.outbox.find(first.id) is None
            assert list(uow.outbox.due_for_relay(T0 + _MINUTE)) == []
            uow.outbox.mark_relayed([first.id], T0 + _MINUTE)
            assert uow.outbox.purge_delivered(T0 + 9999 * _MINUTE) == 0
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.due_for_relay(T0 + _MINUTE)) == [first]

    def test_purging_removes_only_notifications_delivered_before_the_cut_off(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        old, recent, pending = self._queue(uow_factory, college, 3)
        with uow_factory().for_platform() as uow:
            uow.outbox.mark_delivered(old.id, T0 + _MINUTE, DeliveryReport(delivered=1))
            uow.outbox.mark_delivered(recent.id, T0 + 60 * _MINUTE, DeliveryReport(delivered=1))
            uow.commit()
        cut_off = T0 + 30 * _MINUTE
        with uow_factory().for_platform() as uow:
            assert uow.outbox.count_delivered_before(cut_off) == 1
            assert uow.outbox.purge_delivered(cut_off) == 1
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert uow.outbox.find(old.id) is None
            assert uow.outbox.find(recent.id) is not None
            assert list(uow.outbox.pending()) == [pending]
            assert uow.outbox.count_delivered_before(cut_off) == 0
        with uow_factory().for_institution(college.id) as uow:
            # the purged key may be used again
            uow.outbox.add(_notification(college, "N-new", old.idempotency_key, T0 + 90 * _MINUTE))
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert [n.id for n in uow.outbox.pending()] == [pending.id, "N-new"]
