"""What the handlers share: calling the synchronous use cases, and the ``201 Created``
answer.

A use case bounded by a few statements runs right on the event loop (:func:`run`): a hop
to a worker thread and back costs more than the statements themselves, and ``ams serve``
runs more processes than cores so that one process waiting on PostgreSQL does not idle a
core (ADR 0020). Work that may take long — hashing a password, asking Google, reading or
writing a workbook, solving a cover plan, a whole-institution report — goes to the thread
pool (:func:`run_in_thread`) so the process keeps answering meanwhile.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from litestar import Response
from litestar.status_codes import HTTP_201_CREATED

from ams_core.domain import ValidationError
from ams_http.schemas.common import Changes

R = TypeVar("R")
P = ParamSpec("P")


def created(body: R, location: str) -> Response[R]:
    """``201 Created`` with ``body`` and the new resource's ``Location``."""
    return Response(body, status_code=HTTP_201_CREATED, headers={"Location": location})


def _named(error: ValidationError, args: tuple[object, ...]) -> ValidationError:
    """A validation problem about a body's :class:`Changes` passed along, with the fields
    named as that body's table names them (the core uses the struct fields, the wire
    camelCase); any other problem as it is."""
    changes = next((arg for arg in args if isinstance(arg, Changes)), None)
    return error if changes is None else changes.named(error)


async def run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``fn(*args, **kwargs)`` on the event loop: a short use case (ADR 0020)."""
    try:
        return fn(*args, **kwargs)
    except ValidationError as error:
        raise _named(error, args) from None


async def run_in_thread(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``fn(*args, **kwargs)`` in the thread pool: work that may take long."""
    try:
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
    except ValidationError as error:
        raise _named(error, args) from None
