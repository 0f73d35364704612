"""Property run over every operation of ``/schema/openapi.json`` (schemathesis v4).

The schema is read from the running app; each generated case is sent through the world's
Litestar test client (signed in as ``a.admin`` or ``a.student``) and the answer checked
by schemathesis: no 5xx, and status, content type, headers and body as documented
(problem answers included: every operation lists them as ``application/problem+json``).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import BaseSchema
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.http.conftest import World, empty_app

MAX_EXAMPLES = 10
BASE_URL = "http://testserver.local"


#: the app's OpenAPI document (it does not depend on the data, so an empty store will do)
schema: BaseSchema = schemathesis.openapi.from_dict(empty_app().openapi_schema.to_schema())


def _wire(value: str | bytes) -> bytes:
    """A header value as bytes: negative cases send non-ASCII values httpx would refuse."""
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode()


def _send(world: World, case: Any, who: str) -> None:
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=world.headers(who))
    headers = {name: _wire(value) for name, value in (kwargs.get("headers") or {}).items()}
    request: dict[str, Any] = {"headers": headers, "params": kwargs.get("params")}
    assert not kwargs.get("cookies")  # the API documents no cookie parameter
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]
    response = world.client.request(kwargs["method"], kwargs["url"], **request)
    assert response.status_code < 500, response.text
    # Every operation documents its problem statuses (application/problem+json), so the
    # status, content-type, header and schema conformance checks all run; the replaying
    # checks (e.g. "accepts requests without authentication") need a real server.
    case.validate_response(
        response,
        headers=world.headers(who),
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
        ],
    )


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_as_an_admin(case: Any, world: World) -> None:
    _send(world, case, "a.admin")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_as_a_student(case: Any, world: World) -> None:
    _send(world, case, "a.student")


#: the run on PostgreSQL, connected as the API's login under row-level security
PG_EXAMPLES = 5


@pytest.mark.postgres
@pytest.mark.parametrize("who", ["a.student", "a.cr", "a.faculty", "a.admin"])
@schema.parametrize()
@settings(
    max_examples=PG_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_on_postgres_for_each_role(case: Any, pg_world: World, who: str) -> None:
    _send(pg_world, case, who)
