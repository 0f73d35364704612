"""How a handler gets its use case: through dishka's request scope, or — on the busiest
routes — from a recipe read once at start.

Most handlers take their use case and the principal as ``FromDishka[...]`` parameters;
:class:`RequestScopeMiddleware` opens dishka's request scope for them once the request is
authenticated and within its limits (a refused request opens none).

A check-in, a student's schedule and a teacher's dashboard are most of what a college's
phones ask for, and opening a request scope and resolving a use case through it cost such a
request about 0.1 ms of server CPU under load (ADR 0020): more than the use case's own
rules. Their routes are marked ``opt={NO_REQUEST_SCOPE: True}`` and build their use case
with :func:`build`: a new unit of work per request, the only request-scoped thing they need,
and every other constructor argument (the clock, the random source, ...) resolved once at
start from the same container. The composition stays dishka's: the recipe asks the
container for each argument by its annotated type, and a use case that would need anything
else a request scope gives is refused at start, not at its first request.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar, get_type_hints

from dishka import AsyncContainer
from dishka import Scope as DIScope
from litestar import Litestar, Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from ams_core.ports import UnitOfWork, UnitOfWorkFactory

#: the route ``opt`` key of a handler that opens no request scope (it uses :func:`build`)
NO_REQUEST_SCOPE = "no_request_scope"
#: where the app's state keeps its :class:`PrebuiltUseCases`
STATE_KEY = "prebuilt_use_cases"

U = TypeVar("U")


class RequestScopeMiddleware:
    """Open dishka's request scope around the handler, unless its route is marked
    :data:`NO_REQUEST_SCOPE` (``request.state.dishka_container``, as dishka's Litestar
    integration expects)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["route_handler"].opt.get(NO_REQUEST_SCOPE):
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope)
        parent: AsyncContainer = request.app.state.dishka_container
        async with parent({Request: request}, scope=DIScope.REQUEST) as container:
            request.state.dishka_container = container
            try:
                await self.app(scope, receive, send)
            finally:
                # the container holds the request, whose state holds the container: let go,
                # so both are freed with the request instead of by the garbage collector
                del request.state.dishka_container


class _NewUnitOfWork:
    """Stands in a recipe for the unit of work each build opens."""


_NEW_UNIT_OF_WORK = _NewUnitOfWork()


class PrebuiltUseCases:
    """Use cases built per request without a request scope, from recipes read at start."""

    def __init__(
        self, new_unit_of_work: UnitOfWorkFactory, recipes: Mapping[type[Any], tuple[object, ...]]
    ) -> None:
        self._new_unit_of_work = new_unit_of_work
        self._recipes = dict(recipes)

    @classmethod
    async def resolve(
        cls, container: AsyncContainer, kinds: Iterable[type[Any]]
    ) -> PrebuiltUseCases:
        """Read each use case's constructor and resolve its arguments from ``container``
        (its app scope), except the unit of work, which each build opens anew.

        Raises:
            dishka's ``NoFactoryError``: an argument only a request scope could give.
        """
        recipes: dict[type[Any], tuple[object, ...]] = {}
        for kind in kinds:
            hints = get_type_hints(kind.__init__)
            arguments: list[object] = []
            for name in inspect.signature(kind).parameters:
                wanted = hints[name]
                if wanted is UnitOfWork:
                    arguments.append(_NEW_UNIT_OF_WORK)
                else:
                    arguments.append(await container.get(wanted))
            recipes[kind] = tuple(arguments)
        return cls(await container.get(UnitOfWorkFactory), recipes)

    def build(self, kind: type[U]) -> U:
        """A new ``kind`` over a new unit of work (``KeyError``: not prebuilt)."""
        return kind(
            *(
                self._new_unit_of_work() if argument is _NEW_UNIT_OF_WORK else argument
                for argument in self._recipes[kind]
            )
        )


def prebuild(*kinds: type[Any]) -> Callable[[Litestar], Awaitable[None]]:
    """An ``on_startup`` hook preparing ``kinds`` for :func:`build`."""

    async def prepare(app: Litestar) -> None:
        app.state[STATE_KEY] = await PrebuiltUseCases.resolve(app.state.dishka_container, kinds)

    return prepare


def build(request: Request[Any, Any, Any], kind: type[U]) -> U:
    """The use case ``kind`` for this request, built without a request scope."""
    prebuilt: PrebuiltUseCases = request.app.state[STATE_KEY]
    return prebuilt.build(kind)
