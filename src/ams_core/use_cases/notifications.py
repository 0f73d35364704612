"""Delivering the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from ams_core.domain.errors import UnavailableError
from ams_core.ports.clock import Clock
from ams_core.ports.notifications import Notifier
from ams_core.ports.persistence import UnitOfWork


@dataclass(frozen=True, slots=True)
class DeliverNotificationsCommand:
    """Deliver up to ``limit`` pending notifications."""

    limit: int = 100


@dataclass(frozen=True, slots=True)
class DeliverNotificationsResult:
    """How many notifications were handed over, and whether the transport was down."""

    delivered: int
    transport_unavailable: bool


class DeliverNotifications:
    """The outbox relay: hand pending notifications to the notifier, oldest first.

    A notification is marked delivered only after the notifier accepted it, so a crash in
    between re-sends it (at least once; notifiers drop repeats by idempotency key). A
    transport outage stops the run and leaves the rest pending.
    """

    def __init__(self, uow: UnitOfWork, notifier: Notifier, clock: Clock) -> None:
        self._uow = uow
        self._notifier = notifier
        self._clock = clock

    def __call__(self, command: DeliverNotificationsCommand) -> DeliverNotificationsResult:
        """Run one relay pass."""
        with self._uow.for_platform() as uow:
            pending = list(uow.outbox.pending(command.limit))
        delivered = 0
        for notification in pending:
            try:
                report = self._notifier.send(notification)
            except UnavailableError:
                return DeliverNotificationsResult(delivered, transport_unavailable=True)
            with self._uow.for_platform() as uow:
                uow.outbox.mark_delivered(notification.id, self._clock.now(), report)
                uow.commit()
            delivered += 1
        return DeliverNotificationsResult(delivered, transport_unavailable=False)
