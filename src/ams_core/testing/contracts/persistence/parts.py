"""Part of the persistence contract: a notification delivered in parts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ams_core.domain import DeliveryReport, NotFoundError, Notification, NotificationId
from ams_core.ports import MAX_PARTS, UnitOfWorkFactory
from ams_core.testing.builders import SmallCollege, seed_small_college
from ams_core.testing.contracts.persistence._base import ContractHelpers
from ams_core.testing.contracts.persistence._builders import (
    T0,
    _notification,
)

_MINUTE = timedelta(minutes=1)


class OutboxPartsContract(ContractHelpers):
    """Splitting a notification into parts and adding up what each part delivered."""

    def _queue_one(self, uow_factory: UnitOfWorkFactory, college: SmallCollege) -> Notification:
        notification = _notification(college, "N-parts", "key-parts", T0)
        with uow_factory().for_institution(college.id) as uow:
            uow.outbox.add(notification)
            uow.commit()
        return notification

    def test_a_notification_is_split_once_and_keeps_its_first_number_of_parts(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        notification = self._queue_one(uow_factory, college)
        with uow_factory().for_institution(college.id) as uow:
            assert uow.outbox.split(notification.id, 3) == 3
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.outbox.split(notification.id, 5) == 3
            sent = uow.outbox.find(notification.id)
            assert sent is not None
            assert (sent.parts, sent.parts_done, sent.delivered_at) == (3, frozenset(), None)
            with pytest.raises(NotFoundError):
                uow.outbox.split(NotificationId("N-404"), 2)
            with pytest.raises(ValueError, match="parts"):
                uow.outbox.split(notification.id, MAX_PARTS + 1)

    def test_a_split_is_undone_by_a_rollback(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        notification = self._queue_one(uow_factory, college)
        with uow_factory().for_institution(college.id) as uow:
            uow.outbox.split(notification.id, 4)
        with uow_factory().for_institution(college.id) as uow:
            sent = uow.outbox.find(notification.id)
            assert sent is not None and sent.parts is None

    def test_the_parts_add_up_and_the_last_one_marks_the_notification_delivered(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        notification = self._queue_one(uow_factory, college)
        done_at = T0 + 3 * _MINUTE
        with uow_factory().for_institution(college.id) as uow:
            uow.outbox.split(notification.id, 3)
            assert uow.outbox.record_part(notification.id, 0, T0, DeliveryReport(5, 1))
            assert uow.outbox.record_part(notification.id, 2, T0, DeliveryReport(4))
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            # a repeat of a part counts once
            assert not uow.outbox.record_part(notification.id, 2, T0, DeliveryReport(4))
            sent = uow.outbox.find(notification.id)
            assert sent is not None
            assert (sent.parts_done, sent.delivered, sent.failed) == (frozenset({0, 2}), 9, 1)
            assert sent.delivered_at is None
            assert list(uow.outbox.pending()) == [notification]
            assert uow.outbox.record_part(notification.id, 1, done_at, DeliveryReport(2, 2))
            uow.commit()
        with uow_factory().for_platform() as uow:
            sent = uow.outbox.find(notification.id)
            assert sent is not None
            assert (sent.delivered_at, sent.delivered, sent.failed) == (done_at, 11, 3)
            assert sent.parts_done == frozenset({0, 1, 2})
            assert list(uow.outbox.pending()) == []
            assert list(uow.outbox.due_for_relay(T0 + 60 * _MINUTE)) == []
            # nothing is added once it is delivered
            assert not uow.outbox.record_part(notification.id, 0, done_at, DeliveryReport(7))

    def test_a_part_of_a_notification_never_split_or_out_of_range_is_not_recorded(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        notification = self._queue_one(uow_factory, college)
        with uow_factory().for_institution(college.id) as uow:
            assert not uow.outbox.record_part(notification.id, 0, T0, DeliveryReport(1))
            uow.outbox.split(notification.id, 2)
            assert not uow.outbox.record_part(notification.id, 2, T0, DeliveryReport(1))
            assert not uow.outbox.record_part(NotificationId("N-404"), 0, T0, DeliveryReport(1))
            sent = uow.outbox.find(notification.id)
            assert sent is not None
            assert (sent.parts_done, sent.delivered, sent.delivered_at) == (frozenset(), 0, None)

    def test_a_notification_delivered_whole_is_not_split(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        notification = self._queue_one(uow_factory, college)
        with uow_factory().for_institution(college.id) as uow:
            uow.outbox.mark_delivered(notification.id, T0, DeliveryReport(3))
            assert uow.outbox.split(notification.id, 2) == 0
            sent = uow.outbox.find(notification.id)
            assert sent is not None and sent.parts is None and sent.delivered == 3

    def test_another_institution_can_neither_split_nor_record_a_part(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        other_college = seed_small_college(uow_factory(), institution_id="inst-b", domain="b.edu")
        notification = self._queue_one(uow_factory, college)
        with uow_factory().for_institution(college.id) as uow:
            uow.outbox.split(notification.id, 2)
            uow.commit()
        with uow_factory().for_institution(other_college.id) as uow:
            with pytest.raises(NotFoundError):
                uow.outbox.split(notification.id, 2)
            assert not uow.outbox.record_part(notification.id, 0, T0, DeliveryReport(1))
            uow.commit()
        with uow_factory().for_platform() as uow:
            sent = uow.outbox.find(notification.id)
            assert sent is not None and sent.parts_done == frozenset()
