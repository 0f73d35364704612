"""Another institution's ids, wherever they are sent, answer exactly as ids that never
existed: in the path, in a body and in a query string, on memory and on PostgreSQL under
row-level security; and nothing is written.

The objects are those of the authorization matrix (``test_authorization_matrix``): records
of institution ``a`` whose ids exist nowhere else. Each request is sent by a member of
``b`` twice, once naming ``a``'s object and once naming an object that never existed; the
two answers must be the same but for the id itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.http.conftest import World
from tests.http.test_authorization_matrix import (
    A_ASSIGNMENT,
    A_FACULTY,
    A_HOLIDAY,
    A_SECTION,
    A_SESSION,
    A_SESSION_2,
    A_SLOT,
    A_STUDENT,
    A_STUDENT_EMAIL,
    A_SUBJECT,
    A_TERM,
    CALLS,
    _add_a_only_objects,
)

#: each object of ``a`` and an id of the same shape that no institution ever had
NEVER = {
    A_SESSION: "zz-never-session-0001",
    A_SESSION_2: "zz-never-session-0002",
    A_STUDENT: "ZZ-NEVER-0001",
    A_STUDENT_EMAIL: "zz-never-0001@a.edu",
    A_SECTION: "zz-never-section",
    A_FACULTY: "zz-never-faculty",
    A_SUBJECT: "ZZNEVER101",
    A_ASSIGNMENT: "zz-never-assignment",
    A_SLOT: "zz-never-slot",
    A_TERM: "zz-never-term",
    A_HOLIDAY.isoformat(): "2026-12-30",
}
B_ACTORS = ("b.student", "b.cr", "b.faculty", "b.other_faculty", "b.admin")


@dataclass(frozen=True)
class Probe:
    """One request naming ``a``'s object ``a_id`` somewhere other than (or besides) the path."""

    method: str
    path: str
    a_id: str
    body: Any = None
    query: Mapping[str, str] = field(default_factory=dict)


def _probes(b_session: str) -> list[Probe]:
    """Requests carrying a's ids in bodies and query strings (sent by b's admin and
    teacher; ``b_session`` is the session b's teacher teaches)."""
    return [
        Probe(
            "PUT",
            f"/api/v1/sessions/{b_session}/attendance",
            A_STUDENT,
            body={"marks": [{"studentId": A_STUDENT, "status": "late"}], "reason": "x"},
        ),
        Probe(
            "POST",
            "/api/v1/sessions",
            A_ASSIGNMENT,
            body={"assignmentId": A_ASSIGNMENT, "date": "2026-11-21", "start": "11:00"}
            | {"end": "12:00"},
        ),
        Probe(
            "POST",
            "/api/v1/assignments",
            A_FACULTY,
            body={"facultyId": A_FACULTY, "subjectCode": "MA101", "sectionId": "E2-CSE-B"},
        ),
        Probe(
            "POST",
            "/api/v1/assignments",
            A_SUBJECT,
            body={"facultyId": "F001", "subjectCode": A_SUBJECT, "sectionId": "E2-CSE-B"},
        ),
        Probe(
            "POST",
            "/api/v1/assignments",
            A_SECTION,
            body={"facultyId": "F001", "subjectCode": "MA101", "sectionId": A_SECTION},
        ),
        Probe(
            "POST",
            "/api/v1/students",
            A_SECTION,
            body={"id": "N219501", "name": "N", "email": "n219501@b.edu", "sectionId": A_SECTION},
        ),
        Probe(
            "POST",
            "/api/v1/slots",
            A_ASSIGNMENT,
            body={"assignmentId": A_ASSIGNMENT, "weekday": 6, "start": "11:00", "end": "12:00"},
        ),
        Probe(
            "GET",
            "/api/v1/reports/register",
            A_SECTION,
            query={"sectionId": A_SECTION, "subjectCode": "CS101"},
        ),
        Probe(
            "GET",
            "/api/v1/reports/register",
            A_SUBJECT,
            query={"sectionId": "E2-CSE-A", "subjectCode": A_SUBJECT},
        ),
        Probe("GET", "/api/v1/students", A_SECTION, query={"sectionId": A_SECTION}),
        Probe("GET", "/api/v1/security-events", A_STUDENT, query={"studentId": A_STUDENT}),
        Probe("GET", "/api/v1/security-events", A_SESSION, query={"sessionId": A_SESSION}),
    ]


def _path_probes() -> list[Probe]:
    """Every route of the matrix whose path names one of a's objects."""
    probes = []
    for key, call in sorted(CALLS.items()):
        method = key.split(" ", 1)[0]
        for a_id in NEVER:
            if a_id in call.path:
                probes.append(Probe(method, call.path, a_id, query=call.query))
    return probes


PATH_PROBES = _path_probes()


def _send(world: World, probe: Probe, actor: str, a_id: str, body: Any = None) -> tuple[int, Any]:
    """Send the probe with ``a_id`` standing for a's object; the answer with ids masked."""

    def swap(text: str) -> str:
        return text.replace(probe.a_id, a_id)

    payload = json.loads(swap(json.dumps(probe.body if body is None else body)))
    answer = world.client.request(
        probe.method,
        swap(probe.path),
        params={name: swap(value) for name, value in probe.query.items()},
        json=payload,
        headers=world.headers(actor),
    )
    assert answer.status_code < 500, answer.text
    text = answer.text.replace(a_id, "<id>")
    try:
        parsed = json.loads(text)
    except ValueError:
        return answer.status_code, text
    if isinstance(parsed, dict):
        parsed.pop("instance", None)
    return answer.status_code, parsed


def _cross_and_never(world: World, probe: Probe, actor: str) -> tuple[Any, Any]:
    before = world.snapshot()
    cross = _send(world, probe, actor, probe.a_id)
    never = _send(world, probe, actor, NEVER[probe.a_id])
    if cross[0] >= 400:
        assert world.snapshot() == before, "a refused request changed stored data"
    return cross, never


@pytest.mark.parametrize("probe", PATH_PROBES, ids=lambda p: f"{p.method} {p.path}")
def test_a_path_naming_another_institutions_object_answers_as_one_that_never_existed(
    any_world: World, probe: Probe
) -> None:
    _add_a_only_objects(any_world)
    for actor in B_ACTORS:
        cross, never = _cross_and_never(any_world, probe, actor)
        assert cross == never, actor


@pytest.mark.parametrize("index", range(len(_probes("-"))))
def test_ids_of_another_institution_in_bodies_and_queries_answer_as_ids_never_seen(
    any_world: World, index: int
) -> None:
    _add_a_only_objects(any_world)
    probe = _probes(str(any_world.session_b))[index]
    for actor in ("b.admin", "b.faculty"):
        cross, never = _cross_and_never(any_world, probe, actor)
        assert cross == never, actor
        assert cross[0] != 201 or probe.method == "GET", cross  # nothing refers to a's object
