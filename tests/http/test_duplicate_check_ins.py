"""Duplicate check-ins racing through two server processes on one PostgreSQL database: each
student ends with exactly one mark, and every answer to the same student is the same."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ams_adapters.identity import JwtAccessTokens
from ams_adapters.memory import SystemClock, SystemRandomSource
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import DeviceBinding, DeviceId
from ams_core.use_cases import (
    IssueLocalToken,
    IssueLocalTokenCommand,
    OpenAttendance,
    OpenAttendanceCommand,
    SignInLifetimes,
)
from ams_http.serve.demo import DEMO_INSTITUTION, OPERATOR, seed_demo
from tests.http.live_server import SECRET, live_server
from tests.sql.conftest import PostgresDatabase

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

STUDENTS = 5
REQUESTS_PER_STUDENT = 16


def _check_in(
    port: int, session: str, token: str, code: str, device: str
) -> tuple[int, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            f"/api/v1/sessions/{session}/check-in",
            body=json.dumps({"code": code, "deviceId": device}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with connection.getresponse() as answer:
            return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def test_duplicate_check_ins_through_two_processes_leave_one_mark_each(
    postgres: PostgresDatabase, tmp_path: Path
) -> None:
    postgres.truncate()
    clock, random = SystemClock(), SystemRandomSource()
    people = seed_demo(SqlUnitOfWork(postgres.app), clock, random)
    with SqlUnitOfWork(postgres.app).for_institution(DEMO_INSTITUTION) as uow:
        session = uow.sessions.get(people.session_now)
        section = uow.assignments.get(session.assignment_id).section_id
        students = list(uow.students.list(section))[:STUDENTS]
        devices: dict[str, str] = {}
        for student in students:
            bound = uow.devices.for_student(student.id)
            if bound is None:
                bound = DeviceBinding(
                    DEMO_INSTITUTION, student.id, DeviceId(f"phone-{student.id}"), clock.now()
                )
                uow.devices.add(bound)
            devices[student.id] = str(bound.device_id)
        uow.commit()
    tokens_port = JwtAccessTokens(SECRET.encode(), clock=clock)
    issue = IssueLocalToken(
        SqlUnitOfWork(postgres.app), tokens_port, clock, random, SignInLifetimes()
    )
    tokens: dict[str, str] = {
        s.id: issue(IssueLocalTokenCommand(OPERATOR, s.email)).access_token for s in students
    }
    teacher = issue(IssueLocalTokenCommand(OPERATOR, people.faculty)).principal
    opened = OpenAttendance(SqlUnitOfWork(postgres.app), clock, random)(
        OpenAttendanceCommand(teacher, people.session_now)
    )
    env = {"AMS_DATABASE_URL": postgres.app_url}
    first_dir, second_dir = tmp_path / "one", tmp_path / "two"
    first_dir.mkdir()
    second_dir.mkdir()
    with live_server(first_dir, env=env) as one, live_server(second_dir, env=env) as two:
        ports = (one.port, two.port)
        jobs = [
            (ports[n % 2], student.id) for student in students for n in range(REQUESTS_PER_STUDENT)
        ]
        barrier = threading.Barrier(len(jobs))

        def send(job: tuple[int, str]) -> tuple[str, int, dict[str, object]]:
            port, student_id = job
            barrier.wait(timeout=60)
            status, body = _check_in(
                port, people.session_now, tokens[student_id], opened.code, devices[student_id]
            )
            return student_id, status, body

        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            answers = list(pool.map(send, jobs))

    assert all(status == 200 for _, status, _ in answers), [a for a in answers if a[1] != 200]
    for student in students:
        bodies = [body for sid, _, body in answers if sid == student.id]
        # the same status and time however often it was sent; exactly one answer made it
        assert len({(b["status"], b["markedAt"]) for b in bodies}) == 1, bodies
        assert sum(not b["alreadyMarked"] for b in bodies) == 1, bodies
    with SqlUnitOfWork(postgres.app).for_institution(DEMO_INSTITUTION) as uow:
        marks = list(uow.marks.list_for_session(people.session_now))
    assert sorted(m.student_id for m in marks) == sorted(s.id for s in students)
