"""Bulk inserts as column arrays on PostgreSQL: values alike in every row go as one scalar,
and every row still lands with every value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    AttendanceMark,
    AttendanceStatus,
    AuditEntry,
    DeviceId,
    MarkSource,
)
from tests.sql.conftest import PostgresDatabase
from tests.sql.helpers import monday_class

pytestmark = pytest.mark.postgres

AT = datetime(2027, 1, 4, 4, 0, tzinfo=UTC)


def test_identical_audit_entries_stay_as_many_rows(pg: PostgresDatabase) -> None:
    college, session = monday_class(pg.app)
    entry = AuditEntry(
        college.id,
        session.id,
        college.students[0].id,
        "t@x.edu",
        AT,
        None,
        AttendanceStatus.ABSENT,
        "same",
    )
    with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
        uow.audit.add_many([entry, entry, entry])
        uow.commit()
    with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
        assert list(uow.audit.list_for_session(session.id)) == [entry] * 3


def test_marks_alike_but_for_the_student_and_marks_that_differ_keep_every_value(
    pg: PostgresDatabase,
) -> None:
    college, session = monday_class(pg.app)
    alike = [
        AttendanceMark(
            college.id,
            session.id,
            s.id,
            AttendanceStatus.ABSENT,
            AT,
            "t@x.edu",
            MarkSource.COMPLETION,
        )
        for s in college.students[:3]
    ]
    differing = AttendanceMark(
        college.id,
        session.id,
        college.students[3].id,
        AttendanceStatus.PRESENT,
        AT.replace(minute=5),
        college.students[3].email,
        MarkSource.CHECK_IN,
        device_id=DeviceId("d-3"),
    )
    single = AttendanceMark(
        college.id,
        session.id,
        college.students[4].id,
        AttendanceStatus.LATE,
        AT,
        "t@x.edu",
        MarkSource.MANUAL,
    )
    with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
        assert list(uow.marks.add_missing(alike)) == alike
        assert list(uow.marks.add_missing([*alike[:1], differing])) == [differing]
        assert list(uow.marks.add_missing([single])) == [single]
        uow.commit()
    with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
        stored = sorted(uow.marks.list_for_session(session.id), key=lambda m: m.student_id)
    assert stored == sorted([*alike, differing, single], key=lambda m: m.student_id)
