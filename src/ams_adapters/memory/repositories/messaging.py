"""The outbox, push tokens, security events and the audit trail."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ams_adapters.memory.repositories._base import MemoryRepository, page_of
from ams_adapters.memory.store import OutboxEntry
from ams_core.domain import (
    AuditEntry,
    ConflictError,
    DeliveryReport,
    FacultyId,
    NotFoundError,
    Notification,
    NotificationId,
    PushToken,
    Recipient,
    SecurityEvent,
    SessionId,
    StudentId,
)
from ams_core.domain.people import fold_email
from ams_core.ports import (
    MAX_PARTS,
    AuditRepository,
    OutboxRepository,
    PushTokenRepository,
    SecurityEventFilter,
    SecurityEventRepository,
    SentNotification,
    Slice,
)


def _matches_filter(event: SecurityEvent, filters: SecurityEventFilter) -> bool:
    return (
        (filters.kind is None or event.kind is filters.kind)
        and (filters.student_id is None or event.student_id == filters.student_id)
        and (filters.session_id is None or event.session_id == filters.session_id)
        and (filters.since is None or event.at >= filters.since)
    )


def _sent(entry: OutboxEntry) -> SentNotification:
    report = entry.report
    return SentNotification(
        entry.notification,
        entry.delivered_at,
        report.delivered if report else 0,
        report.failed if report else 0,
        entry.parts,
        entry.parts_done,
    )


class InMemoryOutboxRepository(MemoryRepository, OutboxRepository):
    def _visible(self, entry: OutboxEntry) -> bool:
        return self._tx.is_platform() or (entry.notification.institution_id == self._tx.tenant())

    def add(self, notification: Notification) -> None:
        store, log = self._store, self._tx.active_log()
        if not self._tx.is_platform():
            self._own(notification)
        if notification.idempotency_key in store.outbox_keys:
            return
        if notification.id in store.outbox:
            raise ConflictError(
                f"notification {notification.id} already exists", code="notification_exists"
            )
        entry = OutboxEntry(notification, store.next_sequence())
        log.set(store.outbox, notification.id, entry)
        log.set(store.outbox_keys, notification.idempotency_key, notification.id)

    def pending(self, limit: int = 100) -> Sequence[Notification]:
        self._tx.active_log()
        entries = sorted(
            (e for e in self._store.outbox.values() if e.delivered_at is None and self._visible(e)),
            key=lambda e: (e.notification.created_at, e.sequence),
        )
        return [e.notification for e in entries[:limit]]

    def mark_delivered(
        self, notification_id: NotificationId, at: datetime, report: DeliveryReport
    ) -> None:
        log = self._tx.active_log()
        entry = self._store.outbox.get(notification_id)
        if entry is None or not self._visible(entry):
            raise NotFoundError("notification", notification_id)
        log.set(
            self._store.outbox,
            notification_id,
            replace(entry, delivered_at=at, report=report),
        )

    def split(self, notification_id: NotificationId, parts: int) -> int:
        if not 2 <= parts <= MAX_PARTS:
            raise ValueError(f"parts must be in [2, {MAX_PARTS}], got {parts}")
        log = self._tx.active_log()
        entry = self._store.outbox.get(notification_id)
        if entry is None or not self._visible(entry):
            raise NotFoundError("notification", notification_id)
        if entry.parts is not None:
            return entry.parts
        if entry.delivered_at is not None:
            return 0
        log.set(self._store.outbox, notification_id, replace(entry, parts=parts))
        return parts

    def record_part(
        self, notification_id: NotificationId, part: int, at: datetime, report: DeliveryReport
    ) -> bool:
        log = self._tx.active_log()
        entry = self._store.outbox.get(notification_id)
        if (
            entry is None
            or not self._visible(entry)
            or entry.parts is None
            or entry.delivered_at is not None
            or part in entry.parts_done
            or not 0 <= part < entry.parts
        ):
            return False
        done = entry.parts_done | {part}
        before = entry.report or DeliveryReport(0)
        total = DeliveryReport(before.delivered + report.delivered, before.failed + report.failed)
        finished = len(done) == entry.parts
        log.set(
            self._store.outbox,
            notification_id,
            replace(entry, parts_done=done, report=total, delivered_at=at if finished else None),
        )
        return True

    def history(
        self, kind: str, recipient: Recipient | None = None, limit: int = 50
    ) -> Sequence[SentNotification]:
        self._tx.active_log()
        entries = sorted(
            (
                e
                for e in self._store.outbox.values()
                if e.notification.kind == kind
                and (recipient is None or recipient in e.notification.recipients)
                and self._visible(e)
            ),
            key=lambda e: (e.notification.created_at, e.sequence),
            reverse=True,
        )
        return [_sent(e) for e in entries[:limit]]

    def find(self, notification_id: NotificationId) -> SentNotification | None:
        self._tx.active_log()
        entry = self._store.outbox.get(notification_id)
        return _sent(entry) if entry is not None and self._visible(entry) else None

    def due_for_relay(self, relayed_before: datetime, limit: int = 100) -> Sequence[Notification]:
        self._tx.active_log()
        entries = sorted(
            (
                e
                for e in self._store.outbox.values()
                if e.delivered_at is None
                and (e.relayed_at is None or e.relayed_at < relayed_before)
                and self._visible(e)
            ),
            key=lambda e: (e.notification.created_at, e.sequence),
        )
        return [e.notification for e in entries[:limit]]

    def mark_relayed(self, notification_ids: Sequence[NotificationId], at: datetime) -> None:
        log = self._tx.active_log()
        for notification_id in notification_ids:
            entry = self._store.outbox.get(notification_id)
            if entry is not None and entry.delivered_at is None and self._visible(entry):
                log.set(self._store.outbox, notification_id, replace(entry, relayed_at=at))

    def _delivered_before(self, before: datetime) -> list[OutboxEntry]:
        return [
            e
            for e in self._store.outbox.values()
            if e.delivered_at is not None and e.delivered_at < before and self._visible(e)
        ]

    def purge_delivered(self, before: datetime) -> int:
        log = self._tx.active_log()
        gone = self._delivered_before(before)
        for entry in gone:
            log.delete(self._store.outbox, entry.notification.id)
            log.delete(self._store.outbox_keys, entry.notification.idempotency_key)
        return len(gone)

    def count_delivered_before(self, before: datetime) -> int:
        self._tx.active_log()
        return len(self._delivered_before(before))

    def delivered(self) -> Sequence[OutboxEntry]:
        """Delivered entries (for tests and the demo's log)."""
        self._tx.active_log()
        return [e for e in self._store.outbox.values() if e.delivered_at and self._visible(e)]


class InMemoryPushTokenRepository(MemoryRepository, PushTokenRepository):
    """Push registrations keyed by token, indexed by student and by teacher."""

    def _unindex(self, token: str) -> PushToken | None:
        data, log = self._data, self._log
        old = data.push_tokens.get(token)
        if old is not None:
            if old.student_id is not None:
                log.discard(data.push_tokens_by_student.get(old.student_id, set()), token)
            if old.faculty_id is not None:
                log.discard(data.push_tokens_by_faculty.get(old.faculty_id, set()), token)
        return old

    def put(self, token: PushToken) -> None:
        self._own(token)
        data, log = self._data, self._log
        if token.student_id is not None:
            self._require(data.students, token.student_id, "student")
        if token.faculty_id is not None:
            self._require(data.faculty, token.faculty_id, "faculty")
        self._unindex(token.token)
        new = dataclasses.replace(token, owner_email=fold_email(token.owner_email))
        log.set(data.push_tokens, new.token, new)
        if new.student_id is not None:
            log.add(data.push_tokens_by_student.setdefault(new.student_id, set()), new.token)
        if new.faculty_id is not None:
            log.add(data.push_tokens_by_faculty.setdefault(new.faculty_id, set()), new.token)

    def remove(self, token: str) -> bool:
        if self._unindex(token) is None:
            return False
        self._log.delete(self._data.push_tokens, token)
        return True

    def _of(self, index: Mapping[Any, set[str]], owners: Iterable[Any]) -> Sequence[PushToken]:
        tokens = {token for owner in set(owners) for token in index.get(owner, ())}
        return [self._data.push_tokens[token] for token in sorted(tokens)]

    def for_students(self, student_ids: Iterable[StudentId]) -> Sequence[PushToken]:
        return self._of(self._data.push_tokens_by_student, student_ids)

    def for_faculty(self, faculty_ids: Iterable[FacultyId]) -> Sequence[PushToken]:
        return self._of(self._data.push_tokens_by_faculty, faculty_ids)


class InMemorySecurityEventRepository(MemoryRepository, SecurityEventRepository):
    def add(self, event: SecurityEvent) -> None:
        self._own(event)
        self._log.set(self._data.events, self._store.next_sequence(), event)

    def list(self, since: datetime | None = None, limit: int = 100) -> Sequence[SecurityEvent]:
        return self.page(SecurityEventFilter(since=since), limit).items

    def page(
        self, filters: SecurityEventFilter, limit: int, offset: int = 0
    ) -> Slice[SecurityEvent]:
        events = sorted(self._data.events.items(), key=lambda i: (i[1].at, i[0]), reverse=True)
        matching = [e for _, e in events if _matches_filter(e, filters)]
        return page_of(matching, limit, offset)


class InMemoryAuditRepository(MemoryRepository, AuditRepository):
    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        data, log = self._data, self._log
        for entry in entries:
            self._own(entry)
            sequence = self._store.next_sequence()
            log.set(data.audit, sequence, entry)
            log.append(data.audit_by_session.setdefault(entry.session_id, []), sequence)
            if entry.student_id is not None:  # a completion's entry is the session's alone
                log.append(data.audit_by_student.setdefault(entry.student_id, []), sequence)

    def list_for_session(self, session_id: SessionId) -> Sequence[AuditEntry]:
        data = self._data
        return [data.audit[i] for i in data.audit_by_session.get(session_id, ())]

    def page_for_session(
        self, session_id: SessionId, limit: int, offset: int = 0
    ) -> Slice[AuditEntry]:
        data = self._data
        newest_first = reversed(data.audit_by_session.get(session_id, ()))
        return page_of([data.audit[i] for i in newest_first], limit, offset)

    def page_for_student(
        self,
        student_id: StudentId,
        limit: int,
        offset: int = 0,
        teacher: FacultyId | None = None,
    ) -> Slice[AuditEntry]:
        data = self._data
        entries = (data.audit[i] for i in reversed(data.audit_by_student.get(student_id, ())))
        if teacher is not None:
            taught = data.sessions_by_teacher.get(teacher, set())
            entries = (e for e in entries if e.session_id in taught)
        return page_of(list(entries), limit, offset)
