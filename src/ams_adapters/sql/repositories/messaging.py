"""What the system records and sends: the attendance audit trail, security events, push
tokens and the notification outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.sql.expression import ColumnElement

from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.repositories._base import (
    INSTITUTION_ID,
    SqlRepository,
    insert_from_arrays,
    one_of,
    prebuilt,
)
from ams_adapters.sql.repositories.sessions import SESSIONS
from ams_core.domain import (
    AuditEntry,
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
    digest_token,
)
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

AUDIT_ENTRIES = t.audit_entries.c
_AUDIT_ARRAY_TYPES = {"at": "timestamptz[]"}


class SqlAuditRepository(SqlRepository, AuditRepository):
    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        rows = self._owned_rows(entries, m.audit_row)
        if not rows or not self._transaction.is_postgres:
            self._bulk_insert(t.audit_entries, rows, "audit entry")
            return
        if len(rows) == 1:  # a completion's entry: nothing is read back, so it can wait
            columns = tuple(rows[0])
            one = prebuilt(
                ("attendance_audit", "one", *columns),
                lambda: insert(t.audit_entries).values({c: bindparam(f"v_{c}") for c in columns}),
            )
            params = {f"v_{c}": v for c, v in rows[0].items()}
            self._transaction.execute_later(one, params, kind="audit entry")
            return
        # one statement of column arrays, as for marks: a completion's absences write their
        # entries in one round trip, where executemany sends a statement per entry
        stmt, params = insert_from_arrays(
            "attendance_audit", tuple(rows[0]), _AUDIT_ARRAY_TYPES, rows
        )
        self._transaction.execute(stmt, params, kind="audit entry")

    def list_for_session(self, session_id: SessionId) -> Sequence[AuditEntry]:
        rows = (
            self._transaction.execute(
                select(t.audit_entries)
                .where(
                    AUDIT_ENTRIES.institution_id == self._institution_id(),
                    AUDIT_ENTRIES.session_id == session_id,
                )
                .order_by(AUDIT_ENTRIES.id)
            )
            .mappings()
            .all()
        )
        return [m.audit_from(r) for r in rows]

    def page_for_session(
        self, session_id: SessionId, limit: int, offset: int = 0
    ) -> Slice[AuditEntry]:
        return self._page("session", {"key": session_id}, limit, offset)

    def page_for_student(
        self,
        student_id: StudentId,
        limit: int,
        offset: int = 0,
        teacher: FacultyId | None = None,
    ) -> Slice[AuditEntry]:
        if teacher is None:
            return self._page("student", {"key": student_id}, limit, offset)
        return self._page(
            "student_of_teacher", {"key": student_id, "teacher": teacher}, limit, offset
        )

    def _page(self, by: str, params: dict[str, Any], limit: int, offset: int) -> Slice[AuditEntry]:
        """Entries of one session or one student (of one teacher's sessions), newest
        written first: by the identity column, descending."""

        def source_and_conditions() -> tuple[Any, list[ColumnElement[bool]]]:
            if by == "session":
                return t.audit_entries, [
                    AUDIT_ENTRIES.institution_id == INSTITUTION_ID,
                    AUDIT_ENTRIES.session_id == bindparam("key"),
                ]
            conditions = [
                AUDIT_ENTRIES.institution_id == INSTITUTION_ID,
                AUDIT_ENTRIES.student_id == bindparam("key"),
            ]
            if by == "student":
                return t.audit_entries, conditions
            joined = t.audit_entries.join(
                t.sessions,
                and_(
                    SESSIONS.institution_id == AUDIT_ENTRIES.institution_id,
                    SESSIONS.id == AUDIT_ENTRIES.session_id,
                ),
            )
            return joined, [*conditions, SESSIONS.teacher_id == bindparam("teacher")]

        def build_count() -> Any:
            source, conditions = source_and_conditions()
            return select(func.count()).select_from(source).where(*conditions)

        def build_rows() -> Any:
            source, conditions = source_and_conditions()
            return (
                select(t.audit_entries)
                .select_from(source)
                .where(*conditions)
                .order_by(AUDIT_ENTRIES.id.desc())
                .limit(bindparam("limit", type_=Integer()))
                .offset(bindparam("offset", type_=Integer()))
            )

        values = {"iid": self._institution_id(), **params}
        count = prebuilt(("attendance_audit", "count", by), build_count)
        total = int(self._transaction.execute(count, values).scalar_one())
        if offset >= total:
            return Slice((), total)
        rows_statement = prebuilt(("attendance_audit", "page", by), build_rows)
        rows = (
            self._transaction.execute(rows_statement, {**values, "limit": limit, "offset": offset})
            .mappings()
            .all()
        )
        return Slice(tuple(m.audit_from(r) for r in rows), total)


SECURITY_EVENTS = t.security_events.c


class SqlSecurityEventRepository(SqlRepository, SecurityEventRepository):
    def add(self, event: SecurityEvent) -> None:
        self._check_owned(event)
        self._transaction.execute(
            t.security_events.insert().values(m.event_row(event)), kind="event"
        )

    def list(self, since: datetime | None = None, limit: int = 100) -> Sequence[SecurityEvent]:
        stmt = select(t.security_events).where(
            SECURITY_EVENTS.institution_id == self._institution_id()
        )
        if since is not None:
            stmt = stmt.where(SECURITY_EVENTS.at >= since)
        newest_first = stmt.order_by(SECURITY_EVENTS.at.desc(), SECURITY_EVENTS.id.desc())
        rows = self._transaction.execute(newest_first.limit(limit)).mappings().all()
        return [m.event_from(r) for r in rows]

    def page(
        self, filters: SecurityEventFilter, limit: int, offset: int = 0
    ) -> Slice[SecurityEvent]:
        given = {
            name: value
            for name, value in (
                ("kind", filters.kind.value if filters.kind is not None else None),
                ("student", filters.student_id),
                ("session", filters.session_id),
                ("since", filters.since),
            )
            if value is not None
        }
        # one prebuilt statement per combination of filters given: no "(:x IS NULL OR ...)",
        # so PostgreSQL can use the (institution, student, at) and (institution, at) indexes
        by = tuple(sorted(given))

        def conditions() -> list[ColumnElement[bool]]:
            found = [SECURITY_EVENTS.institution_id == INSTITUTION_ID]
            if "kind" in given:
                found.append(SECURITY_EVENTS.kind == bindparam("kind"))
            if "student" in given:
                found.append(SECURITY_EVENTS.student_id == bindparam("student"))
            if "session" in given:
                found.append(SECURITY_EVENTS.session_id == bindparam("session"))
            if "since" in given:
                found.append(SECURITY_EVENTS.at >= bindparam("since"))
            return found

        def build_count() -> Any:
            return select(func.count()).select_from(t.security_events).where(*conditions())

        def build_rows() -> Any:
            return (
                select(t.security_events)
                .where(*conditions())
                .order_by(SECURITY_EVENTS.at.desc(), SECURITY_EVENTS.id.desc())
                .limit(bindparam("limit", type_=Integer()))
                .offset(bindparam("offset", type_=Integer()))
            )

        values = {"iid": self._institution_id(), **given}
        count = prebuilt(("security_events", "count", *by), build_count)
        total = int(self._transaction.execute(count, values).scalar_one())
        if offset >= total:
            return Slice((), total)
        rows_statement = prebuilt(("security_events", "page", *by), build_rows)
        rows = (
            self._transaction.execute(rows_statement, {**values, "limit": limit, "offset": offset})
            .mappings()
            .all()
        )
        return Slice(tuple(m.event_from(r) for r in rows), total)


PUSH_TOKENS = t.push_tokens.c
#: the columns a token registered again overwrites
_PUSH_FIELDS = ("token", "platform", "owner_email", "registered_at", "student_id", "faculty_id")


class SqlPushTokenRepository(SqlRepository, PushTokenRepository):
    def put(self, token: PushToken) -> None:
        self._check_owned(token)

        def build() -> Any:
            stmt = self._insert(t.push_tokens)
            return stmt.on_conflict_do_update(
                index_elements=["institution_id", "token_digest"],
                set_={c: stmt.excluded[c] for c in _PUSH_FIELDS},
            )

        stmt = prebuilt(("push_tokens", "put", self._dialect), build)
        self._transaction.execute(stmt, m.push_token_row(token), kind="push token")

    def remove(self, token: str) -> bool:
        stmt = prebuilt(
            ("push_tokens", "remove"),
            lambda: delete(t.push_tokens).where(
                PUSH_TOKENS.institution_id == INSTITUTION_ID,
                PUSH_TOKENS.token_digest == bindparam("digest"),
            ),
        )
        params = {"iid": self._institution_id(), "digest": digest_token(token)}
        result = self._transaction.execute(stmt, params)
        return bool(result.rowcount > 0)

    def _of(self, column: str, owners: Iterable[str]) -> Sequence[PushToken]:
        ids = sorted(set(owners))
        if not ids:
            return []
        stmt = prebuilt(
            ("push_tokens", "of", column, self._dialect),
            lambda: (
                select(t.push_tokens)
                .where(
                    PUSH_TOKENS.institution_id == INSTITUTION_ID,
                    one_of(PUSH_TOKENS[column], self._dialect),
                )
                .order_by(PUSH_TOKENS.token)
            ),
        )
        params = {"iid": self._institution_id(), "ids": ids}
        rows = self._transaction.execute(stmt, params).mappings().all()
        return [m.push_token_from(r) for r in rows]

    def for_students(self, student_ids: Iterable[StudentId]) -> Sequence[PushToken]:
        return self._of("student_id", student_ids)

    def for_faculty(self, faculty_ids: Iterable[FacultyId]) -> Sequence[PushToken]:
        return self._of("faculty_id", faculty_ids)


OUTBOX = t.outbox.c

#: "the notification's recipients hold this (kind, id) pair", per backend (by is_postgres)
_RECIPIENT_IN_OUTBOX = {
    True: text(
        "EXISTS (SELECT 1 FROM jsonb_array_elements(outbox.recipients) AS r(v) "
        "WHERE r.v ->> 0 = :r_kind AND r.v ->> 1 = :r_id)"
    ),
    False: text(
        "EXISTS (SELECT 1 FROM json_each(outbox.recipients) AS r "
        "WHERE json_extract(r.value, '$[0]') = :r_kind "
        "AND json_extract(r.value, '$[1]') = :r_id)"
    ),
}


class SqlOutboxRepository(SqlRepository, OutboxRepository):
    def _visible(self) -> ColumnElement[bool]:
        if self._transaction.is_platform():
            return true()
        return OUTBOX.institution_id == self._institution_id()

    def add(self, notification: Notification) -> None:
        if not self._transaction.is_platform():
            self._check_owned(notification)
        stmt = (
            self._insert(t.outbox)
            .values(m.notification_row(notification))
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        self._transaction.execute(stmt, kind="notification")

    def pending(self, limit: int = 100) -> Sequence[Notification]:
        rows = (
            self._transaction.execute(
                select(t.outbox)
                .where(OUTBOX.delivered_at.is_(None), self._visible())
                .order_by(OUTBOX.created_at, OUTBOX.sequence)
                .limit(limit)
            )
            .mappings()
            .all()
        )
        return [m.notification_from(r) for r in rows]

    def mark_delivered(
        self, notification_id: NotificationId, at: datetime, report: DeliveryReport
    ) -> None:
        result = self._transaction.execute(
            update(t.outbox)
            .where(OUTBOX.id == notification_id, self._visible())
            .values(delivered_at=at, delivered=report.delivered, failed=report.failed)
        )
        if result.rowcount == 0:
            raise NotFoundError("notification", notification_id)

    def split(self, notification_id: NotificationId, parts: int) -> int:
        if not 2 <= parts <= MAX_PARTS:
            raise ValueError(f"parts must be in [2, {MAX_PARTS}], got {parts}")
        self._transaction.execute(
            update(t.outbox)
            .where(
                OUTBOX.id == notification_id,
                OUTBOX.parts.is_(None),
                OUTBOX.delivered_at.is_(None),
                self._visible(),
            )
            .values(parts=parts)
        )
        row = self._transaction.execute(
            select(OUTBOX.parts).where(OUTBOX.id == notification_id, self._visible())
        ).first()
        if row is None:
            raise NotFoundError("notification", notification_id)
        return int(row[0] or 0)

    def record_part(
        self, notification_id: NotificationId, part: int, at: datetime, report: DeliveryReport
    ) -> bool:
        if not 0 <= part < MAX_PARTS:
            return False
        bit = 1 << part
        done = OUTBOX.parts_done.op("|")(bit)
        # one statement: concurrent parts serialise on the row, each adds to what the one
        # before it left (PostgreSQL re-reads the row after waiting for its lock)
        result = self._transaction.execute(
            update(t.outbox)
            .where(
                OUTBOX.id == notification_id,
                OUTBOX.delivered_at.is_(None),
                OUTBOX.parts > part,
                OUTBOX.parts_done.op("&")(bit) == 0,
                self._visible(),
            )
            .values(
                parts_done=done,
                delivered=func.coalesce(OUTBOX.delivered, 0) + report.delivered,
                failed=func.coalesce(OUTBOX.failed, 0) + report.failed,
                delivered_at=case(
                    (
                        done == literal(1, BigInteger).op("<<")(OUTBOX.parts) - 1,
                        literal(at, OUTBOX.delivered_at.type),
                    ),
                    else_=OUTBOX.delivered_at,
                ),
            )
        )
        return bool(result.rowcount)

    def history(
        self, kind: str, recipient: Recipient | None = None, limit: int = 50
    ) -> Sequence[SentNotification]:
        stmt = select(t.outbox).where(OUTBOX.kind == kind, self._visible())
        if recipient is not None:
            stmt = stmt.where(
                _RECIPIENT_IN_OUTBOX[self._transaction.is_postgres].bindparams(
                    r_kind=recipient.kind.value, r_id=recipient.id
                )
            )
        stmt = stmt.order_by(OUTBOX.created_at.desc(), OUTBOX.sequence.desc()).limit(limit)
        rows = self._transaction.execute(stmt).mappings().all()
        return [m.sent_from(r) for r in rows]

    def find(self, notification_id: NotificationId) -> SentNotification | None:
        stmt = select(t.outbox).where(OUTBOX.id == notification_id, self._visible())
        row = self._transaction.execute(stmt).mappings().first()
        return m.sent_from(row) if row is not None else None

    def due_for_relay(self, relayed_before: datetime, limit: int = 100) -> Sequence[Notification]:
        stmt = (
            select(t.outbox)
            .where(
                OUTBOX.delivered_at.is_(None),
                or_(OUTBOX.relayed_at.is_(None), OUTBOX.relayed_at < relayed_before),
                self._visible(),
            )
            .order_by(OUTBOX.created_at, OUTBOX.sequence)
            .limit(limit)
        )
        return [m.notification_from(r) for r in self._transaction.execute(stmt).mappings()]

    def mark_relayed(self, notification_ids: Sequence[NotificationId], at: datetime) -> None:
        if not notification_ids:
            return
        self._transaction.execute(
            update(t.outbox)
            .where(
                OUTBOX.id.in_(list(notification_ids)),
                OUTBOX.delivered_at.is_(None),
                self._visible(),
            )
            .values(relayed_at=at)
        )

    def purge_delivered(self, before: datetime) -> int:
        result = self._transaction.execute(
            delete(t.outbox).where(OUTBOX.delivered_at < before, self._visible())
        )
        return int(result.rowcount)

    def count_delivered_before(self, before: datetime) -> int:
        stmt = (
            select(func.count())
            .select_from(t.outbox)
            .where(OUTBOX.delivered_at < before, self._visible())
        )
        return int(self._transaction.execute(stmt).scalar_one())
