"""Notifiers: one that records (tests) and one that logs (the embedded default)."""

from __future__ import annotations

import logging
import threading

from ams_core.domain import DeliveryReport, Notification, UnavailableError
from ams_core.ports import Notifier

logger = logging.getLogger("ams.notifications")


class RecordingNotifier(Notifier):
    """Keeps what it was given in ``sent``; repeats of an idempotency key are dropped.

    Set ``unavailable = True`` to simulate a transport outage.
    """

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self.unavailable = False
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> DeliveryReport:
        with self._lock:
            if self.unavailable:
                raise UnavailableError("the push transport is unavailable")
            if notification.idempotency_key not in self._keys:
                self._keys.add(notification.idempotency_key)
                self.sent.append(notification)
            return DeliveryReport(delivered=len(notification.recipients))


class LoggingNotifier(Notifier):
    """Writes each notification to the log instead of pushing it (no services needed)."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> DeliveryReport:
        with self._lock:
            repeat = notification.idempotency_key in self._keys
            self._keys.add(notification.idempotency_key)
        if not repeat:
            logger.info(
                "notification %s (%s) to %d recipient(s): %s",
                notification.id,
                notification.kind,
                len(notification.recipients),
                notification.title,
            )
        return DeliveryReport(delivered=len(notification.recipients))
