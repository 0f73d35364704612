"""What the OpenAPI document promises a client, pinned: which operations need a token, that
bodies refusing unknown fields say so, and the limits that span several parameters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar, post
from litestar.params import JSONBody
from litestar.routes import HTTPRoute

from ams_http.auth import OPEN_PATHS
from ams_http.openapi import ClosedStructSchemaPlugin, Problem
from ams_http.schemas.base import CamelStruct
from tests.http.conftest import empty_app

Operation = dict[str, Any]


@pytest.fixture(scope="module")
def app() -> Litestar:
    return empty_app()


@pytest.fixture(scope="module")
def document(app: Litestar) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, Operation]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                yield path, method, operation


def _operation(document: dict[str, Any], operation_id: str) -> Operation:
    return next(op for _, _, op in _operations(document) if op["operationId"] == operation_id)


def _parameter(operation: Operation, name: str) -> dict[str, Any]:
    return next(p for p in operation["parameters"] if p["name"] == name)


def _is_open(path: str) -> bool:
    return any(re.search(pattern, path) for pattern in OPEN_PATHS)


# -- security -----------------------------------------------------------------------------
def test_the_document_asks_for_a_bearer_token_by_default(document: dict[str, Any]) -> None:
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_operations_on_open_paths_state_that_they_need_no_token(document: dict[str, Any]) -> None:
    public = {
        op["operationId"]: op.get("security") for p, _, op in _operations(document) if _is_open(p)
    }

    assert set(public) >= {
        "signInWithGoogle",
        "signInWithPassword",
        "refreshTokens",
        "live",
        "ready",
    }
    assert all(security == [] for security in public.values()), public


def test_every_other_operation_needs_the_bearer_token(document: dict[str, Any]) -> None:
    signed_in = [
        (op["operationId"], op.get("security"))
        for path, _, op in _operations(document)
        if not _is_open(path)
    ]

    assert len(signed_in) > 50
    # no security of its own: the document's bearer requirement applies
    assert [(name, s) for name, s in signed_in if s not in (None, [{"bearer": []}])] == []


# -- closed request bodies ----------------------------------------------------------------
def _referenced(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[1]
        for value in schema.values():
            yield from _referenced(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _referenced(value)


def _body_schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every component a request body refers to, directly or through other components."""
    components = document["components"]["schemas"]
    todo = [
        name
        for _, _, op in _operations(document)
        for name in _referenced(op.get("requestBody", {}).get("content", {}))
    ]
    found: dict[str, dict[str, Any]] = {}
    while todo:
        name = todo.pop()
        if name not in found:
            found[name] = components[name]
            todo.extend(_referenced(components[name]))
    return found


def test_every_request_body_is_a_struct_that_refuses_unknown_fields(app: Litestar) -> None:
    bodies = {
        handler.handler_name: body.annotation
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if (data := handler.parsed_fn_signature.parameters.get("data")) is not None
        for body in (data.inner_types if data.is_union else (data,))
        if not body.is_none_type  # an optional body: its struct
    }

    assert len(bodies) > 20
    assert issubclass(bodies["mark_attendance"], CamelStruct)
    refusing = {
        name: getattr(getattr(body, "__struct_config__", None), "forbid_unknown_fields", False)
        for name, body in bodies.items()
    }
    assert [name for name, refuses in refusing.items() if not refuses] == []


def test_every_object_of_a_request_body_refuses_additional_properties(
    document: dict[str, Any],
) -> None:
    bodies = _body_schemas(document)

    assert {"MarkAttendanceBody", "MarkIn", "CheckInBody", "InstitutionPatch"} <= set(bodies)
    open_objects = [
        name
        for name, schema in bodies.items()
        if schema.get("type") == "object" and schema.get("additionalProperties") is not False
    ]
    assert open_objects == []


def test_only_structs_that_refuse_unknown_fields_are_closed(document: dict[str, Any]) -> None:
    assert not Problem.__struct_config__.forbid_unknown_fields
    assert "additionalProperties" not in document["components"]["schemas"]["Problem"]


class Closed(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class Open(msgspec.Struct):
    name: str


@post("/closed", sync_to_thread=False)
def closed(data: JSONBody[Closed]) -> Open:
    return Open(name=data.name)


def test_the_schema_plugin_closes_a_new_struct_without_being_told() -> None:
    app = Litestar([closed], plugins=[ClosedStructSchemaPlugin()])
    schemas = app.openapi_schema.to_schema()["components"]["schemas"]

    assert schemas["Closed"]["additionalProperties"] is False
    assert "additionalProperties" not in schemas["Open"]


# -- limits across fields -----------------------------------------------------------------
def test_the_schedule_states_its_range_limit(document: dict[str, Any]) -> None:
    from ams_http.controllers.attendance import MAX_SCHEDULE_DAYS

    schedule = _operation(document, "getMySchedule")
    to = _parameter(schedule, "to")["description"]

    assert f"at most {MAX_SCHEDULE_DAYS} days" in to
    assert "not before `from`" in to


def test_the_session_list_states_its_range_limit(document: dict[str, Any]) -> None:
    to = _parameter(_operation(document, "listSessions"), "to")["description"]

    assert "at most 92 days" in to
    assert "not before `from`" in to


def test_the_register_states_that_from_and_to_go_together(document: dict[str, Any]) -> None:
    register = _operation(document, "getRegister")

    assert "not before `from`" in _parameter(register, "to")["description"]
    assert "together" in _parameter(register, "from")["description"]


@pytest.mark.parametrize(
    ("operation_id", "stated"),
    [
        ("markAttendance", "needs a ``reason``"),
        ("markAttendance", "Each student at most once"),
        ("createSession", "``end`` after ``start``"),
        ("updateSession", "``end`` must be after ``start``"),
        ("createSlot", "``end`` after ``start``"),
        ("updateSlot", "``end`` must be after ``start``"),
        ("createTerm", "``end`` not before ``start``"),
        ("updateTerm", "``end`` not before ``start``"),
    ],
)
def test_bodies_state_the_rules_between_their_fields(
    document: dict[str, Any], operation_id: str, stated: str
) -> None:
    assert stated in _operation(document, operation_id)["description"]
