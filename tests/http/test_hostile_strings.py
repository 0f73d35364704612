"""Every string the API reads — each field of each request body, each query parameter and
each path — refuses control characters and unpaired surrogates with a 4xx naming it, on
memory and on PostgreSQL alike, and nothing is stored.

PostgreSQL cannot store a NUL in text (the probe that found this got 503 "the database
failed" on twelve inputs) and SQLite stores it silently; the edge refuses both the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.http.conftest import World

#: characters no field accepts: C0 controls other than tab and line breaks, DEL
NEVER_ACCEPTED = [chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
SAMPLE_DATE = "2026-11-16"
#: values tried, in order, against a string field's pattern
PATTERN_SAMPLES = ("09:00", "X1", SAMPLE_DATE, "2026-W48", "someone@a.edu", "10.0.0.0/8")


def hostile_strings() -> st.SearchStrategy[str]:
    """Plausible text with one refused character somewhere in it."""
    text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF), max_size=6)
    return st.builds(
        lambda before, bad, after: before + bad + after,
        text,
        st.sampled_from(NEVER_ACCEPTED),
        text,
    )


@dataclass(frozen=True)
class Target:
    """Where a hostile string goes: a body field (by path), a query parameter or the path."""

    method: str
    path: str
    where: str  # "body", "query" or "path"
    field: tuple[str | int, ...] = ()
    parameter: str = ""

    def __str__(self) -> str:
        spot = ".".join(map(str, self.field)) or self.parameter or "path"
        return f"{self.method} {self.path} {self.where}:{spot}"


class Schemas:
    """Minimal valid values for the schemas of one OpenAPI document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._components = document.get("components", {}).get("schemas", {})

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self._components[schema["$ref"].rsplit("/", 1)[1]]
        for key in ("oneOf", "anyOf"):
            if key in schema:
                options = [self.resolve(o) for o in schema[key]]
                return next(o for o in options if o.get("type") != "null")
        return schema

    def example(self, schema: dict[str, Any]) -> Any:
        schema = self.resolve(schema)
        kind = schema.get("type")
        if "enum" in schema:
            return schema["enum"][0]
        if kind == "object":
            return {
                name: self.example(schema["properties"][name])
                for name in schema.get("required", [])
            }
        if kind == "array":
            return [self.example(schema.get("items", {}))] * max(1, schema.get("minItems", 1))
        if kind == "integer":
            return int(schema.get("minimum", 1))
        if kind == "number":
            return float(schema.get("minimum", 1))
        if kind == "boolean":
            return True
        return self._string(schema)

    @staticmethod
    def _string(schema: dict[str, Any]) -> str:
        form = schema.get("format")
        if form == "date":
            return SAMPLE_DATE
        if form == "time":
            return "09:00:00"
        if form == "date-time":
            return f"{SAMPLE_DATE}T09:00:00Z"
        if form == "email":
            return "someone@a.edu"
        if "pattern" in schema:
            return next(c for c in PATTERN_SAMPLES if re.search(schema["pattern"], c))
        return "X1" * max(1, int(schema.get("minLength", 1)))

    def string_fields(
        self, schema: dict[str, Any], at: tuple[str | int, ...] = ()
    ) -> Iterator[tuple[str | int, ...]]:
        """Paths of every string-typed field, through nested objects and arrays."""
        schema = self.resolve(schema)
        kind = schema.get("type")
        if kind == "object":
            for name, sub in schema.get("properties", {}).items():
                yield from self.string_fields(sub, (*at, name))
        elif kind == "array":
            yield from self.string_fields(schema.get("items", {}), (*at, 0))
        elif kind == "string" and "enum" not in self.resolve(schema) and at:
            yield at


def _with(body: Any, field: tuple[str | int, ...], value: str, schemas: Schemas, root: Any) -> Any:
    """``body`` with ``value`` at ``field`` (creating optional parents from their schema)."""
    if not field:
        return value
    head, rest = field[0], field[1:]
    schema = schemas.resolve(root)
    if isinstance(head, int):
        items = list(body) if isinstance(body, list) and body else [None]
        items[0] = _with(items[0], rest, value, schemas, schema.get("items", {}))
        return items
    child_schema = schema["properties"][head]
    current = dict(body) if isinstance(body, dict) else schemas.example(schema)
    child = current.get(head)
    if child is None and rest:
        child = schemas.example(child_schema)
    current[head] = _with(child, rest, value, schemas, child_schema)
    return current


def _targets(document: dict[str, Any]) -> list[Target]:
    schemas = Schemas(document)
    found = []
    for path, item in sorted(document["paths"].items()):
        for method, operation in sorted(item.items()):
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            found.append(Target(method.upper(), path, "path"))
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    found.append(Target(method.upper(), path, "query", parameter=parameter["name"]))
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = content["application/json"]["schema"]
                found.extend(
                    Target(method.upper(), path, "body", field=field)
                    for field in schemas.string_fields(schema)
                )
    return found


def _fill_path(path: str, world: World) -> str:
    ids = {
        "session_id": str(world.session_a),
        "student_id": world.a.students[0].id,
        "email": world.a.students[0].email,
        "iso_week": "2026-W48",
        "day": SAMPLE_DATE,
    }
    for name, value in ids.items():
        path = path.replace("{" + name + "}", quote(value, safe="@"))
    return path.replace("{", "x").replace("}", "x")


def _send_hostile(world: World, document: dict[str, Any], target: Target, hostile: str) -> None:
    schemas = Schemas(document)
    operation = document["paths"][target.path][target.method.lower()]
    path = _fill_path(target.path, world)
    body: Any = None
    params: dict[str, str] = {}
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        schema = content["application/json"]["schema"]
        body = schemas.example(schema)
        if target.where == "body":
            body = _with(body, target.field, hostile, schemas, schema)
    if target.where == "query":
        params[target.parameter] = hostile
    if target.where == "path":
        path = path.rstrip("/") + "/" + quote(hostile, safe="")
        path = path if target.path.count("{") else quote(hostile, safe="") + path
    answer = world.client.request(
        target.method,
        path,
        params=params,
        content=json.dumps(body) if body is not None else None,
        headers={**world.headers("a.admin"), "Content-Type": "application/json"},
    )
    assert 400 <= answer.status_code < 500, (str(target), answer.status_code, answer.text)
    if target.where == "path":
        return  # a path with a control character names no route: 404 or 422 "path"
    assert answer.status_code in (400, 422), (str(target), answer.text)
    problem = answer.json()
    named = target.parameter or next(str(p) for p in reversed(target.field) if isinstance(p, str))
    fields = [str(error.get("field", "")) for error in problem.get("errors", [])]
    assert any(named in field for field in fields) or named in problem["detail"], (
        str(target),
        problem,
    )


@settings(
    max_examples=10,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),  # one request per string: shrinking is pointless
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_string_the_api_reads_refuses_control_characters(
    any_world: World, data: st.DataObject
) -> None:
    world = any_world
    before = world.snapshot()
    document = world.client.app.openapi_schema.to_schema()
    targets = _targets(document)
    assert sum(t.where == "body" for t in targets) > 40  # the walk found the bodies' strings

    for target in targets:
        _send_hostile(world, document, target, data.draw(hostile_strings(), label=str(target)))

    assert world.snapshot() == before


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/auth/password", "email"),
        ("/api/v1/auth/refresh", "refreshToken"),
        ("/api/v1/auth/google", "idToken"),
    ],
)
def test_a_nul_in_a_public_body_is_a_422_naming_the_field(
    world: World, path: str, field: str
) -> None:
    body = {"email": "x@a.edu", "password": "p" * 12, "refreshToken": "t", "idToken": "t"}
    allowed = {
        "/api/v1/auth/password": ("email", "password"),
        "/api/v1/auth/refresh": ("refreshToken",),
        "/api/v1/auth/google": ("idToken",),
    }[path]
    sent = {name: body[name] for name in allowed} | {field: "a\x00b"}

    answer = world.client.post(path, json=sent)

    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_input"
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_a_lone_surrogate_in_json_is_a_client_error(world: World) -> None:
    answer = world.client.post(
        "/api/v1/auth/password",
        content=b'{"email": "x@a.edu", "password": "\\ud800 and more"}',
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code in (400, 422), answer.text


def test_deeply_nested_json_is_a_400_without_a_traceback(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    body = '{"idToken": ' + "[" * 5000 + "]" * 5000 + "}"

    answer = world.client.post(
        "/api/v1/auth/google", content=body, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "malformed_body"
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_schedule_at_the_ends_of_the_calendar_is_a_422(world: World, day: str) -> None:
    answer = world.client.get(
        "/api/v1/me/schedule", params={"from": day}, headers=world.headers("a.student")
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "from"
