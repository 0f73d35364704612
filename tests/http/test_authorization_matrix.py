"""Role x endpoint x tenant: who gets what from every route of the app.

Every request targets institution ``a``'s objects. The fixture's two institutions share
ids (the same seed gives the same session id, student ids and section ids in ``a`` and
``b``), so a ``b`` user asking for "``a``'s session" by that id would really reach ``b``'s own
session. To make the cross-tenant rows mean something, institution ``a`` gets a session and
a student whose ids exist nowhere else (``A_SESSION``, ``A_STUDENT``): a copy of alice's
Monday 09:00 CS101 session of section A and a sixth student of section A; and for the
management routes a second session (Tuesday 14:00, free of clashes), a section, a teacher,
a subject, a teaching assignment with a weekly slot, a term and a holiday of its own
(``A_*`` below), none of which history refers to, so an admin may change or delete them.
For the cover routes ``a`` gets a third session of alice's (Wednesday 14:00) with an
approved absence of hers over it, its cover need offered to bob (``a``'s "another
teacher"), a second absence of alice's waiting for approval, a draft cover plan and a
substitute preference.

Columns are the five roles of ``a`` (student, class representative, teacher of record,
another teacher, admin), the same five of ``b``, the platform operator and no token.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ams_core.domain import (
    Absence,
    AbsenceId,
    AbsenceKind,
    AbsenceStatus,
    AssignmentId,
    ClassSession,
    CoverNeed,
    CoverNeedId,
    CoverOffer,
    CoverOfferId,
    CoverPlan,
    CoverPlanId,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Holiday,
    NeedStatus,
    PreferenceId,
    PreferenceKind,
    Section,
    SectionId,
    SecurityEvent,
    SecurityEventKind,
    SessionId,
    SlotId,
    Student,
    StudentId,
    Subject,
    SubjectCode,
    SubstitutePreference,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
)
from ams_core.ports import UnitOfWork
from ams_core.ports.workbooks import XLSX_MEDIA_TYPE
from tests.http.conftest import ROLES, World
from tests.http.workbooks import workbook

A_SESSION = "a-only-session-0001"
A_STUDENT = "A-ONLY-0001"
A_STUDENT_EMAIL = "a-only-0001@a.edu"
A_STUDENT_NAME = "Only In A"
STRONG_PASSWORD = "correct horse battery staple 42"
A_SESSION_2 = "a-only-session-0002"
A_SECTION = "a-only-section"
A_FACULTY = "a-only-faculty"
A_SUBJECT = "AONLY101"
A_ASSIGNMENT = "a-only-assignment"
A_SLOT = "a-only-slot"
A_TERM = "a-only-term"
A_HOLIDAY = date(2026, 12, 25)
WEEK = {"from": "2026-11-16", "to": "2026-11-22"}
A_SESSION_3 = "a-only-session-0003"
A_ABSENCE = "a-only-absence"
A_ABSENCE_REPORTED = "a-only-absence-reported"
A_NEED = "a-only-need"
A_OFFER = "a-only-offer"
A_PLAN = "a-only-plan"
A_PREFERENCE = "a-only-preference"
IST = ZoneInfo("Asia/Kolkata")
WEDNESDAY = date(2026, 11, 18)
THURSDAY = date(2026, 11, 19)

ACTORS: tuple[str, ...] = (
    *(f"a.{role}" for role in ROLES),
    *(f"b.{role}" for role in ROLES),
    "operator",
    "anonymous",
)

Row = dict[str, int]


def row(
    a: tuple[int, int, int, int, int],
    b: tuple[int, int, int, int, int],
    operator: int,
    anonymous: int,
) -> Row:
    """``a``/``b``: (student, cr, faculty, other_faculty, admin)."""
    statuses = (*a, *b, operator, anonymous)
    return dict(zip(ACTORS, statuses, strict=True))


def everyone(status: int) -> Row:
    return dict.fromkeys(ACTORS, status)


# fmt: off
#: every member of the institution (a's record: b's members do not find it)
MEMBERS_READ = row(
    a=(200, 200, 200, 200, 200),
    b=(200, 200, 200, 200, 200), operator=403, anonymous=401)
MEMBERS_READ_A_ONLY = row(
    a=(200, 200, 200, 200, 200),
    b=(404, 404, 404, 404, 404), operator=403, anonymous=401)
#: admins and teachers (students are refused before any lookup)
STAFF_READ = row(
    a=(403, 403, 200, 200, 200),
    b=(403, 403, 200, 200, 200), operator=403, anonymous=401)
STAFF_READ_A_ONLY = row(
    a=(403, 403, 200, 200, 200),
    b=(403, 403, 404, 404, 404), operator=403, anonymous=401)
#: admins only (everybody else is refused before any lookup)
ADMIN_CREATES = row(
    a=(403, 403, 403, 403, 201),
    b=(403, 403, 403, 403, 201), operator=403, anonymous=401)
ADMIN_CHANGES_A_ONLY = row(
    a=(403, 403, 403, 403, 200),
    b=(403, 403, 403, 403, 404), operator=403, anonymous=401)
ADMIN_DELETES_A_ONLY = row(
    a=(403, 403, 403, 403, 204),
    b=(403, 403, 403, 403, 404), operator=403, anonymous=401)
ADMIN_READ = row(
    a=(403, 403, 403, 403, 200),
    b=(403, 403, 403, 403, 200), operator=403, anonymous=401)
ADMIN_READ_A_ONLY = ADMIN_CHANGES_A_ONLY
#: offering a's need by hand: only a's admin gets as far as the need (already on offer)
ADMIN_OFFERS_A_ONLY = row(
    a=(403, 403, 403, 403, 409),
    b=(403, 403, 403, 403, 404), operator=403, anonymous=401)
#: teachers read their own absences and offers, admins all of them (students: 403)
TEACHERS_READ_OWN = STAFF_READ
#: alice's absence: hers and the admins' (anybody else of a does not find it)
ALICES_ABSENCE = row(
    a=(404, 404, 200, 404, 200),
    b=(404, 404, 404, 404, 404), operator=403, anonymous=401)
#: the offer to bob: his and the admins' to read
BOBS_OFFER_READ = row(
    a=(404, 404, 404, 200, 200),
    b=(404, 404, 404, 404, 404), operator=403, anonymous=401)
#: only bob answers his offer; an admin answering for him is refused (403)
BOBS_OFFER_ANSWER = row(
    a=(404, 404, 404, 200, 403),
    b=(404, 404, 404, 404, 404), operator=403, anonymous=401)

#: The expected status of every route for every actor (requests aim at institution a).
#                                                       student cr  faculty other admin
EXPECTED: dict[str, Row] = {
    # open paths: the answer does not depend on who asks
    "POST /api/v1/auth/google":   everyone(401),  # an ID token that is not a JWT
    "POST /api/v1/auth/password": everyone(401),  # a wrong password for a's student
    "POST /api/v1/auth/refresh":  everyone(401),  # a refresh token a never issued
    "GET /health/live":           everyone(200),
    "GET /health/ready":          everyone(200),
    "GET /metrics":               everyone(200),
    # anybody signed in
    "POST /api/v1/auth/sign-out": {**everyone(204), "anonymous": 401},
    "GET /api/v1/me":             {**everyone(200), "anonymous": 401},
    "POST /api/v1/me/push-tokens": row(
        a=(201, 201, 201, 201, 201),
        b=(201, 201, 201, 201, 201), operator=403, anonymous=401),
    # admin of the person's institution
    "PUT /api/v1/people/{email}/password": row(
        a=(403, 403, 403, 403, 204),
        b=(403, 403, 403, 403, 404), operator=403, anonymous=401),
    # students and teachers see their own timetable (the admin teaches: Faculty "ADM")
    "GET /api/v1/me/schedule": row(
        a=(200, 200, 200, 200, 200),
        b=(200, 200, 200, 200, 200), operator=403, anonymous=401),
    "POST /api/v1/sessions/{session_id}/attendance-code": row(
        a=(403, 403, 200, 403, 403),
        b=(404, 404, 404, 404, 404), operator=403, anonymous=401),
    "POST /api/v1/sessions/{session_id}/check-in": row(
        a=(200, 200, 403, 403, 403),
        b=(404, 404, 403, 403, 403), operator=403, anonymous=401),
    "GET /api/v1/sessions/{session_id}/attendance": row(
        a=(403, 403, 200, 403, 200),
        b=(404, 404, 404, 404, 404), operator=403, anonymous=401),
    "PUT /api/v1/sessions/{session_id}/attendance": row(
        a=(403, 403, 200, 403, 200),
        b=(404, 404, 404, 404, 404), operator=403, anonymous=401),
    # CompleteSession allows the admin too (require_teacher_of_record(or_admin=True))
    "POST /api/v1/sessions/{session_id}/complete": row(
        a=(403, 403, 200, 403, 200),
        b=(404, 404, 404, 404, 404), operator=403, anonymous=401),
    "GET /api/v1/me/attendance": row(
        a=(200, 200, 403, 403, 403),
        b=(200, 200, 403, 403, 403), operator=403, anonymous=401),
    # another student: 404 (not theirs); any teacher of the student's section may look
    "GET /api/v1/students/{student_id}/attendance": row(
        a=(404, 404, 200, 200, 200),
        b=(404, 404, 404, 404, 404), operator=403, anonymous=401),
    "GET /api/v1/me/dashboard": row(
        a=(403, 403, 200, 200, 200),
        b=(403, 403, 200, 200, 200), operator=403, anonymous=401),
    "POST /api/v1/weeks/{iso_week}/generate": row(
        a=(403, 403, 403, 403, 200),
        b=(403, 403, 403, 403, 200), operator=403, anonymous=401),
    "GET /api/v1/reports/defaulters": row(
        a=(403, 403, 200, 200, 200),
        b=(403, 403, 200, 200, 200), operator=403, anonymous=401),
    "GET /api/v1/reports/register": row(
        a=(403, 403, 200, 403, 200),
        b=(403, 403, 200, 403, 200), operator=403, anonymous=401),
    "POST /api/v1/notifications": row(
        a=(403, 201, 403, 403, 403),
        b=(403, 201, 403, 403, 403), operator=403, anonymous=401),
    "GET /api/v1/notifications": row(
        a=(403, 200, 403, 403, 403),
        b=(403, 200, 403, 403, 403), operator=403, anonymous=401),
    "POST /api/v1/students/{student_id}/device-reset": row(
        a=(403, 403, 403, 403, 200),
        b=(403, 403, 403, 403, 404), operator=403, anonymous=401),
    # -- managing the institution: staff read, admins write (every member reads sections,
    # terms and holidays); creating works in one's own institution, so b's admin gets 201
    "GET /api/v1/sections": MEMBERS_READ,
    "POST /api/v1/sections": ADMIN_CREATES,
    "GET /api/v1/sections/{section_id}": MEMBERS_READ_A_ONLY,
    "PATCH /api/v1/sections/{section_id}": ADMIN_CHANGES_A_ONLY,
    "DELETE /api/v1/sections/{section_id}": ADMIN_DELETES_A_ONLY,
    "GET /api/v1/students": STAFF_READ,
    "POST /api/v1/students": ADMIN_CREATES,
    # a student sees only themself (another student's id: 404); a's student is in section
    # A, which both a's teachers teach
    "GET /api/v1/students/{student_id}": row(
        a=(404, 404, 200, 200, 200),
        b=(404, 404, 404, 404, 404), operator=403, anonymous=401),
    "PATCH /api/v1/students/{student_id}": ADMIN_CHANGES_A_ONLY,
    "DELETE /api/v1/students/{student_id}": ADMIN_DELETES_A_ONLY,
    "GET /api/v1/faculty": STAFF_READ,
    "POST /api/v1/faculty": ADMIN_CREATES,
    "GET /api/v1/faculty/{faculty_id}": STAFF_READ_A_ONLY,
    "PATCH /api/v1/faculty/{faculty_id}": ADMIN_CHANGES_A_ONLY,
    "DELETE /api/v1/faculty/{faculty_id}": ADMIN_DELETES_A_ONLY,
    "GET /api/v1/subjects": STAFF_READ,
    "POST /api/v1/subjects": ADMIN_CREATES,
    "GET /api/v1/subjects/{code}": STAFF_READ_A_ONLY,
    "PATCH /api/v1/subjects/{code}": ADMIN_CHANGES_A_ONLY,
    "DELETE /api/v1/subjects/{code}": ADMIN_DELETES_A_ONLY,
    "GET /api/v1/assignments": STAFF_READ,
    "POST /api/v1/assignments": ADMIN_CREATES,
    "GET /api/v1/assignments/{assignment_id}": STAFF_READ_A_ONLY,
    "PATCH /api/v1/assignments/{assignment_id}": ADMIN_CHANGES_A_ONLY,
    "DELETE /api/v1/assignments/{assignment_id}": ADMIN_DELETES_A_ONLY,
    "GET /api/v1/slots": STAFF_READ,
    "POST /api/v1/slots": ADMIN_CREATES,
    "GET /api/v1/slots/{slot_id}": STAFF_READ_A_ONLY,
    "PATCH /api/v1/slots/{slot_id}": ADMIN_CHANGES_A_ONLY,
    "DELETE /api/v1/slots/{slot_id}": ADMIN_DELETES_A_ONLY,
    "GET /api/v1/terms": MEMBERS_READ,
    "POST /api/v1/terms": ADMIN_CREATES,
    "GET /api/v1/terms/{term_id}": MEMBERS_READ_A_ONLY,
    "PATCH /api/v1/terms/{term_id}": ADMIN_CHANGES_A_ONLY,
    "DELETE /api/v1/terms/{term_id}": ADMIN_DELETES_A_ONLY,
    "GET /api/v1/holidays": MEMBERS_READ,
    "POST /api/v1/holidays": ADMIN_CREATES,
    "DELETE /api/v1/holidays/{day}": ADMIN_DELETES_A_ONLY,
    "GET /api/v1/institution/settings": row(
        a=(403, 403, 403, 403, 200),
        b=(403, 403, 403, 403, 200), operator=403, anonymous=401),
    "PATCH /api/v1/institution/settings": row(
        a=(403, 403, 403, 403, 200),
        b=(403, 403, 403, 403, 200), operator=403, anonymous=401),
    # sessions: members list their own; the assignment's teacher (alice) or an admin adds
    # classes; the teacher of record (alice) or an admin changes one; students of the
    # section and its teachers read it
    "GET /api/v1/sessions": MEMBERS_READ,
    "POST /api/v1/sessions": row(
        a=(403, 403, 201, 403, 201),
        b=(403, 403, 201, 403, 201), operator=403, anonymous=401),
    "GET /api/v1/sessions/{session_id}": row(
        a=(200, 200, 200, 403, 200),
        b=(404, 404, 404, 404, 404), operator=403, anonymous=401),
    "PATCH /api/v1/sessions/{session_id}": row(
        a=(403, 403, 200, 403, 200),
        b=(404, 404, 404, 404, 404), operator=403, anonymous=401),
    "POST /api/v1/sessions/{session_id}/cancel": row(
        a=(403, 403, 200, 403, 200),
        b=(404, 404, 404, 404, 404), operator=403, anonymous=401),
    # the audit trail: students are refused before any lookup; a session's trail is its
    # teacher of record's (alice) and the admins'; a student's trail is every teacher's
    # (narrowed to their own sessions) and the admins'
    "GET /api/v1/sessions/{session_id}/audit": row(
        a=(403, 403, 200, 403, 200),
        b=(403, 403, 404, 404, 404), operator=403, anonymous=401),
    "GET /api/v1/students/{student_id}/audit": STAFF_READ_A_ONLY,
    # security events: admins review their own institution's
    "GET /api/v1/security-events": row(
        a=(403, 403, 403, 403, 200),
        b=(403, 403, 403, 403, 200), operator=403, anonymous=401),
    # absences: a teacher reports their own (naming a's "only" teacher: 404), an admin
    # anybody's in their own institution (b's admin does not find a's teacher)
    "POST /api/v1/absences": row(
        a=(403, 403, 404, 404, 201),
        b=(403, 403, 404, 404, 404), operator=403, anonymous=401),
    "GET /api/v1/absences": TEACHERS_READ_OWN,
    "GET /api/v1/absences/{absence_id}": ALICES_ABSENCE,
    "POST /api/v1/absences/{absence_id}/approve": ADMIN_CHANGES_A_ONLY,
    "POST /api/v1/absences/{absence_id}/cancel": ALICES_ABSENCE,
    # cover needs, plans, analytics and preferences: admins only
    "GET /api/v1/cover/needs": ADMIN_READ,
    "GET /api/v1/cover/needs/{need_id}": ADMIN_READ_A_ONLY,
    "POST /api/v1/cover/needs/{need_id}/cancel": ADMIN_CHANGES_A_ONLY,
    "GET /api/v1/cover/needs/{need_id}/candidates": ADMIN_READ_A_ONLY,
    "POST /api/v1/cover/needs/{need_id}/offers": ADMIN_OFFERS_A_ONLY,
    "POST /api/v1/cover/plans": ADMIN_CREATES,
    "GET /api/v1/cover/plans": ADMIN_READ,
    "GET /api/v1/cover/plans/{plan_id}": ADMIN_READ_A_ONLY,
    "POST /api/v1/cover/plans/{plan_id}/publish": ADMIN_CHANGES_A_ONLY,
    "POST /api/v1/cover/plans/{plan_id}/cancel": ADMIN_CHANGES_A_ONLY,
    "GET /api/v1/cover/analytics": ADMIN_READ,
    # imports: an institution's admin, into their own institution; templates for any admin
    "POST /api/v1/imports": ADMIN_READ,
    "GET /api/v1/imports/templates/{kind}": row(
        a=(403, 403, 403, 403, 200),
        b=(403, 403, 403, 403, 200), operator=200, anonymous=401),
    "GET /api/v1/cover/preferences": ADMIN_READ,
    "POST /api/v1/cover/preferences": ADMIN_CREATES,
    "GET /api/v1/cover/preferences/{preference_id}": ADMIN_READ_A_ONLY,
    "PATCH /api/v1/cover/preferences/{preference_id}": ADMIN_CHANGES_A_ONLY,
    "DELETE /api/v1/cover/preferences/{preference_id}": ADMIN_DELETES_A_ONLY,
    # offers: the offered substitute (bob) and admins; an admin only withdraws
    "GET /api/v1/cover/offers": TEACHERS_READ_OWN,
    "GET /api/v1/cover/offers/{offer_id}": BOBS_OFFER_READ,
    "POST /api/v1/cover/offers/{offer_id}/accept": BOBS_OFFER_ANSWER,
    "POST /api/v1/cover/offers/{offer_id}/decline": BOBS_OFFER_ANSWER,
    "POST /api/v1/cover/offers/{offer_id}/cancel": ADMIN_CHANGES_A_ONLY,
}
# fmt: on

DOC_ROUTES = re.compile(r"^/schema")  # the OpenAPI document and its viewers
PATH_TYPE = re.compile(r":[a-z]+\}")  # "{session_id:str}" -> "{session_id}"


@dataclass(frozen=True)
class Context:
    """What a case's preparation left for the request (e.g. the current code)."""

    code: str = ""


Prepare = Callable[[World], Context]
Body = Callable[[str, Context], Any]


def _no_prepare(world: World) -> Context:
    return Context()


@dataclass(frozen=True)
class Call:
    path: str
    body: Body | None = None
    mutates: bool = False
    prepare: Prepare = _no_prepare
    query: Mapping[str, str] = field(default_factory=dict)
    #: a multipart upload instead of a JSON body
    files: Callable[[], Mapping[str, tuple[str, bytes, str]]] | None = None


def _students_workbook() -> Mapping[str, tuple[str, bytes, str]]:
    """One new student in a new section (it imports into whichever institution asks)."""
    sheet: list[list[Any]] = [
        ["Student ID", "Name", "Section", "Year", "Department"],
        ["IMPORTED-1", "Imported Student", "Z", 3, "IMP"],
    ]
    return {"file": ("students.xlsx", workbook({"Students": sheet}), XLSX_MEDIA_TYPE)}


def _device(actor: str) -> str:
    return f"device-{actor.replace('.', '-')}-0001"


def _open(world: World) -> Context:
    answer = world.client.post(
        f"/api/v1/sessions/{A_SESSION}/attendance-code", headers=world.headers("a.faculty")
    )
    assert answer.status_code == 200, answer.text
    return Context(code=str(answer.json()["code"]))


def _open_and_bind(world: World) -> Context:
    context = _open(world)
    for name, college in (("a", world.a), ("b", world.b)):
        uow = world.uow()
        with uow.for_institution(college.id):
            for role, index in (("student", 0), ("cr", 1)):
                device = DeviceId(_device(f"{name}.{role}"))
                student = college.students[index].id
                uow.devices.add(DeviceBinding(college.id, student, device, world.clock.now()))
            uow.commit()
    return context


def _after_class(world: World) -> Context:
    world.clock.set(world.clock.now().replace(minute=40))
    return Context()


def _audited(world: World) -> Context:
    """Alice corrects a's own student in a's own session: the trail has one entry."""
    answer = world.client.put(
        f"/api/v1/sessions/{A_SESSION}/attendance",
        json={"marks": [{"studentId": A_STUDENT, "status": "late"}], "reason": "bus late"},
        headers=world.headers("a.faculty"),
    )
    assert answer.status_code == 200, answer.text
    return Context()


def _suspicious(world: World) -> Context:
    """A wrong code by a's own student in a's own session, recorded for review."""
    uow = world.uow()
    with uow.for_institution(world.a.id):
        uow.security_events.add(
            SecurityEvent(
                world.a.id,
                SecurityEventKind.WRONG_CODE,
                world.clock.now(),
                A_STUDENT_EMAIL,
                student_id=StudentId(A_STUDENT),
                session_id=SessionId(A_SESSION),
            )
        )
        uow.commit()
    return Context()


def _domain(actor: str) -> str:
    """The actor's own email domain (``a.edu`` for those outside both institutions)."""
    return "b.edu" if actor.startswith("b.") else "a.edu"


def _crud(collection: str, key: str, a_only: str, *, create: Body, change: Body) -> dict[str, Call]:
    """The five calls of a managed collection, aimed at ``a``'s own record ``a_only``."""
    path = f"/api/v1/{collection}"
    one = f"{path}/{a_only}"
    return {
        f"GET {path}": Call(path),
        f"POST {path}": Call(path, body=create, mutates=True),
        f"GET {path}/{key}": Call(one),
        f"PATCH {path}/{key}": Call(one, body=change, mutates=True),
        f"DELETE {path}/{key}": Call(one, mutates=True),
    }


CALLS: dict[str, Call] = {
    "POST /api/v1/auth/google": Call(
        "/api/v1/auth/google", body=lambda actor, ctx: {"idToken": "not-a-jwt"}
    ),
    "POST /api/v1/auth/password": Call(
        "/api/v1/auth/password",
        body=lambda actor, ctx: {"email": A_STUDENT_EMAIL, "password": "wrong-password"},
        mutates=True,  # failed attempts count towards a lockout
    ),
    "POST /api/v1/auth/refresh": Call(
        "/api/v1/auth/refresh",
        body=lambda actor, ctx: {"refreshToken": "inst-a.no-such-sign-in.c2VjcmV0"},
    ),
    "GET /health/live": Call("/health/live"),
    "GET /health/ready": Call("/health/ready"),
    "GET /metrics": Call("/metrics"),
    "POST /api/v1/auth/sign-out": Call("/api/v1/auth/sign-out", mutates=True),
    "GET /api/v1/me": Call("/api/v1/me"),
    "POST /api/v1/me/push-tokens": Call(
        "/api/v1/me/push-tokens",
        body=lambda actor, ctx: {"token": f"push-{actor}", "platform": "android"},
        mutates=True,
    ),
    "PUT /api/v1/people/{email}/password": Call(
        f"/api/v1/people/{A_STUDENT_EMAIL}/password",
        body=lambda actor, ctx: {"password": STRONG_PASSWORD},
        mutates=True,
    ),
    "GET /api/v1/me/schedule": Call(
        "/api/v1/me/schedule", query={"from": "2026-11-16", "to": "2026-11-22"}
    ),
    "POST /api/v1/sessions/{session_id}/attendance-code": Call(
        f"/api/v1/sessions/{A_SESSION}/attendance-code", mutates=True
    ),
    "POST /api/v1/sessions/{session_id}/check-in": Call(
        f"/api/v1/sessions/{A_SESSION}/check-in",
        body=lambda actor, ctx: {"code": ctx.code, "deviceId": _device(actor)},
        mutates=True,
        prepare=_open_and_bind,
    ),
    "GET /api/v1/sessions/{session_id}/attendance": Call(
        f"/api/v1/sessions/{A_SESSION}/attendance"
    ),
    "PUT /api/v1/sessions/{session_id}/attendance": Call(
        f"/api/v1/sessions/{A_SESSION}/attendance",
        body=lambda actor, ctx: {"marks": [{"studentId": A_STUDENT, "status": "late"}]},
        mutates=True,
    ),
    "POST /api/v1/sessions/{session_id}/complete": Call(
        f"/api/v1/sessions/{A_SESSION}/complete",
        body=lambda actor, ctx: {"topic": "Linked lists"},
        mutates=True,
        prepare=_after_class,
    ),
    "GET /api/v1/me/attendance": Call("/api/v1/me/attendance"),
    "GET /api/v1/students/{student_id}/attendance": Call(
        f"/api/v1/students/{A_STUDENT}/attendance"
    ),
    "GET /api/v1/me/dashboard": Call("/api/v1/me/dashboard"),
    "POST /api/v1/weeks/{iso_week}/generate": Call("/api/v1/weeks/2026-W48/generate", mutates=True),
    "GET /api/v1/reports/defaulters": Call("/api/v1/reports/defaulters"),
    "GET /api/v1/reports/register": Call(
        "/api/v1/reports/register", query={"sectionId": "E2-CSE-A", "subjectCode": "CS101"}
    ),
    "POST /api/v1/notifications": Call(
        "/api/v1/notifications",
        body=lambda actor, ctx: {"title": "Lab moved", "body": "Room 204 today"},
        mutates=True,
    ),
    "GET /api/v1/notifications": Call("/api/v1/notifications"),
    "POST /api/v1/students/{student_id}/device-reset": Call(
        f"/api/v1/students/{A_STUDENT}/device-reset", mutates=True
    ),
    # -- managing the institution
    **_crud(
        "sections",
        "{section_id}",
        A_SECTION,
        create=lambda actor, ctx: {
            "id": "new-section",
            "year": 1,
            "department": "CSE",
            "name": "N",
        },
        change=lambda actor, ctx: {"name": "Renamed"},
    ),
    **_crud(
        "students",
        "{student_id}",
        A_STUDENT,
        create=lambda actor, ctx: {
            "id": "N219500",
            "name": "New Student",
            "email": f"n219500@{_domain(actor)}",
            "sectionId": "E2-CSE-A",
        },
        change=lambda actor, ctx: {"name": "Renamed", "rollNumber": None},
    ),
    **_crud(
        "faculty",
        "{faculty_id}",
        A_FACULTY,
        create=lambda actor, ctx: {
            "id": "F900",
            "name": "New Teacher",
            "email": f"f900@{_domain(actor)}",
            "department": "CSE",
        },
        change=lambda actor, ctx: {"department": "EEE", "maxCoversPerDay": 1},
    ),
    **_crud(
        "subjects",
        "{code}",
        A_SUBJECT,
        create=lambda actor, ctx: {"code": "NEW101", "shortName": "NW", "name": "New"},
        change=lambda actor, ctx: {"kind": "lab"},
    ),
    **_crud(
        "assignments",
        "{assignment_id}",
        A_ASSIGNMENT,
        create=lambda actor, ctx: {
            "facultyId": "F001",
            "subjectCode": "MA101",
            "sectionId": "E2-CSE-B",
        },
        change=lambda actor, ctx: {"facultyId": "F001"},
    ),
    **_crud(
        "slots",
        "{slot_id}",
        A_SLOT,
        create=lambda actor, ctx: {
            "assignmentId": "A1",
            "weekday": 6,
            "start": "11:00",
            "end": "12:00",
        },
        change=lambda actor, ctx: {"venue": "Other Room", "end": "09:50:00"},
    ),
    **_crud(
        "terms",
        "{term_id}",
        A_TERM,
        create=lambda actor, ctx: {"name": "Spring", "start": "2027-01-04", "end": "2027-05-28"},
        change=lambda actor, ctx: {"name": "Renamed"},
    ),
    "GET /api/v1/holidays": Call("/api/v1/holidays", query={"from": "2026-11-01"}),
    "POST /api/v1/holidays": Call(
        "/api/v1/holidays", body=lambda actor, ctx: {"date": "2026-11-20"}, mutates=True
    ),
    "DELETE /api/v1/holidays/{day}": Call(
        f"/api/v1/holidays/{A_HOLIDAY.isoformat()}", mutates=True
    ),
    "GET /api/v1/institution/settings": Call("/api/v1/institution/settings"),
    "PATCH /api/v1/institution/settings": Call(
        "/api/v1/institution/settings",
        body=lambda actor, ctx: {"lateAfterMinutes": 12, "cover": {"weightFairness": 25}},
        mutates=True,
    ),
    "GET /api/v1/sessions": Call("/api/v1/sessions", query=WEEK),
    "POST /api/v1/sessions": Call(
        "/api/v1/sessions",
        body=lambda actor, ctx: {
            "assignmentId": "A1",
            "date": "2026-11-21",
            "start": "11:00",
            "end": "12:00",
        },
        mutates=True,
    ),
    "GET /api/v1/sessions/{session_id}": Call(f"/api/v1/sessions/{A_SESSION_2}"),
    "PATCH /api/v1/sessions/{session_id}": Call(
        f"/api/v1/sessions/{A_SESSION_2}",
        body=lambda actor, ctx: {"venue": "Hall 9", "version": 0},
        mutates=True,
    ),
    "POST /api/v1/sessions/{session_id}/cancel": Call(
        f"/api/v1/sessions/{A_SESSION_2}/cancel",
        body=lambda actor, ctx: {"reason": "unwell"},
        mutates=True,
    ),
    "GET /api/v1/sessions/{session_id}/audit": Call(
        f"/api/v1/sessions/{A_SESSION}/audit", prepare=_audited
    ),
    "GET /api/v1/students/{student_id}/audit": Call(
        f"/api/v1/students/{A_STUDENT}/audit", prepare=_audited
    ),
    "GET /api/v1/security-events": Call("/api/v1/security-events", prepare=_suspicious),
    # -- absences and cover
    "POST /api/v1/absences": Call(
        "/api/v1/absences",
        body=lambda actor, ctx: {
            "facultyId": A_FACULTY,
            "start": "2026-11-20T00:00:00+05:30",
            "end": "2026-11-21T00:00:00+05:30",
            "type": "official_duty",
        },
        mutates=True,
    ),
    "GET /api/v1/absences": Call("/api/v1/absences"),
    "GET /api/v1/absences/{absence_id}": Call(f"/api/v1/absences/{A_ABSENCE}"),
    "POST /api/v1/absences/{absence_id}/approve": Call(
        f"/api/v1/absences/{A_ABSENCE_REPORTED}/approve", mutates=True
    ),
    "POST /api/v1/absences/{absence_id}/cancel": Call(
        f"/api/v1/absences/{A_ABSENCE}/cancel", mutates=True
    ),
    "GET /api/v1/cover/needs": Call("/api/v1/cover/needs", query={"status": "open,offered"}),
    "GET /api/v1/cover/needs/{need_id}": Call(f"/api/v1/cover/needs/{A_NEED}"),
    "POST /api/v1/cover/needs/{need_id}/cancel": Call(
        f"/api/v1/cover/needs/{A_NEED}/cancel", mutates=True
    ),
    "POST /api/v1/cover/needs/{need_id}/offers": Call(
        f"/api/v1/cover/needs/{A_NEED}/offers",
        body=lambda actor, ctx: {"facultyId": "F002"},
        mutates=True,
    ),
    "GET /api/v1/cover/needs/{need_id}/candidates": Call(
        f"/api/v1/cover/needs/{A_NEED}/candidates"
    ),
    "POST /api/v1/cover/plans": Call(
        "/api/v1/cover/plans",
        body=lambda actor, ctx: {"from": "2026-11-17", "to": "2026-11-20"},
        mutates=True,
    ),
    "GET /api/v1/cover/plans": Call("/api/v1/cover/plans"),
    "GET /api/v1/cover/plans/{plan_id}": Call(f"/api/v1/cover/plans/{A_PLAN}"),
    "POST /api/v1/cover/plans/{plan_id}/publish": Call(
        f"/api/v1/cover/plans/{A_PLAN}/publish", mutates=True
    ),
    "POST /api/v1/cover/plans/{plan_id}/cancel": Call(
        f"/api/v1/cover/plans/{A_PLAN}/cancel", mutates=True
    ),
    "GET /api/v1/cover/analytics": Call("/api/v1/cover/analytics", query=WEEK),
    "POST /api/v1/imports": Call("/api/v1/imports", files=_students_workbook, mutates=True),
    "GET /api/v1/imports/templates/{kind}": Call("/api/v1/imports/templates/students"),
    **_crud(
        "cover/preferences",
        "{preference_id}",
        A_PREFERENCE,
        create=lambda actor, ctx: {
            "substituteId": "F002",
            "kind": "preferred",
            "subjectCode": "CS101",
        },
        change=lambda actor, ctx: {"kind": "excluded", "note": "not this term"},
    ),
    "GET /api/v1/cover/offers": Call("/api/v1/cover/offers"),
    "GET /api/v1/cover/offers/{offer_id}": Call(f"/api/v1/cover/offers/{A_OFFER}"),
    "POST /api/v1/cover/offers/{offer_id}/accept": Call(
        f"/api/v1/cover/offers/{A_OFFER}/accept", mutates=True
    ),
    "POST /api/v1/cover/offers/{offer_id}/decline": Call(
        f"/api/v1/cover/offers/{A_OFFER}/decline",
        body=lambda actor, ctx: {"reason": "teaching elsewhere"},
        mutates=True,
    ),
    "POST /api/v1/cover/offers/{offer_id}/cancel": Call(
        f"/api/v1/cover/offers/{A_OFFER}/cancel", mutates=True
    ),
}

READ_ONLY = sorted(key for key, call in CALLS.items() if not call.mutates)
MUTATING = [(key, actor) for key, call in sorted(CALLS.items()) if call.mutates for actor in ACTORS]


def _add_a_only_objects(world: World) -> None:
    """Records of institution ``a`` whose ids ``b`` does not have (see the module doc)."""
    uow = world.uow()
    with uow.for_institution(world.a.id):
        session = uow.sessions.get(world.session_a)
        uow.sessions.add(dataclasses.replace(session, id=SessionId(A_SESSION), slot_id=None))
        uow.students.add_many(
            [
                Student(
                    StudentId(A_STUDENT),
                    world.a.id,
                    A_STUDENT_NAME,
                    A_STUDENT_EMAIL,
                    world.a.section_a.id,
                    roll_number=6,
                )
            ]
        )
        tuesday = dataclasses.replace(
            session,
            id=SessionId(A_SESSION_2),
            slot_id=None,
            date=session.date + timedelta(days=1),
            start=time(14),
            end=time(15),
        )
        uow.sessions.add(tuesday)
        iid = world.a.id
        uow.sections.add(Section(SectionId(A_SECTION), iid, 1, "CSE", "Only"))
        uow.faculty.add(
            Faculty(FacultyId(A_FACULTY), iid, "Only Teacher", f"{A_FACULTY}@a.edu", "CSE")
        )
        uow.subjects.add(Subject(SubjectCode(A_SUBJECT), iid, "OA", "Only in A"))
        bob_ma_b = TeachingAssignment(
            AssignmentId(A_ASSIGNMENT),
            iid,
            world.a.bob.id,
            world.a.ma101.code,
            world.a.section_b.id,
        )
        uow.assignments.add(bob_ma_b)
        uow.slots.add(
            WeeklySlot(SlotId(A_SLOT), iid, bob_ma_b.id, 6, time(9), time(10), "Only Room")
        )
        uow.terms.add(Term(TermId(A_TERM), iid, "Only term", date(2027, 6, 1), date(2027, 7, 31)))
        uow.holidays.add(Holiday(iid, A_HOLIDAY, "Only holiday"))
        _add_a_only_cover(uow, world, session)
        uow.commit()


def _add_a_only_cover(uow: UnitOfWork, world: World, monday: ClassSession) -> None:
    """Alice away on Wednesday afternoon: her 14:00 class is offered to bob; another
    absence of hers waits for approval; a draft plan for Thursday; bob preferred for her.
    """
    iid, alice, bob = world.a.id, world.a.alice.id, world.a.bob.id
    now = world.clock.now()
    wednesday = dataclasses.replace(
        monday,
        id=SessionId(A_SESSION_3),
        slot_id=None,
        date=WEDNESDAY,
        start=time(14),
        end=time(15),
    )
    uow.sessions.add(wednesday)

    def at(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=IST)

    for key, day, status in (
        (A_ABSENCE, WEDNESDAY, AbsenceStatus.APPROVED),
        (A_ABSENCE_REPORTED, THURSDAY, AbsenceStatus.REPORTED),
    ):
        approved = status is AbsenceStatus.APPROVED
        uow.absences.add(
            Absence(
                id=AbsenceId(key),
                institution_id=iid,
                faculty_id=alice,
                starts_at=at(day, 13),
                ends_at=at(day, 16),
                kind=AbsenceKind.PERSONAL,
                status=status,
                reported_at=now,
                reported_by=world.a.alice.email,
                decided_at=now if approved else None,
                decided_by=world.a.admin_email if approved else None,
            )
        )
    uow.cover_needs.add_many(
        [
            CoverNeed(
                id=CoverNeedId(A_NEED),
                institution_id=iid,
                absence_id=AbsenceId(A_ABSENCE),
                session_id=wednesday.id,
                absent_faculty_id=alice,
                section_id=wednesday.section_id,
                subject_code=wednesday.subject_code,
                day=WEDNESDAY,
                starts_at=at(WEDNESDAY, 14),
                ends_at=at(WEDNESDAY, 15),
                created_at=now,
                status=NeedStatus.OFFERED,
            )
        ]
    )
    uow.cover_offers.add(
        CoverOffer(
            id=CoverOfferId(A_OFFER),
            institution_id=iid,
            need_id=CoverNeedId(A_NEED),
            substitute_id=bob,
            plan_id=None,
            attempt=1,
            score=25,
            reasons=(),
            offered_at=now,
            expires_at=now + timedelta(hours=2),
        )
    )
    uow.cover_plans.add(
        CoverPlan(
            id=CoverPlanId(A_PLAN),
            institution_id=iid,
            first_day=THURSDAY,
            last_day=THURSDAY,
            created_at=now,
            created_by=world.a.admin_email,
            solver="exact",
            assignments=(),
            uncovered=(),
        )
    )
    uow.substitute_preferences.add(
        SubstitutePreference(
            id=PreferenceId(A_PREFERENCE),
            institution_id=iid,
            substitute_id=bob,
            kind=PreferenceKind.PREFERRED,
            faculty_id=alice,
        )
    )


A_MARKERS = (
    "inst-a",
    "a.edu",
    A_SESSION,
    A_STUDENT,
    A_STUDENT_NAME,
    "College inst-a",
    "a-only",
    A_SUBJECT,
    "Only holiday",
    "Only Room",
)


def _call(world: World, key: str, actor: str, context: Context) -> int:
    call = CALLS[key]
    method = key.split(" ", 1)[0]
    body = call.body(actor, context) if call.body is not None else None
    answer = world.client.request(
        method,
        call.path,
        params=dict(call.query),
        json=body,
        files=call.files() if call.files is not None else None,
        headers=world.headers(actor),
    )
    assert answer.status_code < 500, answer.text
    if actor.startswith("b."):
        sent = call.path + json.dumps(body or {})
        leaked = [m for m in A_MARKERS if m in answer.text and m not in sent]
        assert not leaked, f"{actor} {key} saw institution a's {leaked}: {answer.text}"
    if answer.status_code in (401, 403, 404):
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["status"] == answer.status_code
    return answer.status_code


def test_every_row_has_a_request_and_a_status_for_every_actor() -> None:
    assert set(CALLS) == set(EXPECTED)
    for statuses in EXPECTED.values():
        assert tuple(statuses) == ACTORS


def test_the_rows_match_the_routes_the_app_serves(world: World) -> None:
    app = world.client.app
    served = {
        f"{method} {PATH_TYPE.sub('}', route.path)}"
        for route in app.routes
        if not DOC_ROUTES.match(route.path)
        for method in getattr(route, "methods", ())
        if method not in ("OPTIONS", "HEAD")
    }
    schema = world.client.get("/schema/openapi.json").json()
    documented = {
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }
    assert documented <= served
    assert set(EXPECTED) == served, {
        "routes without a row": sorted(served - set(EXPECTED)),
        "rows without a route": sorted(set(EXPECTED) - served),
    }


@pytest.mark.parametrize("key", READ_ONLY)
def test_read_only_route(any_world: World, key: str) -> None:
    world = any_world
    _add_a_only_objects(world)
    context = CALLS[key].prepare(world)
    observed = {actor: _call(world, key, actor, context) for actor in ACTORS}
    assert observed == EXPECTED[key]


#: refusals that are meant to leave a trace: a wrong password counts towards the lockout
COUNTED_REFUSALS = frozenset({"POST /api/v1/auth/password"})


@pytest.mark.parametrize(("key", "actor"), MUTATING)
def test_state_changing_route(any_world: World, key: str, actor: str) -> None:
    world = any_world
    _add_a_only_objects(world)
    context = CALLS[key].prepare(world)
    before = world.snapshot()

    status = _call(world, key, actor, context)

    assert status == EXPECTED[key][actor]
    if status >= 400 and key not in COUNTED_REFUSALS:  # a refused write changes nothing
        assert world.snapshot() == before
