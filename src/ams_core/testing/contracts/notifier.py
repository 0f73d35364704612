"""The contract of :class:`~ams_core.ports.Notifier`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from ams_core.domain import (
    DeliveryReport,
    InstitutionId,
    Notification,
    NotificationId,
    PushPlatform,
    PushToken,
    Recipient,
    RecipientKind,
    StudentId,
    UnavailableError,
)
from ams_core.ports import Notifier

DeliveredIds = Callable[[], Sequence[NotificationId]]
"""Returns the ids of the notifications the transport really delivered so far, in order."""

_AT = datetime(2026, 11, 16, 3, 30, tzinfo=UTC)


def _notification(notification_id: str, key: str, *, institution: str = "inst-a") -> Notification:
    return Notification(
        id=NotificationId(notification_id),
        institution_id=InstitutionId(institution),
        kind="class_cancelled",
        title="Class cancelled",
        body="CS101 at 09:00 today is cancelled — rest well",
        recipients=(Recipient(RecipientKind.SECTION, "CS-A"),),
        idempotency_key=key,
        created_at=_AT,
        data={"session_id": "S-1"},
    )


def _devices(count: int, *, prefix: str = "device", institution: str = "inst-a") -> list[PushToken]:
    """``count`` push registrations of different students, on every platform in turn."""
    platforms = tuple(PushPlatform)
    return [
        PushToken(
            institution_id=InstitutionId(institution),
            token=f"{prefix}-{n:03d}:APA91b{n:04d}",
            platform=platforms[n % len(platforms)],
            owner_email=f"student{n}@college.example",
            registered_at=_AT,
            student_id=StudentId(f"S{n:03d}"),
        )
        for n in range(count)
    ]


class NotifierContract:
    """What every :class:`~ams_core.ports.Notifier` adapter must do.

    Subclass it (with a ``Test`` prefix) and override the ``notifier`` fixture. Optional
    hooks make more of the contract checkable:

    * the ``delivered_ids`` fixture returns a callable listing the ids of the notifications
      the transport actually delivered (a fake transport's log), each once, in the order
      they were first delivered; the default ``None`` means delivery cannot be observed,
      and the tests then check only the reports;
    * :meth:`make_unavailable` takes the transport down and :meth:`make_available` brings
      it back; by default they skip the tests that need an outage.

    Example (the fake transport is reached through the notifier the fixture built)::

        class TestFcmNotifier(NotifierContract):
            @pytest.fixture
            def notifier(self, app: App, fake_fcm: FakeFcm) -> ObservedFcmNotifier:
                return ObservedFcmNotifier(app, fake_fcm)  # notes ids that reached a device

            @pytest.fixture
            def delivered_ids(self, notifier: ObservedFcmNotifier) -> DeliveredIds:
                return lambda: notifier.delivered_ids

            def make_unavailable(self, notifier: Notifier) -> None:
                assert isinstance(notifier, ObservedFcmNotifier)
                notifier.fake.down = True

            def make_available(self, notifier: Notifier) -> None:
                assert isinstance(notifier, ObservedFcmNotifier)
                notifier.fake.down = False
    """

    @pytest.fixture
    def notifier(self) -> Notifier:
        """Override: return a fresh notifier over a working (fake) transport."""
        raise NotImplementedError("subclasses of NotifierContract must define notifier")

    @pytest.fixture
    def delivered_ids(self) -> DeliveredIds | None:
        """Override when delivery can be observed; see the class docstring."""
        return None

    def make_unavailable(self, notifier: Notifier) -> None:
        """Override: make the transport of ``notifier`` unreachable."""
        pytest.skip("this notifier cannot simulate a transport outage")

    def make_available(self, notifier: Notifier) -> None:
        """Override: bring the transport of ``notifier`` back after :meth:`make_unavailable`."""
        pytest.skip("this notifier cannot simulate the end of a transport outage")

    def test_send_reports_every_device_delivered(
        self, notifier: Notifier, delivered_ids: DeliveredIds | None
    ) -> None:
        for n, count in enumerate((1, 3, 7)):
            report = notifier.send(_notification(f"N-{n}", f"key-{n}"), _devices(count))
            assert isinstance(report, DeliveryReport)
            assert report.delivered == count
            assert report.failed == 0
            assert report.dead_tokens == ()
        if delivered_ids is not None:
            assert list(delivered_ids()) == ["N-0", "N-1", "N-2"]

    def test_a_token_listed_twice_counts_once(
        self, notifier: Notifier, delivered_ids: DeliveredIds | None
    ) -> None:
        devices = _devices(3)
        report = notifier.send(_notification("N-1", "key-1"), [*devices, devices[0], devices[2]])
        assert (report.delivered, report.failed) == (3, 0)
        if delivered_ids is not None:
            assert list(delivered_ids()) == ["N-1"]

    def test_no_devices_reports_nothing_delivered_and_nothing_failed(
        self, notifier: Notifier
    ) -> None:
        report = notifier.send(_notification("N-1", "key-1"), [])
        assert (report.delivered, report.failed, report.dead_tokens) == (0, 0, ())

    def test_a_repeated_idempotency_key_is_delivered_once(
        self, notifier: Notifier, delivered_ids: DeliveredIds | None
    ) -> None:
        devices = _devices(2)
        first = _notification("N-1", "key-1")
        again = _notification("N-2", "key-1")  # a re-send after a crash gets a new id
        assert notifier.send(first, devices).delivered == 2
        assert notifier.send(first, devices).delivered == 2
        assert notifier.send(again, devices).delivered == 2
        if delivered_ids is not None:
            assert list(delivered_ids()) == ["N-1"]

    def test_different_keys_are_all_delivered(
        self, notifier: Notifier, delivered_ids: DeliveredIds | None
    ) -> None:
        devices = _devices(3)
        same_content = [_notification(f"N-{n}", f"key-{n}") for n in range(3)]
        for notification in same_content:
            assert notifier.send(notification, devices).delivered == 3
        if delivered_ids is not None:
            assert sorted(delivered_ids()) == ["N-0", "N-1", "N-2"]

    def test_an_unavailable_transport_raises_unavailable_error(
        self, notifier: Notifier, delivered_ids: DeliveredIds | None
    ) -> None:
        self.make_unavailable(notifier)
        with pytest.raises(UnavailableError):
            notifier.send(_notification("N-1", "key-1"), _devices(3))
        if delivered_ids is not None:
            assert list(delivered_ids()) == []

    def test_a_notification_that_failed_is_delivered_after_the_outage(
        self, notifier: Notifier, delivered_ids: DeliveredIds | None
    ) -> None:
        notification = _notification("N-1", "key-1")
        devices = _devices(4)
        self.make_unavailable(notifier)
        with pytest.raises(UnavailableError):
            notifier.send(notification, devices)
        self.make_available(notifier)
        report = notifier.send(notification, devices)
        assert (report.delivered, report.failed) == (4, 0)
        if delivered_ids is not None:
            assert list(delivered_ids()) == ["N-1"]
