"""FcmNotifier against the Notifier contract, over the fake FCM service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from ams_adapters.fcm import FcmNotifier
from ams_core.domain import DeliveryReport, Notification, NotificationId, PushToken
from ams_core.ports import Notifier
from ams_core.testing.contracts import DeliveredIds, NotifierContract
from tests.adapters.fcm.fake_fcm import FakeFcm


class ObservedFcmNotifier(FcmNotifier):
    """An FcmNotifier that notes which notifications reached a device of the fake."""

    def __init__(self, app: Any, fake: FakeFcm) -> None:
        super().__init__(app, sleep=fake.sleep)
        self.fake = fake
        self.delivered_ids: list[NotificationId] = []

    def send(self, notification: Notification, devices: Sequence[PushToken]) -> DeliveryReport:
        before = self.fake.successes
        try:
            return super().send(notification, devices)
        finally:
            if self.fake.successes > before and notification.id not in self.delivered_ids:
                self.delivered_ids.append(notification.id)


class TestFcmNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self, app: Any, fake_fcm: FakeFcm) -> ObservedFcmNotifier:
        return ObservedFcmNotifier(app, fake_fcm)

    @pytest.fixture
    def delivered_ids(self, notifier: ObservedFcmNotifier) -> DeliveredIds:
        return lambda: notifier.delivered_ids

    def make_unavailable(self, notifier: Notifier) -> None:
        assert isinstance(notifier, ObservedFcmNotifier)
        notifier.fake.down = True

    def make_available(self, notifier: Notifier) -> None:
        assert isinstance(notifier, ObservedFcmNotifier)
        notifier.fake.down = False
