"""The realistic floors of ADR 0020's shape: a check-in's and a completion's checks and
statements with nothing of AMS around them.

`python -m bench.realistic_floor_app serve --host H --port P --workers N` serves
``POST /api/v1/sessions/{session}/check-in`` and ``POST /api/v1/sessions/{session}/complete``
— the paths, bodies and bearer tokens of AMS's own, so the HTTP benchmark drives both with
the same requests — the way ADR 0020 runs AMS: Litestar on uvicorn (httptools, uvloop),
N processes on their own ``SO_REUSEPORT`` sockets, the handler synchronous on the event
loop, one psycopg connection per process logged in as the row-level-security-bound role.
A check-in:

1. verifies the HS256 bearer token with PyJWT (signature, ``exp``, ``aud``, ``iss``) and
   reads the institution and student from its claims;
2. decodes the body with msgspec (``code``, ``deviceId``);
3. reads the context in one round trip (a pipeline: the tenant scope, then one SELECT of
   the session, student, device binding, existing mark and wrong-code count);
4. applies the rules: session and student found, same section, student active, phone
   bound and the same, not locked out, window open, code current or previous;
5. writes in two round trips as sync ports allow: ``BEGIN``, the scope and one
   ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` (two foreign keys, under
   row-level security) in one pipeline, then ``COMMIT``;
6. answers the mark's status as JSON.

A completion (the teacher of record; the body's ``topic``, at most 500 characters) takes two
round trips: ``BEGIN``, the scope and one ``UPDATE`` that completes the session if the
caller teaches it and it is open (one pipeline); then, in a second pipeline, the checked-in
marks flipped to counted, one ``INSERT … SELECT`` of an absence for every student of the
section without a mark (two foreign keys each) that also writes the completion's audit
entry, the session's final tally, and ``COMMIT``. The answer is the tally as JSON.

No dependency injection, no middleware, no rate limits, no metrics, no audit: what AMS
costs above this is the price of its architecture and its edge. The database URL comes
from ``AMS_DATABASE_URL``, the signing key from ``AMS_SECRET_KEY``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import msgspec
import psycopg
from litestar import Litestar, Request, Response, get, post

from ams_core.domain.codes import code_matches, is_well_formed
from bench.floor_app import serve

SET_SCOPE = "SELECT set_config('app.institution_id', %s, true), set_config('app.scope', %s, true)"
CONTEXT = """
SELECT s.section_id, s.status, s.day, s.start_time, s.window_opened_at, s.window_closes_at,
       s.window_secret, s.window_rotation_seconds, st.section_id, st.active, b.device_id,
       m.status, f.failures
FROM (SELECT 1) AS base
LEFT JOIN class_sessions s ON s.institution_id = %(i)s AND s.id = %(s)s
LEFT JOIN students st ON st.institution_id = %(i)s AND st.id = %(st)s
LEFT JOIN device_bindings b ON b.institution_id = %(i)s AND b.student_id = %(st)s
LEFT JOIN attendance_marks m
  ON m.institution_id = %(i)s AND m.session_id = %(s)s AND m.student_id = %(st)s
LEFT JOIN check_in_failures f
  ON f.institution_id = %(i)s AND f.session_id = %(s)s AND f.student_id = %(st)s
"""
INSERT = """
INSERT INTO attendance_marks (institution_id, session_id, student_id, status, marked_at,
  marked_by, source, device_id, version, subject_code, day, counted)
SELECT s.institution_id, s.id, %(st)s, %(status)s, %(at)s, %(by)s, 'check_in', %(device)s, 0,
  s.subject_code, s.day, false
FROM class_sessions s WHERE s.institution_id = %(i)s AND s.id = %(s)s
ON CONFLICT (institution_id, session_id, student_id) DO NOTHING
RETURNING status
"""
CLOSE = """
UPDATE class_sessions SET status = 'completed', topic = %(topic)s, completed_at = %(at)s,
  version = version + 1
WHERE institution_id = %(i)s AND id = %(s)s AND teacher_id = %(f)s AND status = 'open'
RETURNING section_id
"""
COUNT_MARKS = """
UPDATE attendance_marks SET counted = true
WHERE institution_id = %(i)s AND session_id = %(s)s AND NOT counted
"""
ABSENT = """
WITH absent AS (
  INSERT INTO attendance_marks (institution_id, session_id, student_id, status, marked_at,
    marked_by, source, device_id, version, subject_code, day, counted)
  SELECT s.institution_id, s.id, st.id, 'absent', %(at)s, %(by)s, 'completion', NULL, 0,
    s.subject_code, s.day, true
  FROM class_sessions s JOIN students st
    ON st.institution_id = s.institution_id AND st.section_id = s.section_id
  WHERE s.institution_id = %(i)s AND s.id = %(s)s
  ON CONFLICT (institution_id, session_id, student_id) DO NOTHING
  RETURNING 1
)
INSERT INTO attendance_audit (institution_id, session_id, student_id, actor, at, old_status,
  new_status, reason)
SELECT %(i)s, %(s)s, NULL, %(by)s, %(at)s, NULL, 'absent',
  'class completed: ' || count(*) || ' students without a mark marked absent'
FROM absent HAVING count(*) > 0
"""
TALLY = """
UPDATE class_sessions SET tally_present = c.present, tally_late = c.late,
  tally_absent = c.absent, tally_excused = c.excused
FROM (
  SELECT count(*) FILTER (WHERE status = 'present') AS present,
         count(*) FILTER (WHERE status = 'late') AS late,
         count(*) FILTER (WHERE status = 'absent') AS absent,
         count(*) FILTER (WHERE status = 'excused') AS excused
  FROM attendance_marks WHERE institution_id = %(i)s AND session_id = %(s)s
) AS c
WHERE institution_id = %(i)s AND id = %(s)s
RETURNING tally_present, tally_late, tally_absent, tally_excused
"""
MAX_TOPIC = 500
LATE_AFTER = timedelta(minutes=10)
MAX_WRONG_CODES = 5
TIMEZONE = ZoneInfo("Asia/Kolkata")


class CheckInBody(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    code: str
    device_id: str


class CompleteBody(msgspec.Struct, forbid_unknown_fields=True):
    topic: str | None = None


def _refuse(status: int, code: str) -> Response[bytes]:
    return Response(
        msgspec.json.encode({"status": status, "code": code}),
        status_code=status,
        media_type="application/problem+json",
    )


def app() -> Litestar:
    """The app (a factory, so each worker process opens its own connection)."""
    key = os.environ["AMS_SECRET_KEY"]
    url = os.environ["AMS_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    connection = psycopg.connect(url, autocommit=True)
    decode = msgspec.json.Decoder(CheckInBody).decode
    decode_completion = msgspec.json.Decoder(CompleteBody).decode

    def claims_of(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
        header = request.headers.get("authorization", "")
        try:
            return jwt.decode(
                header.removeprefix("Bearer "),
                key,
                algorithms=["HS256"],
                audience="ams-api",
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError:
            return None

    @post("/api/v1/sessions/{session_id:str}/check-in", sync_to_thread=False, status_code=200)
    def check_in(session_id: str, request: Request[Any, Any, Any], body: bytes) -> Any:
        claims = claims_of(request)
        if claims is None:
            return _refuse(401, "invalid_token")
        institution, student = claims.get("inst"), claims.get("stu")
        if not institution or not student:
            return _refuse(403, "not_a_student")
        try:
            data = decode(body)
        except msgspec.ValidationError:
            return _refuse(422, "invalid_body")
        scope = (institution, "tenant")
        params = {"i": institution, "s": session_id, "st": student}
        with connection.cursor() as scoping, connection.cursor() as reading:
            with connection.pipeline():
                scoping.execute(SET_SCOPE, scope, prepare=True)
                reading.execute(CONTEXT, params, prepare=True)
            row = reading.fetchone()
        assert row is not None
        (section, state, day, start, opened, closes, secret, rotation) = row[:8]
        (student_section, active, device, marked, failures) = row[8:]
        now = datetime.now(UTC)
        if section is None or student_section is None:
            return _refuse(404, "not_found")
        if section != student_section or not active:
            return _refuse(403, "not_in_section")
        if device is None or device != data.device_id:
            return _refuse(403, "device_mismatch")
        if marked is not None:
            return {"status": marked, "alreadyMarked": True}
        if (failures or 0) >= MAX_WRONG_CODES or state == "cancelled":
            return _refuse(409, "locked")
        if opened is None or not opened <= now < closes:
            return _refuse(409, "attendance_closed")
        if not is_well_formed(data.code) or not code_matches(secret, data.code, now, rotation):
            return _refuse(422, "wrong_code")
        late = now > datetime.combine(day, start, TIMEZONE) + LATE_AFTER
        values = params | {
            "status": "late" if late else "present",
            "at": now,
            "by": claims["sub"],
            "device": data.device_id,
        }
        with connection.cursor() as cursor:
            with connection.pipeline():
                cursor.execute("BEGIN")
                cursor.execute(SET_SCOPE, scope, prepare=True)
                cursor.execute(INSERT, values, prepare=True)
            inserted = cursor.fetchone()
            connection.execute("COMMIT")
        return {"status": values["status"], "alreadyMarked": inserted is None}

    @post("/api/v1/sessions/{session_id:str}/complete", sync_to_thread=False, status_code=200)
    def complete(session_id: str, request: Request[Any, Any, Any], body: bytes) -> Any:
        claims = claims_of(request)
        if claims is None:
            return _refuse(401, "invalid_token")
        institution, faculty = claims.get("inst"), claims.get("fac")
        if not institution or not faculty:
            return _refuse(403, "not_a_teacher")
        try:
            data = decode_completion(body)
        except msgspec.ValidationError:
            return _refuse(422, "invalid_body")
        if data.topic is not None and len(data.topic) > MAX_TOPIC:
            return _refuse(422, "invalid_body")
        scope = (institution, "tenant")
        params = {
            "i": institution,
            "s": session_id,
            "f": faculty,
            "by": claims["sub"],
            "at": datetime.now(UTC),
            "topic": data.topic,
        }
        with connection.cursor() as cursor:
            with connection.pipeline():
                cursor.execute("BEGIN")
                cursor.execute(SET_SCOPE, scope, prepare=True)
                cursor.execute(CLOSE, params, prepare=True)
            if cursor.fetchone() is None:
                connection.execute("ROLLBACK")
                return _refuse(409, "not_open")
            with connection.cursor() as tallying:
                with connection.pipeline():
                    cursor.execute(COUNT_MARKS, params, prepare=True)
                    cursor.execute(ABSENT, params, prepare=True)
                    tallying.execute(TALLY, params, prepare=True)
                    cursor.execute("COMMIT")
                tally = tallying.fetchone()
        assert tally is not None
        present, late, absent, excused = tally
        return {"present": present, "late": late, "absent": absent, "excused": excused}

    @get("/health/ready", sync_to_thread=False)
    def ready() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar([check_in, complete, ready], openapi_config=None)


def main(argv: list[str] | None = None) -> int:
    return serve("bench.realistic_floor_app:app", argv, workers=3)


if __name__ == "__main__":
    raise SystemExit(main())
