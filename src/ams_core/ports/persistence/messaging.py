"""Persistence ports: the audit trail, security events, push tokens and the outbox.

The rules every adapter must honour are in :mod:`ams_core.ports.persistence`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from ams_core.domain.accounts import (
    PushToken,
)
from ams_core.domain.attendance import AuditEntry
from ams_core.domain.ids import (
    FacultyId,
    NotificationId,
    SessionId,
    StudentId,
)
from ams_core.domain.notifications import DeliveryReport, Notification, Recipient
from ams_core.domain.security import SecurityEvent, SecurityEventKind

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """Some consecutive items of a longer ordered list, and how long the whole list is.

    ``total`` counts every item the read matched, not only those in ``items``; an
    ``offset`` past the end gives no items and the same ``total``.
    """

    items: tuple[T, ...]
    total: int


class AuditRepository(Protocol):
    """The append-only audit trail of attendance changes.

    Pages (``page_for_session``, ``page_for_student``) come **newest first**: the reverse of
    the order the entries were written in, which also orders entries written together
    (one ``add_many``, one ``at``). ``limit`` is at least 1 and ``offset`` at least 0.
    """

    @abstractmethod
    def add_many(self, entries: Sequence[AuditEntry]) -> None: ...

    @abstractmethod
    def list_for_session(self, session_id: SessionId) -> Sequence[AuditEntry]:
        """Entries of a session in the order they were written."""

    @abstractmethod
    def page_for_session(
        self, session_id: SessionId, limit: int, offset: int = 0
    ) -> Slice[AuditEntry]:
        """Entries of a session, newest written first, ``limit`` of them after skipping
        ``offset``; ``total`` counts all of the session's entries.
        """

    @abstractmethod
    def page_for_student(
        self,
        student_id: StudentId,
        limit: int,
        offset: int = 0,
        teacher: FacultyId | None = None,
    ) -> Slice[AuditEntry]:
        """Entries about one student across all sessions, newest written first.

        With ``teacher``, only the entries of sessions whose teacher of record is
        ``teacher`` (as the sessions are stored now); ``total`` counts the entries that
        match. A student without entries (or unknown) gives an empty slice.
        """


@dataclass(frozen=True, slots=True)
class SecurityEventFilter:
    """Which security events to review: every field given must match (``None``: any).

    ``since`` keeps the events at or after that instant.
    """

    kind: SecurityEventKind | None = None
    student_id: StudentId | None = None
    session_id: SessionId | None = None
    since: datetime | None = None


class SecurityEventRepository(Protocol):
    """Suspicious events for review, newest ``at`` first (ties: last written first)."""

    @abstractmethod
    def add(self, event: SecurityEvent) -> None: ...

    @abstractmethod
    def list(self, since: datetime | None = None, limit: int = 100) -> Sequence[SecurityEvent]:
        """Events at or after ``since``, newest ``at`` first (ties: last written first)."""

    @abstractmethod
    def page(
        self, filters: SecurityEventFilter, limit: int, offset: int = 0
    ) -> Slice[SecurityEvent]:
        """Events matching ``filters`` in the order of :meth:`list`, ``limit`` of them
        (at least 1) after skipping ``offset``; ``total`` counts every match.
        """


class PushTokenRepository(Protocol):
    """Push registrations; a token belongs to whoever registered it last."""

    @abstractmethod
    def put(self, token: PushToken) -> None:
        """Store the token, replacing an earlier registration of the same token."""

    @abstractmethod
    def remove(self, token: str) -> bool: ...

    @abstractmethod
    def for_students(self, student_ids: Iterable[StudentId]) -> Sequence[PushToken]: ...

    @abstractmethod
    def for_faculty(self, faculty_ids: Iterable[FacultyId]) -> Sequence[PushToken]: ...


#: the most parts a notification is split into (each is one bit of a 64-bit integer)
MAX_PARTS = 62


@dataclass(frozen=True, slots=True)
class SentNotification:
    """A notification with what became of it (``delivered_at`` is ``None`` while pending).

    A notification delivered in parts (a large audience shared by several workers) has
    ``parts`` set; ``parts_done`` lists the parts (``0 .. parts - 1``) delivered so far,
    whose counts ``delivered`` and ``failed`` add up while it is pending.
    """

    notification: Notification
    delivered_at: datetime | None = None
    delivered: int = 0
    failed: int = 0
    parts: int | None = None
    parts_done: frozenset[int] = frozenset()


class OutboxRepository(Protocol):
    """Notifications waiting for delivery, written in the transaction that causes them."""

    @abstractmethod
    def add(self, notification: Notification) -> None:
        """Queue a notification; the same idempotency key twice is stored once."""

    @abstractmethod
    def pending(self, limit: int = 100) -> Sequence[Notification]:
        """Undelivered notifications, oldest ``created_at`` first (ties: first written first)."""

    @abstractmethod
    def mark_delivered(
        self, notification_id: NotificationId, at: datetime, report: DeliveryReport
    ) -> None: ...

    @abstractmethod
    def split(self, notification_id: NotificationId, parts: int) -> int:
        """Record that the pending notification goes out in ``parts`` parts (2 to
        :data:`MAX_PARTS`), unless it was split already; return its number of parts (0: it
        was delivered already, whole).

        Raises:
            NotFoundError: no such notification, or not visible.
        """

    @abstractmethod
    def record_part(
        self, notification_id: NotificationId, part: int, at: datetime, report: DeliveryReport
    ) -> bool:
        """Add the outcome of one part of a split, pending notification; the last part
        marks it delivered at ``at`` with the counts of all parts. A part already recorded,
        or a notification delivered or not split, changes nothing: returns ``False``.
        """

    @abstractmethod
    def history(
        self, kind: str, recipient: Recipient | None = None, limit: int = 50
    ) -> Sequence[SentNotification]:
        """Notifications of one kind (optionally to one recipient), newest first."""

    @abstractmethod
    def find(self, notification_id: NotificationId) -> SentNotification | None:
        """One notification with what became of it (``None``: unknown or not visible)."""

    @abstractmethod
    def due_for_relay(self, relayed_before: datetime, limit: int = 100) -> Sequence[Notification]:
        """Undelivered notifications never handed to the job queue, or last handed to it
        before ``relayed_before`` (a job lost or still failing), oldest ``created_at`` first
        (ties: first written first). Notifications relayed since are left out, so a stuck
        one never blocks those behind it.
        """

    @abstractmethod
    def mark_relayed(self, notification_ids: Sequence[NotificationId], at: datetime) -> None:
        """Record that these notifications were handed to the job queue at ``at`` (unknown
        or delivered ones are ignored).
        """

    @abstractmethod
    def purge_delivered(self, before: datetime) -> int:
        """Delete notifications delivered before ``before``; return how many went.
        Undelivered ones always stay.
        """

    @abstractmethod
    def count_delivered_before(self, before: datetime) -> int:
        """How many notifications :meth:`purge_delivered` would delete."""
