"""Delivering notifications (push, e-mail, log)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol

from ams_core.domain.notifications import DeliveryReport, Notification


class Notifier(Protocol):
    """Hands a notification to a transport.

    Delivery is at least once: the same notification may be handed over again after a
    crash, so a notifier drops a notification whose ``idempotency_key`` it has already
    delivered and reports it as delivered. A transport outage raises
    :class:`~ams_core.domain.errors.UnavailableError` (the outbox keeps the notification).
    """

    @abstractmethod
    def send(self, notification: Notification) -> DeliveryReport: ...
