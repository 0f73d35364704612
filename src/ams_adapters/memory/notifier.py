"""Notifiers: one that records (tests) and one that logs (the embedded default)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from ams_core.domain import DeliveryReport, Notification, PushToken, UnavailableError
from ams_core.ports import Notifier

logger = logging.getLogger("ams.notifications")


def _distinct_tokens(devices: Sequence[PushToken]) -> tuple[str, ...]:
    """The tokens of ``devices``, each once, in their first order."""
    return tuple(dict.fromkeys(device.token for device in devices))


class RecordingNotifier(Notifier):
    """Keeps what it was given; repeats of an idempotency key are dropped.

    ``sent`` lists the notifications, ``deliveries`` the same with the distinct tokens each
    was handed to. Set ``unavailable = True`` to simulate a transport outage.
    """

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self.deliveries: list[tuple[Notification, tuple[str, ...]]] = []
        self.unavailable = False
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def send(self, notification: Notification, devices: Sequence[PushToken]) -> DeliveryReport:
        tokens = _distinct_tokens(devices)
        with self._lock:
            if self.unavailable:
                raise UnavailableError("the push transport is unavailable")
            if notification.idempotency_key not in self._keys:
                self._keys.add(notification.idempotency_key)
                self.sent.append(notification)
                self.deliveries.append((notification, tokens))
            return DeliveryReport(delivered=len(tokens))


class LoggingNotifier(Notifier):
    """Writes each notification to the log instead of pushing it (no services needed)."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def send(self, notification: Notification, devices: Sequence[PushToken]) -> DeliveryReport:
        tokens = _distinct_tokens(devices)
        with self._lock:
            repeat = notification.idempotency_key in self._keys
            self._keys.add(notification.idempotency_key)
        if not repeat:
            logger.info(
                "notification %s (%s) to %d device(s): %s",
                notification.id,
                notification.kind,
                len(tokens),
                notification.title,
            )
        return DeliveryReport(delivered=len(tokens))
