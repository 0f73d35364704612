"""Two populated tenants, and what each scope sees of them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import date, time, timedelta

import pytest

from ams_core.domain import (
    AmsError,
    AssignmentId,
    AssignmentSummary,
    AttendanceStatus,
    ClassSession,
    ConflictError,
    CoverId,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Holiday,
    NotificationId,
    PasswordPolicy,
    Section,
    SectionId,
    SessionCounts,
    SessionId,
    SessionStatus,
    SignInId,
    SignInMethod,
    SlotId,
    StatusTally,
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
    Slice,
    UnitOfWork,
    UnitOfWorkFactory,
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
    _domain,
    _event,
    _mark,
    _notification,
    _password,
    _push,
    _session,
    _sign_in,
)


# -- populating two tenants ------------------------------------------------------------------
def _tag(college: SmallCollege) -> str:
    return college.id.removeprefix("inst-").upper()


def _shared_status(tag: str) -> AttendanceStatus:
    """The status of tenant ``tag``'s marks in ``S-SHARED`` (each tenant its own)."""
    return AttendanceStatus.PRESENT if tag == "A" else AttendanceStatus.ABSENT


def _populate(uow_factory: UnitOfWorkFactory, college: SmallCollege) -> None:
    """Give a seeded college rows in every repository; ids ``*-<TAG>-*`` are its own.

    Both colleges also share every id of :func:`seed_small_college` and the session
    ``S-SHARED``, with different contents, so a leak between tenants shows.
    """
    tag, iid, domain = _tag(college), college.id, _domain(college)
    own_section = Section(SectionId(f"{tag}-ONLY"), iid, 1, "BIO", tag)
    own_student = Student(
        StudentId(f"N{tag}0001"), iid, f"Only {tag}", f"n{tag.lower()}0001@{domain}", own_section.id
    )
    own_faculty = Faculty(
        FacultyId(f"F{tag}"), iid, f"Teacher {tag}", f"f{tag.lower()}@{domain}", "BIO"
    )
    own_subject = Subject(SubjectCode(f"SUB{tag}"), iid, tag, f"Subject {tag}")
    own_assignment = TeachingAssignment(
        AssignmentId(f"AS{tag}"), iid, own_faculty.id, own_subject.code, own_section.id
    )
    is_a = tag == "A"
    shared_status = _shared_status(tag)
    s0, s1 = college.students[0], college.students[1]
    with uow_factory().for_institution(iid) as uow:
        uow.sections.add(own_section)
        uow.students.add(own_student)
        uow.faculty.add(own_faculty)
        uow.subjects.add(own_subject)
        uow.assignments.add(own_assignment)
        uow.slots.add(
            WeeklySlot(SlotId(f"AS{tag}-1"), iid, own_assignment.id, 1, time(12), time(13))
        )
        uow.terms.add(
            Term(
                TermId(f"T{tag}"),
                iid,
                f"Term {tag}",
                date(2027, 1 if is_a else 6, 4),
                date(2027, 5 if is_a else 7, 14),
            )
        )
        uow.holidays.add(Holiday(iid, _day(4 if is_a else 3), f"Holiday {tag}"))
        uow.sessions.add_many(
            [
                _session(
                    college,
                    "S-SHARED",
                    college.alice_cs_a,
                    MONDAY,
                    status=SessionStatus.COMPLETED,
                    slot="A1-1",
                    tally=StatusTally.of([shared_status, shared_status]),
                    topic=f"Topic {tag}",
                ),
                _session(
                    college,
                    f"S-{tag}-OPEN",
                    college.bob_ma_a,
                    MONDAY,
                    time(10),
                    status=SessionStatus.OPEN,
                    slot="A2-1",
                ),
                _session(college, f"S-{tag}-NEXT", college.alice_cs_a, _day(3), slot="A1-4"),
                _session(
                    college,
                    f"S-{tag}-ONLY",
                    own_assignment,
                    _day(1),
                    time(12),
                    status=SessionStatus.COMPLETED,
                    tally=StatusTally(present=1),
                ),
            ]
        )
        uow.marks.put_many(
            [
                _mark(college, "S-SHARED", s0, shared_status),
                _mark(college, "S-SHARED", s1, shared_status),
                _mark(college, f"S-{tag}-ONLY", own_student),
            ]
        )
        uow.audit.add_many(
            [_audit(college, "S-SHARED", s0, actor=f"teacher-{tag}", new=shared_status)]
        )
        uow.devices.add(DeviceBinding(iid, s0.id, DeviceId(f"device-{tag}-0001"), T0))
        uow.devices.add(DeviceBinding(iid, own_student.id, DeviceId(f"device-{tag}-only"), T0))
        for _ in range(1 if is_a else 3):
            uow.code_failures.record_failure(SessionId("S-SHARED"), s0.id)
        uow.security_events.add(_event(college, T0, actor=f"actor-{tag}"))
        uow.covers.add(_cover(college, "C-SHARED", "S-SHARED", college.bob.id, T0))
        uow.covers.add(
            _cover(college, f"C-{tag}", f"S-{tag}-NEXT", own_faculty.id, T0 + timedelta(days=3))
        )
        uow.outbox.add(_notification(college, f"N-{tag}", f"key-{tag}"))
        uow.sign_ins.add(_sign_in(college, "SI-SHARED", s0.email, device=f"device-{tag}-0001"))
        uow.sign_ins.add(_sign_in(college, f"SI-{tag}", own_student.email))
        uow.sign_ins.add(
            _sign_in(college, f"SI-{tag}-OLD", own_student.email, revoked_at=T0 + timedelta(1))
        )
        uow.passwords.put(_password(college, _GUEST, f"hash-{tag}"))
        uow.passwords.put(_password(college, own_faculty.email, f"hash-{tag}-own"))
        uow.push_tokens.put(_push(college, "tok-SHARED", student=s0))
        uow.push_tokens.put(_push(college, f"tok-{tag}", faculty=own_faculty))
        uow.commit()


#: Ids written by :func:`_write_everything`, probed by :func:`_tenant_view` too.
_NEW_SECTION = SectionId("NEW-SEC")
_NEW_STUDENTS = (StudentId("NEW0001"), StudentId("NEW0002"))
_NEW_FACULTY = FacultyId("F-NEW")
_NEW_SUBJECT = SubjectCode("NEW101")
_NEW_ASSIGNMENT = AssignmentId("A-NEW")
_NEW_SLOT = SlotId("A-NEW-3")
_NEW_TERM = TermId("T-NEW")
_NEW_SESSIONS = (SessionId("S-NEW-1"), SessionId("S-NEW-2"))
_NEW_DEVICE = DeviceId("device-new-0001")
_NEW_NOTIFICATION = NotificationId("N-NEW")
_NEW_HOLIDAY = date(2026, 12, 25)
_COVER_IDS = (CoverId("C-SHARED"), CoverId("C-A"), CoverId("C-B"), CoverId("C-NEW"))


def _new_emails(college: SmallCollege) -> tuple[str, ...]:
    domain = _domain(college)
    return (f"new0001@{domain}", f"new0002@{domain}", f"new-teacher@{domain}", f"renamed@{domain}")


def _write_everything(uow: UnitOfWork, college: SmallCollege) -> None:
    """Write through every repository of a populated college (inside its scope)."""
    iid, tag, domain = college.id, _tag(college), _domain(college)
    emails = _new_emails(college)
    institution = uow.institutions.get(iid)
    uow.institutions.update(
        dataclasses.replace(
            institution,
            name="Renamed College",
            email_domains=institution.email_domains | {f"new.{domain}"},
        )
    )
    uow.sections.add(Section(_NEW_SECTION, iid, 4, "EEE", "Z"))
    with pytest.raises(ConflictError):
        uow.sections.remove(college.section_a.id)  # refused; the transaction goes on
    uow.sections.update(dataclasses.replace(uow.sections.get(college.section_b.id), name="BB"))
    uow.students.add_many(
        [
            Student(_NEW_STUDENTS[0], iid, "New One", emails[0], _NEW_SECTION, roll_number=1),
            Student(_NEW_STUDENTS[1], iid, "New Two", emails[1], _NEW_SECTION),
        ]
    )
    moved = uow.students.get(college.students[4].id)
    uow.students.update(
        dataclasses.replace(moved, email=emails[3], section_id=college.section_b.id)
    )
    uow.faculty.add(Faculty(_NEW_FACULTY, iid, "New Teacher", emails[2], "EEE"))
    uow.faculty.update(dataclasses.replace(uow.faculty.get(college.bob.id), department="PHYSICS"))
    uow.subjects.add(Subject(_NEW_SUBJECT, iid, "NS", "New Subject"))
    uow.subjects.update(dataclasses.replace(uow.subjects.get(college.ma101.code), name="Maths"))
    uow.assignments.add(
        TeachingAssignment(_NEW_ASSIGNMENT, iid, _NEW_FACULTY, _NEW_SUBJECT, _NEW_SECTION)
    )
    uow.slots.add(WeeklySlot(_NEW_SLOT, iid, _NEW_ASSIGNMENT, 3, time(8), time(9)))
    uow.terms.add(Term(_NEW_TERM, iid, "Next", date(2028, 1, 3), date(2028, 4, 28)))
    uow.terms.update(dataclasses.replace(uow.terms.get(college.term.id), name="Autumn"))
    assert uow.terms.remove(TermId(f"T{tag}"))
    assert uow.slots.remove(SlotId(f"AS{tag}-1"))
    assert uow.students.remove(college.students[3].id)
    uow.holidays.add(Holiday(iid, _NEW_HOLIDAY, "Christmas"))
    uow.holidays.remove(uow.holidays.list()[0].date)
    new_assignment = uow.assignments.get(_NEW_ASSIGNMENT)
    uow.sessions.add_many(
        [
            _session(college, _NEW_SESSIONS[0], new_assignment, _day(2), time(8), slot=_NEW_SLOT),
            _session(college, _NEW_SESSIONS[1], new_assignment, _day(2), time(15)),
        ]
    )
    upcoming = uow.sessions.get(SessionId(f"S-{tag}-NEXT"))
    uow.sessions.update(dataclasses.replace(upcoming, status=SessionStatus.OPEN))
    opened = uow.sessions.get(SessionId(f"S-{tag}-OPEN"))
    uow.sessions.update(
        dataclasses.replace(opened, status=SessionStatus.COMPLETED, tally=StatusTally(present=2))
    )
    new_one = uow.students.get(_NEW_STUDENTS[0])
    new_two = uow.students.get(_NEW_STUDENTS[1])
    uow.marks.insert_if_absent(_mark(college, _NEW_SESSIONS[0], new_one))
    uow.marks.add_missing(
        [
            _mark(college, _NEW_SESSIONS[0], new_two, AttendanceStatus.ABSENT),
            _mark(college, _NEW_SESSIONS[1], new_two, AttendanceStatus.EXCUSED),
        ]
    )
    uow.marks.put_many(
        [
            _mark(college, "S-SHARED", college.students[0], AttendanceStatus.LATE),
            _mark(college, "S-SHARED", college.students[2], AttendanceStatus.ABSENT),
        ]
    )
    uow.audit.add_many(
        [
            _audit(
                college,
                "S-SHARED",
                college.students[0],
                actor="alice",
                old=AttendanceStatus.PRESENT,
                new=AttendanceStatus.LATE,
                reason="came late",
            )
        ]
    )
    uow.devices.remove(college.students[0].id)
    uow.devices.add(DeviceBinding(iid, college.students[2].id, _NEW_DEVICE, T0))
    uow.code_failures.record_failure(SessionId("S-SHARED"), college.students[1].id)
    uow.code_failures.record_failure(_NEW_SESSIONS[0], new_two.id)
    uow.security_events.add(_event(college, T0 + timedelta(hours=1), actor="new-actor"))
    assert uow.covers.remove(CoverId("C-SHARED"))
    uow.covers.add(_cover(college, "C-NEW", _NEW_SESSIONS[0], _NEW_FACULTY, T0 + timedelta(days=2)))
    uow.outbox.add(_notification(college, _NEW_NOTIFICATION, f"key-new-{tag}"))
    own_email = f"n{tag.lower()}0001@{domain}"
    uow.sign_ins.add(_sign_in(college, "SI-NEW", emails[2], method=SignInMethod.PASSWORD))
    shared = uow.sign_ins.find(SignInId("SI-SHARED"))
    assert shared is not None
    uow.sign_ins.update(shared.rotated("1" * 64, shared.expires_at + timedelta(days=1), T0))
    assert uow.sign_ins.revoke_all(own_email, T0 + timedelta(hours=1)) == 1
    uow.passwords.put(_password(college, emails[2]))
    guest = uow.passwords.find(_GUEST)
    assert guest is not None
    uow.passwords.put(guest.after_failure(T0, PasswordPolicy()))
    assert uow.passwords.remove(f"f{tag.lower()}@{domain}")
    uow.push_tokens.put(_push(college, "tok-NEW", faculty=uow.faculty.get(_NEW_FACULTY)))
    assert uow.push_tokens.remove(f"tok-{tag}")
    uow.push_tokens.put(_push(college, "tok-SHARED", student=college.students[2]))


#: Sign-in ids written by :func:`_populate` and :func:`_write_everything`.
_SIGN_IN_IDS = tuple(
    SignInId(i) for i in ("SI-SHARED", "SI-A", "SI-B", "SI-A-OLD", "SI-B-OLD", "SI-NEW")
)


def _tenant_view(uow: UnitOfWork, college: SmallCollege) -> dict[str, object]:
    """Everything one tenant can observe through the ports (inside its scope)."""
    sections = list(uow.sections.list())
    students = list(uow.students.list())
    assignments = list(uow.assignments.list())
    faculty = list(uow.faculty.list())
    sessions: dict[SessionId, ClassSession] = {}
    for section in sections:
        sessions.update((s.id, s) for s in uow.sessions.list_for_section(section.id, EVERYTHING))
    for assignment in assignments:
        sessions.update((s.id, s) for s in uow.sessions.list_for_assignment(assignment.id))
    for teacher in faculty:
        sessions.update((s.id, s) for s in uow.sessions.list_for_teacher(teacher.id, EVERYTHING))
    session_ids = sorted({*sessions, *_NEW_SESSIONS})
    removed = college.students[3]  # by _write_everything
    student_ids = sorted(
        {*(s.id for s in students), *_NEW_STUDENTS, college.students[4].id, removed.id}
    )
    emails = {
        *(s.email for s in students),
        *(f.email for f in faculty),
        *_new_emails(college),
        removed.email,
    }
    domains = {*college.institution.email_domains, f"new.{_domain(college)}"}
    return {
        "institutions": list(uow.institutions.list()),
        "domains": {d: uow.institutions.find_by_domain(d) for d in sorted(domains)},
        "sections": sections,
        "new section": uow.sections.find(_NEW_SECTION),
        "students": students,
        "students by section": {s.id: list(uow.students.list(s.id)) for s in sections},
        "ids in section": {
            i: uow.students.ids_in_section(i) for i in {*(s.id for s in sections), _NEW_SECTION}
        },
        "student lookups": {i: uow.students.find(i) for i in student_ids},
        "student emails": {e: uow.students.find_by_email(e) for e in sorted(emails)},
        "faculty": faculty,
        "faculty emails": {e: uow.faculty.find_by_email(e) for e in sorted(emails)},
        "new faculty": uow.faculty.find(_NEW_FACULTY),
        "subjects": list(uow.subjects.list()),
        "new subject": uow.subjects.find(_NEW_SUBJECT),
        "assignments": assignments,
        "new assignment": uow.assignments.find(_NEW_ASSIGNMENT),
        "slots": list(uow.slots.list()),
        "new slot": uow.slots.find(_NEW_SLOT),
        "terms": list(uow.terms.list()),
        "new term": uow.terms.find(_NEW_TERM),
        "holidays": list(uow.holidays.list()),
        "sessions": [sessions[i] for i in sorted(sessions)],
        "sessions between": list(uow.sessions.list_between(EVERYTHING)),
        "session lookups": {i: uow.sessions.find(i) for i in session_ids},
        "open": sorted(s.id for s in uow.sessions.list_open()),
        "generated": uow.sessions.generated_keys(EVERYTHING),
        "counts": dict(uow.sessions.subject_counts(EVERYTHING, MONDAY)),
        "summaries": dict(
            uow.sessions.assignment_summaries([a.id for a in assignments], MONDAY, time(0))
        ),
        "teacher summaries": {
            f.id: list(uow.sessions.teacher_summaries(f.id, MONDAY, time(0))) for f in faculty
        },
        "marks": list(uow.marks.list_for_sessions(session_ids)),
        "tallies": dict(uow.marks.tallies(EVERYTHING)),
        "audit": {i: list(uow.audit.list_for_session(i)) for i in session_ids},
        "audit pages": {i: uow.audit.page_for_session(i, 1000) for i in session_ids},
        "student audit": {i: uow.audit.page_for_student(i, 1000) for i in student_ids},
        "alice's student audit": {
            i: uow.audit.page_for_student(i, 1000, teacher=college.alice.id) for i in student_ids
        },
        "devices": {i: uow.devices.for_student(i) for i in student_ids},
        "new device": uow.devices.for_device(_NEW_DEVICE),
        "failures": {
            (i, s): uow.code_failures.failures(i, s) for i in session_ids for s in student_ids
        },
        "events": list(uow.security_events.list(limit=1000)),
        "event page": uow.security_events.page(SecurityEventFilter(), 1000),
        "covers": {
            f.id: list(uow.covers.list_for_substitute(f.id, _FAR_PAST, _FAR_FUTURE))
            for f in faculty
        },
        "cover lookups": {i: uow.covers.find(i) for i in _COVER_IDS},
        "session covers": {i: uow.covers.for_session(i) for i in session_ids},
        "session tallies": {i: uow.marks.tally(i) for i in session_ids},
        "outbox": list(uow.outbox.pending(limit=1000)),
        "history": list(uow.outbox.history("class_cancelled", limit=1000)),
        "sign ins": {i: uow.sign_ins.find(i) for i in _SIGN_IN_IDS},
        "revoked": uow.sign_ins.revoked_since(_FAR_PAST),
        "passwords": {e: uow.passwords.find(e) for e in sorted({*emails, _GUEST})},
        "push tokens": (
            list(uow.push_tokens.for_students(student_ids)),
            list(uow.push_tokens.for_faculty({*(f.id for f in faculty), _NEW_FACULTY})),
        ),
    }


def _platform_view(uow: UnitOfWork) -> dict[str, object]:
    return {
        "institutions": list(uow.institutions.list()),
        "outbox": list(uow.outbox.pending(limit=1000)),
        "history": list(uow.outbox.history("class_cancelled", limit=1000)),
        "operator sign-ins": list(uow.operator_sign_ins.list_active(_FAR_PAST)),
        "revoked operator sign-ins": uow.operator_sign_ins.revoked_since(_FAR_PAST),
    }


def _nonzero_counts(
    counts: Mapping[tuple[SectionId, SubjectCode], SessionCounts],
) -> dict[tuple[SectionId, SubjectCode], SessionCounts]:
    return {k: v for k, v in counts.items() if v != SessionCounts()}


def _nonzero_tallies(
    tallies: Mapping[tuple[StudentId, SubjectCode], StatusTally],
) -> dict[tuple[StudentId, SubjectCode], StatusTally]:
    return {k: v for k, v in tallies.items() if v.total}


def _empty_summary(summary: AssignmentSummary | None) -> bool:
    return summary is None or summary == AssignmentSummary(0, StatusTally(), None, None)


def _refused_or_empty(read: Callable[[UnitOfWork], object], uow: UnitOfWork) -> bool:
    """Whether a read raises an AmsError or finds nothing."""
    try:
        result = read(uow)
    except AmsError:
        return True
    if result is None:
        return True
    if isinstance(result, StatusTally):
        return result.total == 0
    if isinstance(result, Slice):
        return result == Slice((), 0)
    if isinstance(result, Mapping | Sequence | set | frozenset):
        return len(result) == 0
    return result == 0
