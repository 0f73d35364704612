"""A managed resource's five handlers — list, create, get, update, delete — written once.

A resource states only what differs: its path and tags, its key, its catalogue, its wire
structs, the filters its list takes and the sentences its operations are documented with.
:func:`resource_controller` makes the Litestar ``Controller``. The handlers get real
signatures, so Litestar validates and documents their parameters and dishka injects the
principal and the catalogue exactly as for a handler written out by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from inspect import Parameter, Signature, cleandoc
from typing import Annotated, Any, Generic, TypeVar

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from ams_core.domain import Principal
from ams_core.use_cases import Catalogue
from ams_http.controllers._params import (
    CREATES,
    DELETES,
    READS,
    UPDATES,
    Limit,
    Offset,
    Search,
    page_request,
    updated,
)
from ams_http.controllers._run import created, run
from ams_http.schemas.common import counts

# The forms applied to a resource's own types at run time (mypy sees these as values).
_FROM_DISHKA: Any = FromDishka
_JSON_BODY: Any = JSONBody
_RESPONSE: Any = Response
_ACTOR = ("actor", _FROM_DISHKA[Principal], Parameter.empty)

K = TypeVar("K")
E = TypeVar("E")


@dataclass(frozen=True)
class ListFilter:
    """A query parameter of the list handler, handed to the catalogue as a filter.

    ``annotation`` is the parameter's type with its ``QueryParameter`` (the wire name and
    bounds); ``field`` is the catalogue's filter when it is not ``name``; ``convert`` turns a
    given value into the filter's value.
    """

    name: str
    annotation: Any
    field: str = ""
    convert: Callable[[Any], object] | None = None

    def value(self, given: object) -> object:
        """The filter's value for what the client sent (``None``: not filtered)."""
        if given is None or self.convert is None:
            return given
        return self.convert(given)


@dataclass(frozen=True, kw_only=True)
class ResourceDocs:
    """The description of each operation, as the OpenAPI document shows it."""

    list: str
    create: str
    get: str
    update: str
    delete: str


@dataclass(frozen=True, kw_only=True)
class Resource(Generic[K, E]):
    """One kind of record the management API lists, creates, reads, patches and deletes.

    ``singular`` and ``plural`` name the operations (``getSection``, ``listSections``);
    ``key`` is the path parameter (``section_id``), ``key_type`` makes the core's key of it
    and ``entity_key`` gives a record's key for its ``Location``. ``out`` renders a record
    (``Out.of``), ``page_out`` a page of them; ``body`` is the create body and
    ``patch_body`` the patch body.
    """

    path: str
    tags: Sequence[str]
    doc: str
    singular: str
    plural: str
    key: str
    key_description: str
    key_type: Callable[[str], K]
    entity_key: Callable[[E], str]
    catalogue: type[Catalogue[K, E]]
    out: Any
    page_out: Any
    body: Any
    patch_body: Any
    docs: ResourceDocs
    filters: Sequence[ListFilter] = field(default=())


def resource_controller(resource: Resource[K, E]) -> type[Controller]:
    """The ``Controller`` serving ``resource``'s list, create, get, update and delete."""
    r = resource
    key_path = f"/{{{r.key}:str}}"
    handlers = {
        f"list_{r.plural.lower()}": get(operation_id=f"list{r.plural}", **READS)(_list(r)),
        f"create_{r.singular.lower()}": post(operation_id=f"create{r.singular}", **CREATES)(
            _create(r)
        ),
        f"get_{r.singular.lower()}": get(key_path, operation_id=f"get{r.singular}", **READS)(
            _get(r)
        ),
        f"update_{r.singular.lower()}": patch(
            key_path, operation_id=f"update{r.singular}", **UPDATES
        )(_update(r)),
        f"delete_{r.singular.lower()}": delete(
            key_path, operation_id=f"delete{r.singular}", **DELETES
        )(_delete(r)),
    }
    namespace: dict[str, object] = {"path": r.path, "tags": list(r.tags), "__doc__": r.doc}
    return type(f"{r.singular}Controller", (Controller,), {**namespace, **handlers})


def _list(r: Resource[K, E]) -> Callable[..., Any]:
    async def list_records(
        actor: Principal,
        catalogue: Catalogue[K, E],
        text: str | None,
        limit: int,
        offset: int,
        **given: object,
    ) -> Any:
        filters = {f.field or f.name: f.value(given[f.name]) for f in r.filters} or None
        page = await run(catalogue.list, actor, filters, text, page_request(limit, offset))
        return r.page_out(items=[r.out.of(record) for record in page.items], **counts(page))

    filters = [(f.name, f.annotation, None) for f in r.filters]
    return _handler(
        f"list_{r.plural.lower()}",
        r.docs.list,
        list_records,
        [
            _ACTOR,
            ("catalogue", _FROM_DISHKA[r.catalogue], Parameter.empty),
            *filters,
            ("text", Search, None),
            ("limit", Limit, 50),
            ("offset", Offset, 0),
        ],
        r.page_out,
    )


def _create(r: Resource[K, E]) -> Callable[..., Any]:
    async def create_record(actor: Principal, data: Any, catalogue: Catalogue[K, E]) -> Any:
        record = await run(catalogue.create, actor, data.changes())
        return created(r.out.of(record), f"{r.path}/{r.entity_key(record)}")

    return _handler(
        f"create_{r.singular.lower()}",
        r.docs.create,
        create_record,
        [
            _ACTOR,
            ("data", _JSON_BODY[r.body], Parameter.empty),
            ("catalogue", _FROM_DISHKA[r.catalogue], Parameter.empty),
        ],
        _RESPONSE[r.out],
    )


def _get(r: Resource[K, E]) -> Callable[..., Any]:
    async def get_record(actor: Principal, key: str, catalogue: Catalogue[K, E]) -> Any:
        return r.out.of(await run(catalogue.get, actor, r.key_type(key)))

    return _handler(
        f"get_{r.singular.lower()}", r.docs.get, _keyed(r, get_record), _key_params(r), r.out
    )


def _update(r: Resource[K, E]) -> Callable[..., Any]:
    async def update_record(
        actor: Principal, key: str, data: Any, catalogue: Catalogue[K, E]
    ) -> Any:
        return r.out.of(await updated(catalogue, actor, r.key_type(key), data))

    actor, key, catalogue = _key_params(r)
    body = ("data", _JSON_BODY[r.patch_body], Parameter.empty)
    return _handler(
        f"update_{r.singular.lower()}",
        r.docs.update,
        _keyed(r, update_record),
        [actor, key, body, catalogue],
        r.out,
    )


def _delete(r: Resource[K, E]) -> Callable[..., Any]:
    async def delete_record(actor: Principal, key: str, catalogue: Catalogue[K, E]) -> None:
        await run(catalogue.delete, actor, r.key_type(key))

    return _handler(
        f"delete_{r.singular.lower()}",
        r.docs.delete,
        _keyed(r, delete_record),
        _key_params(r),
        None,
    )


_Param = tuple[str, Any, Any]


def _key_params(r: Resource[K, E]) -> list[_Param]:
    """The principal, the path key and the catalogue: what a handler of one record takes."""
    key = Annotated[str, PathParameter(max_length=64, description=r.key_description)]
    return [
        _ACTOR,
        (r.key, key, Parameter.empty),
        ("catalogue", _FROM_DISHKA[r.catalogue], Parameter.empty),
    ]


def _keyed(r: Resource[K, E], body: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """``body`` taking the path key as ``key`` whatever the resource calls it."""

    async def with_key(**arguments: Any) -> Any:
        return await body(key=arguments.pop(r.key), **arguments)

    return with_key


def _handler(
    name: str,
    doc: str,
    body: Callable[..., Awaitable[Any]],
    params: Sequence[_Param],
    returns: Any,
) -> Callable[..., Any]:
    """A controller method named ``name`` with exactly ``params``, calling ``body``."""

    async def handler(self: Controller, **arguments: Any) -> Any:
        return await body(**arguments)

    signature = [Parameter("self", Parameter.POSITIONAL_OR_KEYWORD)]
    signature += [
        Parameter(param, Parameter.POSITIONAL_OR_KEYWORD, annotation=kind, default=default)
        for param, kind, default in params
    ]
    handler.__signature__ = Signature(signature, return_annotation=returns)  # type: ignore[attr-defined]
    handler.__annotations__ = {param: kind for param, kind, _ in params} | {"return": returns}
    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = cleandoc(doc)
    return inject(handler)
