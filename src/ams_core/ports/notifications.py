"""Delivering notifications (push, e-mail, log)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Protocol

from ams_core.domain.accounts import PushToken
from ams_core.domain.notifications import DeliveryReport, Notification


class Notifier(Protocol):
    """Hands a notification to a transport, for a given set of devices.

    ``send`` hands ``notification`` to every device in ``devices``:

    * a token listed more than once counts once, and
      ``report.delivered + report.failed`` equals the number of distinct tokens (an empty
      ``devices`` reports 0 delivered and 0 failed);
    * delivery is at least once: the same notification may be handed over again after a
      crash, so a notifier drops a notification whose ``idempotency_key`` it has already
      delivered in this process and reports it delivered again. Pushes also carry the key
      (as the collapse id / tag), so a repeat sent by another process replaces the first on
      the phone instead of showing twice;
    * a transport outage in which nothing at all could be delivered raises
      :class:`~ams_core.domain.errors.UnavailableError` (the outbox keeps the notification
      and tries again later);
    * devices that still fail after the notifier's own retries of transient errors are
      counted in ``failed``;
    * ``report.dead_tokens`` lists the tokens the transport says are unregistered or invalid
      (counted in ``failed``); the caller deletes them.
    """

    @abstractmethod
    def send(self, notification: Notification, devices: Sequence[PushToken]) -> DeliveryReport: ...
