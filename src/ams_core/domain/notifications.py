"""Notifications: what to tell whom, written to the outbox in the causing transaction."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ams_core.domain.ids import InstitutionId, NotificationId


class RecipientKind(enum.Enum):
    """Who a notification is addressed to."""

    STUDENT = "student"
    FACULTY = "faculty"
    SECTION = "section"


@dataclass(frozen=True, slots=True)
class Recipient:
    """One addressee: a student, a teacher or a whole section."""

    kind: RecipientKind
    id: str


@dataclass(frozen=True, slots=True)
class Notification:
    """A message to deliver at least once; ``idempotency_key`` lets transports drop repeats."""

    id: NotificationId
    institution_id: InstitutionId
    kind: str
    title: str
    body: str
    recipients: tuple[Recipient, ...]
    idempotency_key: str
    created_at: datetime
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What a notifier did with one notification.

    ``delivered + failed`` counts devices (distinct push tokens): ``delivered`` took the
    notification, ``failed`` did not (after the notifier's own retries). ``dead_tokens`` are
    the tokens the transport says will never work again (unregistered or invalid); they are
    among the failed ones, and the caller deletes them.
    """

    delivered: int
    failed: int = 0
    dead_tokens: tuple[str, ...] = ()
