"""OpenAPI documentation of what every operation can answer besides its success.

Handlers list their problem statuses with ``responses=problems(...)``; every status comes
with ``application/problem+json`` and the ``Problem`` schema (RFC 9457 plus the stable
``code``; ``errors`` on validation problems). State-changing operations that honour
``Idempotency-Key`` use ``operation_class=IdempotentOperation``, which documents the header.
The document requires a bearer token everywhere; operations on ``auth.OPEN_PATHS`` say
otherwise with ``operation_class=PublicOperation``. ``ClosedStructSchemaPlugin`` marks the
schema of every struct that refuses unknown fields with ``additionalProperties: false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

import msgspec
from litestar.enums import ParamType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

from ams_http.problems import PROBLEM_MEDIA_TYPE

#: the statuses every signed-in operation can answer (no token, rate limit, store down)
SIGNED_IN = (401, 429, 503)
#: what honouring ``Idempotency-Key`` adds to a state-changing operation
IDEMPOTENT = (400, 409, 422)
#: what an operation with parameters or a body can answer on malformed input
INPUT = (400, 422)

_DESCRIPTIONS = {
    400: "Bad request: malformed syntax, a wrong check-in code or an invalid Idempotency-Key",
    401: "Not signed in: the bearer token is missing, invalid, expired or revoked",
    403: "Signed in but not allowed to do this",
    404: "Not found (or belongs to another institution)",
    406: "None of the media types in Accept can be produced",
    409: "Conflicts with the stored state, or the same Idempotency-Key is still in flight",
    413: "The request body is too large",
    415: "Unsupported request media type",
    422: "Invalid input (see `errors`), or an Idempotency-Key reused for another request",
    429: "Too many requests: see `Retry-After`",
    503: "A backing service is unavailable right now: see `Retry-After`",
}


class FieldErrorOut(msgspec.Struct, kw_only=True):
    field: str
    message: str


class ClashOut(msgspec.Struct, kw_only=True, rename={"with_": "with"}):
    """One double booking of a ``schedule_conflict``: teacher, section or venue."""

    kind: str
    with_: str


class Problem(msgspec.Struct, kw_only=True, rename="camel"):
    """An RFC 9457 problem with the stable ``code`` the client switches on."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str
    errors: list[FieldErrorOut] | msgspec.UnsetType = msgspec.UNSET
    attempts_left: int | msgspec.UnsetType | None = msgspec.UNSET
    clashes: list[ClashOut] | msgspec.UnsetType = msgspec.UNSET


class CheckOut(msgspec.Struct, kw_only=True, rename="camel"):
    name: str
    ok: bool
    detail: str
    latency_ms: float | None


class NotReadyProblem(Problem, kw_only=True):
    """The readiness problem: ``checks`` names every dependency and whether it answered."""

    checks: list[CheckOut]


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem responses of an operation, ``application/problem+json`` each."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            generate_examples=False,
            description=_DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            media_type=PROBLEM_MEDIA_TYPE,
        )
        for status in sorted(set(statuses))
    }


def not_ready_problem() -> dict[int, ResponseSpec]:
    """The 503 answer of the readiness probe."""
    return {
        503: ResponseSpec(
            data_container=NotReadyProblem,
            generate_examples=False,
            description="A dependency did not answer; `checks` says which (see `Retry-After`)",
            media_type=PROBLEM_MEDIA_TYPE,
        )
    }


IDEMPOTENCY_KEY = Parameter(
    name="Idempotency-Key",
    param_in=ParamType.HEADER,
    required=False,
    description=(
        "Any unique string (e.g. a UUID) per intended change: a retry with the same key and "
        "the same request within 24 hours gets the first answer again (header "
        "`Idempotent-Replayed: true`) without doing it twice."
    ),
    schema=Schema(
        type=OpenAPIType.STRING,
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$",
    ),
)


@dataclass
class IdempotentOperation(Operation):
    """An operation that honours ``Idempotency-Key`` (documented as a header parameter)."""

    def __post_init__(self) -> None:
        parameters = list(self.parameters or [])
        if not any(getattr(p, "name", None) == IDEMPOTENCY_KEY.name for p in parameters):
            parameters.append(IDEMPOTENCY_KEY)
        self.parameters = parameters


@dataclass
class PublicOperation(Operation):
    """An operation that needs no token: ``security: []`` lifts the document's bearer default.

    (A route's ``security=[]`` is dropped by Litestar, so the document would still say bearer.)
    """

    def __post_init__(self) -> None:
        self.security = []


class ClosedStructSchemaPlugin(OpenAPISchemaPlugin):
    """``additionalProperties: false`` on the schema of a struct with ``forbid_unknown_fields``.

    The schema itself comes from the next plugin that handles the struct (Litestar's own).
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        if field_definition.is_union or not field_definition.is_subclass_of(msgspec.Struct):
            return False
        config = getattr(field_definition.type_, "__struct_config__", None)
        return bool(getattr(config, "forbid_unknown_fields", False))

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        inner = next(
            plugin
            for plugin in schema_creator.plugins
            if plugin is not self and schema_creator.plugin_supports_field(plugin, field_definition)
        )
        schema = inner.to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema


def with_alternative_media_type(media_type: str, description: str) -> type[Operation]:
    """An operation whose success answer also comes as ``media_type`` (chosen by ``Accept``)."""

    @dataclass
    class AlternativeMediaTypeOperation(Operation):
        def __post_init__(self) -> None:
            for status, response in (self.responses or {}).items():
                if status.startswith("2") and isinstance(response, OpenAPIResponse):
                    response.content = dict(response.content or {})
                    response.content[media_type] = OpenAPIMediaType(
                        schema=Schema(
                            type=OpenAPIType.STRING,
                            format=OpenAPIFormat.BINARY,
                            content_media_type=media_type,
                        )
                    )
                    response.description = f"{response.description}. {description}"

    return AlternativeMediaTypeOperation


__all__ = [
    "IDEMPOTENT",
    "INPUT",
    "SIGNED_IN",
    "ClosedStructSchemaPlugin",
    "IdempotentOperation",
    "NotReadyProblem",
    "Problem",
    "PublicOperation",
    "not_ready_problem",
    "problems",
    "with_alternative_media_type",
]
