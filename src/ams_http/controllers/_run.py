"""What the handlers share: running synchronous use cases from async code, and the
``201 Created`` answer."""

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


async def run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``fn(*args, **kwargs)`` in the thread pool: the ports are synchronous (ADR 0002).

    A validation problem about a body's :class:`Changes` passed along names the fields as
    that body's table does (the core names them as the struct fields, the wire in camelCase).
    """
    try:
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
    except ValidationError as error:
        changes = next((arg for arg in args if isinstance(arg, Changes)), None)
        if changes is None:
            raise
        raise changes.named(error) from None
