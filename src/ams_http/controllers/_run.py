"""What the handlers share: running synchronous use cases from async code, and the
``201 Created`` answer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from litestar import Response
from litestar.status_codes import HTTP_201_CREATED

from ams_core.domain import FieldProblem, ValidationError

C = TypeVar("C")
R = TypeVar("R")
P = ParamSpec("P")


def created(body: R, location: str) -> Response[R]:
    """``201 Created`` with ``body`` and the new resource's ``Location``."""
    return Response(body, status_code=HTTP_201_CREATED, headers={"Location": location})


async def run(use_case: Callable[[C], R], command: C) -> R:
    """Call the use case in the thread pool: the ports are synchronous (ADR 0002)."""
    return await anyio.to_thread.run_sync(use_case, command)


async def run_call(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``fn(*args, **kwargs)`` in the thread pool (use-case methods with several
    arguments, such as ``catalogue.update(actor, key, changes, expected_version=...)``).
    """
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


def wire_name(field: str) -> str:
    """A core field path (``cover.max_covers_per_day``) as the wire spells it
    (``cover.maxCoversPerDay``).
    """
    return ".".join(_camel(part) for part in field.split("."))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


async def run_wire(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """:func:`run_call`, with the fields a validation problem names spelled as on the wire
    (the core names entity fields in snake_case, the JSON bodies in camelCase).
    """
    try:
        return await run_call(fn, *args, **kwargs)
    except ValidationError as error:
        problems = [FieldProblem(wire_name(p.field), p.message) for p in error.problems]
        raise ValidationError(problems, code=error.code) from None
