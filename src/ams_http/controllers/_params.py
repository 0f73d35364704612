"""What the management controllers share: query parameters, problem sets and the shapes of
the list, create, get, update and delete handlers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Protocol, TypeVar

from litestar.params import QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from ams_core.domain import Principal
from ams_core.use_cases import Catalogue, PageRequest
from ams_http.controllers._run import run
from ams_http.openapi import IDEMPOTENT, INPUT, SIGNED_IN, IdempotentOperation, problems
from ams_http.schemas.common import Changes

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (at most 500)")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="items to skip")]
Search = Annotated[
    str | None,
    QueryParameter(name="q", max_length=200, description="free text (id, name, email …)"),
]

READ = problems(*SIGNED_IN, *INPUT, 403, 404)
WRITE = problems(*SIGNED_IN, *IDEMPOTENT, 403, 404, 409, 413)
REMOVE = problems(*SIGNED_IN, *IDEMPOTENT, 403, 404)


def page_request(limit: int, offset: int) -> PageRequest:
    """The page the ``limit`` and ``offset`` query parameters ask for."""
    return PageRequest(limit=limit, offset=offset)


#: the handler shapes of a managed resource (``@get(operation_id=..., **READS)``)
READS: Mapping[str, Any] = {"responses": READ}
CREATES: Mapping[str, Any] = {
    "status_code": HTTP_201_CREATED,
    "operation_class": IdempotentOperation,
    "responses": WRITE,
}
UPDATES: Mapping[str, Any] = {"operation_class": IdempotentOperation, "responses": WRITE}
DELETES: Mapping[str, Any] = {
    "status_code": HTTP_204_NO_CONTENT,
    "operation_class": IdempotentOperation,
    "responses": REMOVE,
}


def acts(status_code: int = 200, *, body: bool = True) -> Mapping[str, Any]:
    """The shape of a handler that does something (``@post(..., **acts())``): idempotent
    under an ``Idempotency-Key``, answering ``status_code``; ``body`` if it takes one (413)."""
    too_large = (413,) if body else ()
    return {
        "status_code": status_code,
        "operation_class": IdempotentOperation,
        "responses": problems(*SIGNED_IN, *IDEMPOTENT, 403, 404, *too_large),
    }


K = TypeVar("K")
E = TypeVar("E")


class Patch(Protocol):
    """A patch body: the changes, and the version the client read (if it sent one)."""

    @property
    def version(self) -> int | None: ...

    def changes(self) -> Changes: ...


async def updated(catalogue: Catalogue[K, E], actor: Principal, key: K, data: Patch) -> E:
    """Apply a patch body to the record ``key`` (409 if it is no longer ``data.version``)."""
    return await run(catalogue.update, actor, key, data.changes(), expected_version=data.version)
