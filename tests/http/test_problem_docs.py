"""The OpenAPI document lists the problem answers of every operation, and Idempotency-Key.

New handlers declare theirs with ``responses=problems(...)`` (``ams_http.openapi``); a
state-changing one under ``/api/v1/`` also ``operation_class=IdempotentOperation``.
"""

from __future__ import annotations

from typing import Any

import pytest

from ams_http.edge.idempotency import applies_to
from ams_http.openapi import SIGNED_IN
from tests.http.conftest import World

PROBLEM = "application/problem+json"
OPEN = {"/api/v1/auth/google", "/api/v1/auth/password", "/api/v1/auth/refresh"}


@pytest.fixture
def document(world: World) -> dict[str, Any]:
    answer = world.client.get("/schema/openapi.json")
    assert answer.status_code == 200
    return dict(answer.json())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "put", "post", "patch", "delete")
    ]


def test_the_problem_schema(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["Problem"]
    assert set(schema["required"]) >= {"type", "title", "status", "detail", "code"}
    assert {"errors", "attemptsLeft"} <= set(schema["properties"])


def test_every_api_operation_documents_its_problems(document: dict[str, Any]) -> None:
    missing: dict[str, list[int]] = {}
    for method, path, operation in _operations(document):
        if not path.startswith("/api/v1/"):
            continue
        responses = operation["responses"]
        expected = (400, 401, 422, 429, 503) if path in OPEN else SIGNED_IN
        absent = [status for status in expected if str(status) not in responses]
        if absent:
            missing[f"{method} {path}"] = absent
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == [PROBLEM], (method, path, status)
                schema = response["content"][PROBLEM]["schema"]
                assert schema["$ref"].endswith("Problem"), (method, path, status)
    assert not missing, f"operations without their problem answers: {missing}"


def test_state_changing_operations_document_idempotency_key(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert ("Idempotency-Key" in headers) == applies_to(method, path), (method, path)
        if applies_to(method, path):
            assert {"400", "409", "422"} <= set(operation["responses"]), (method, path)


def test_the_readiness_problem_and_the_workbook_are_documented(
    document: dict[str, Any],
) -> None:
    ready = document["paths"]["/health/ready"]["get"]["responses"]["503"]
    assert ready["content"][PROBLEM]["schema"]["$ref"].endswith("NotReadyProblem")
    defaulters = document["paths"]["/api/v1/reports/defaulters"]["get"]
    content = defaulters["responses"]["200"]["content"]
    assert content["application/json"]["schema"]["$ref"].endswith("DefaultersOut")
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in content
    names = {p["name"] for p in defaulters["parameters"]}
    assert {"sectionId", "subjectCode", "threshold"} <= names
