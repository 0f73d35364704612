"""Writes of another institution's rows, which a tenant scope must refuse, and reads of
tenant-owned data, which the platform scope must refuse or find empty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, time, timedelta

from ams_core.domain import (
    AssignmentId,
    AttendanceStatus,
    ClassSession,
    CoverId,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Holiday,
    Institution,
    InstitutionId,
    Section,
    SectionId,
    SessionId,
    SignInId,
    SlotId,
    Student,
    StudentId,
    Subject,
    SubjectCode,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
)
from ams_core.ports import (
    SecurityEventFilter,
    UnitOfWork,
)
from ams_core.testing.builders import MONDAY, SmallCollege
from ams_core.testing.contracts.persistence._builders import (
    _FAR_FUTURE,
    _FAR_PAST,
    _GUEST,
    EVERYTHING,
    T0,
    _audit,
    _cover,
    _day,
    _event,
    _mark,
    _notification,
    _password,
    _push,
    _session,
    _sign_in,
)

# -- writes of another institution's rows, refused inside a tenant scope -------------------
_ForeignWrite = Callable[[UnitOfWork, SmallCollege], object]


def _foreign_writes() -> list[tuple[str, _ForeignWrite]]:
    """Writes, inside A's scope, of rows that belong to ``b`` (a populated college)."""
    replace = dataclasses.replace

    def student(b: SmallCollege, n: int) -> Student:
        return Student(StudentId(f"NX{n:04d}"), b.id, "X", f"nx{n:04d}@b.edu", b.section_a.id)

    def session(b: SmallCollege, sid: str) -> ClassSession:
        return _session(b, sid, b.alice_cs_a, _day(2), time(16))

    return [
        (
            "institutions.update",
            lambda u, b: u.institutions.update(replace(b.institution, name="X")),
        ),
        (
            "institutions.add",
            lambda u, b: u.institutions.add(
                Institution(InstitutionId("inst-x"), "X", "UTC", frozenset({"x.edu"}))
            ),
        ),
        ("sections.add", lambda u, b: u.sections.add(Section(SectionId("X"), b.id, 1, "X", "X"))),
        ("sections.update", lambda u, b: u.sections.update(replace(b.section_a, name="X"))),
        ("students.add", lambda u, b: u.students.add(student(b, 1))),
        ("students.add_many", lambda u, b: u.students.add_many([student(b, 2), student(b, 3)])),
        ("students.update", lambda u, b: u.students.update(replace(b.students[0], name="X"))),
        (
            "faculty.add",
            lambda u, b: u.faculty.add(Faculty(FacultyId("FX"), b.id, "X", "fx@b.edu", "X")),
        ),
        ("faculty.update", lambda u, b: u.faculty.update(replace(b.alice, name="X"))),
        ("subjects.add", lambda u, b: u.subjects.add(Subject(SubjectCode("X1"), b.id, "X", "X"))),
        ("subjects.update", lambda u, b: u.subjects.update(replace(b.cs101, name="X"))),
        (
            "assignments.add",
            lambda u, b: u.assignments.add(
                TeachingAssignment(
                    AssignmentId("AX"), b.id, b.alice.id, b.ma101.code, b.section_b.id
                )
            ),
        ),
        (
            "assignments.update",
            lambda u, b: u.assignments.update(replace(b.bob_cs_b, section_id=b.section_a.id)),
        ),
        (
            "slots.add",
            lambda u, b: u.slots.add(
                WeeklySlot(SlotId("SX"), b.id, b.alice_cs_a.id, 6, time(8), time(9))
            ),
        ),
        ("slots.update", lambda u, b: u.slots.update(replace(b.slots[0], venue="X"))),
        (
            "terms.add",
            lambda u, b: u.terms.add(
                Term(TermId("TX"), b.id, "X", date(2030, 1, 1), date(2030, 2, 1))
            ),
        ),
        ("terms.update", lambda u, b: u.terms.update(replace(b.term, name="X"))),
        ("holidays.add", lambda u, b: u.holidays.add(Holiday(b.id, date(2026, 12, 31), "X"))),
        ("sessions.add", lambda u, b: u.sessions.add(session(b, "S-X1"))),
        ("sessions.add_many", lambda u, b: u.sessions.add_many([session(b, "S-X2")])),
        (
            "sessions.update",
            lambda u, b: u.sessions.update(replace(session(b, "S-SHARED"), topic="X")),
        ),
        (
            "marks.insert_if_absent",
            lambda u, b: u.marks.insert_if_absent(_mark(b, "S-SHARED", b.students[3])),
        ),
        (
            "marks.add_missing",
            lambda u, b: u.marks.add_missing([_mark(b, "S-SHARED", b.students[3])]),
        ),
        (
            "marks.put_many",
            lambda u, b: u.marks.put_many(
                [_mark(b, "S-SHARED", b.students[0], AttendanceStatus.EXCUSED)]
            ),
        ),
        (
            "audit.add_many",
            lambda u, b: u.audit.add_many([_audit(b, "S-SHARED", b.students[0], actor="X")]),
        ),
        (
            "devices.add",
            lambda u, b: u.devices.add(
                DeviceBinding(b.id, b.students[3].id, DeviceId("device-x-0001"), T0)
            ),
        ),
        ("security_events.add", lambda u, b: u.security_events.add(_event(b, T0, actor="X"))),
        (
            "covers.add",
            lambda u, b: u.covers.add(
                _cover(b, "C-X", "S-B-OPEN", b.alice.id, T0 + timedelta(days=9))
            ),
        ),
        ("outbox.add", lambda u, b: u.outbox.add(_notification(b, "N-X", "key-x"))),
        (
            "sign_ins.add",
            lambda u, b: u.sign_ins.add(_sign_in(b, "SI-X", b.students[0].email)),
        ),
        (
            "sign_ins.update",
            lambda u, b: u.sign_ins.update(_sign_in(b, "SI-SHARED", b.students[0].email)),
        ),
        ("passwords.put", lambda u, b: u.passwords.put(_password(b, _GUEST, "hash-X"))),
        ("passwords.put new", lambda u, b: u.passwords.put(_password(b, "x@b.edu"))),
        (
            "push_tokens.put",
            lambda u, b: u.push_tokens.put(_push(b, "tok-SHARED", student=b.students[3])),
        ),
    ]


_FOREIGN_WRITES = _foreign_writes()

#: Reads of tenant-owned data; in the platform scope each must fail or find nothing.
_TENANT_READS: list[tuple[str, Callable[[UnitOfWork], object]]] = [
    ("sections.find", lambda u: u.sections.find(SectionId("E2-CSE-A"))),
    ("sections.list", lambda u: u.sections.list()),
    ("students.find", lambda u: u.students.find(StudentId("N210001"))),
    ("students.find_by_email", lambda u: u.students.find_by_email("n210001@a.edu")),
    ("students.list", lambda u: u.students.list()),
    ("faculty.list", lambda u: u.faculty.list()),
    ("subjects.list", lambda u: u.subjects.list()),
    ("assignments.list", lambda u: u.assignments.list()),
    ("slots.list", lambda u: u.slots.list()),
    ("terms.list", lambda u: u.terms.list()),
    ("holidays.list", lambda u: u.holidays.list()),
    ("sessions.find", lambda u: u.sessions.find(SessionId("S-SHARED"))),
    ("sessions.list_open", lambda u: u.sessions.list_open()),
    ("sessions.list_between", lambda u: u.sessions.list_between(EVERYTHING)),
    ("sessions.subject_counts", lambda u: u.sessions.subject_counts(EVERYTHING, MONDAY)),
    ("marks.list_for_session", lambda u: u.marks.list_for_session(SessionId("S-SHARED"))),
    ("marks.tallies", lambda u: u.marks.tallies(EVERYTHING)),
    ("audit.list_for_session", lambda u: u.audit.list_for_session(SessionId("S-SHARED"))),
    ("audit.page_for_session", lambda u: u.audit.page_for_session(SessionId("S-SHARED"), 10)),
    ("audit.page_for_student", lambda u: u.audit.page_for_student(StudentId("N210001"), 10)),
    (
        "audit.page_for_student of a teacher",
        lambda u: u.audit.page_for_student(StudentId("N210001"), 10, teacher=FacultyId("F001")),
    ),
    ("devices.for_device", lambda u: u.devices.for_device(DeviceId("device-A-0001"))),
    (
        "code_failures.failures",
        lambda u: u.code_failures.failures(SessionId("S-SHARED"), StudentId("N210001")),
    ),
    ("security_events.list", lambda u: u.security_events.list()),
    ("security_events.page", lambda u: u.security_events.page(SecurityEventFilter(), 10)),
    ("marks.tally", lambda u: u.marks.tally(SessionId("S-SHARED"))),
    ("covers.find", lambda u: u.covers.find(CoverId("C-SHARED"))),
    ("covers.for_session", lambda u: u.covers.for_session(SessionId("S-SHARED"))),
    (
        "covers.list_for_substitute",
        lambda u: u.covers.list_for_substitute(FacultyId("F002"), _FAR_PAST, _FAR_FUTURE),
    ),
    ("sign_ins.find", lambda u: u.sign_ins.find(SignInId("SI-SHARED"))),
    ("sign_ins.revoked_since", lambda u: u.sign_ins.revoked_since(_FAR_PAST)),
    ("passwords.find", lambda u: u.passwords.find(_GUEST)),
    ("push_tokens.for_students", lambda u: u.push_tokens.for_students([StudentId("N210001")])),
    ("push_tokens.for_faculty", lambda u: u.push_tokens.for_faculty([FacultyId("FA")])),
]
