"""What the management bodies share: the text and number types, the paging counts, and
``ChangeBody`` (a create or patch body, whose fields the core names as the struct does and
the wire in camelCase: one table, used both ways).

Create bodies carry the writable fields of a record (the key is optional where the server
generates one); patch bodies carry only the fields to change: a field left out keeps its
value (``UNSET``), ``null`` clears a nullable one. ``version`` in a patch body is the
version the client read; the change is refused with ``409 concurrent_update`` if the record
changed since.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Mapping
from datetime import time
from typing import Annotated, Any, ClassVar, TypedDict

import msgspec
from msgspec import UNSET, UnsetType

from ams_core.domain import (
    FieldProblem,
    ValidationError,
)
from ams_core.use_cases import Page
from ams_http.schemas.base import CamelBody

NameText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LabelText = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
VenueText = Annotated[str, msgspec.Meta(max_length=100)]
CoverCap = Annotated[int, msgspec.Meta(ge=0, le=50)]
Version = Annotated[int, msgspec.Meta(ge=0)]


def local_time(field: str, text: str) -> time:
    """Parse a local ``HH:MM[:SS]`` time, naming ``field`` when it is not a time of day."""
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValidationError([FieldProblem(field, f"{text!r} is not a time of day")]) from None


#: local times already written, by value: a week's schedule writes ~60, from a few slots
_TIME_TEXTS: dict[time, str] = {}
#: at most this many kept (a day has 1,440 minutes; a class starting at odd seconds is rare)
TIME_TEXTS_KEPT = 4096


def time_text(value: time) -> str:
    """A local (naive) time's wire form, ``HH:MM:SS`` (``time.isoformat``), remembered:
    ``isoformat`` formats through ``printf`` each time, a dictionary answers at once."""
    text = _TIME_TEXTS.get(value) if value.tzinfo is None else None
    if text is None:
        text = value.isoformat()
        if value.tzinfo is None and len(_TIME_TEXTS) < TIME_TEXTS_KEPT:
            _TIME_TEXTS[value] = text
    return text


def local_times(**texts: str | UnsetType) -> dict[str, time]:
    """Parse the local times given (``start="09:00"``), naming every one that is not a time."""
    times: dict[str, time] = {}
    problems: list[FieldProblem] = []
    for field, text in texts.items():
        if isinstance(text, UnsetType):
            continue
        try:
            times[field] = local_time(field, text)
        except ValidationError as error:
            problems.extend(error.problems)
    if problems:
        raise ValidationError(problems)
    return times


def given(
    body: msgspec.Struct,
    convert: Mapping[str, Callable[[Any], object]] | None = None,
    *,
    skip: frozenset[str] = frozenset({"version"}),
) -> dict[str, object]:
    """The fields the client set (snake_case, as the core names them), converted."""
    convert = convert or {}
    fields: dict[str, object] = {}
    problems: list[FieldProblem] = []
    for name in body.__struct_fields__:
        value = getattr(body, name)
        if name in skip or value is UNSET:
            continue
        try:
            fields[name] = convert[name](value) if name in convert and value is not None else value
        except ValidationError as error:
            problems.extend(error.problems)
    if problems:
        raise ValidationError(problems)
    return fields


class Changes(dict[str, object]):
    """The fields a body sets, by the core's names; a validation problem about them is named
    as the body's wire names them (``sectionId``, ``cover.maxCoversPerDay``).
    """

    def __init__(self, fields: Mapping[str, object], wire: Mapping[str, str]) -> None:
        super().__init__(fields)
        self.wire = wire

    def named(self, error: ValidationError) -> ValidationError:
        """``error`` with every field it names spelled as on the wire."""
        problems = [
            FieldProblem(self.wire.get(p.field, p.field), p.message) for p in error.problems
        ]
        return ValidationError(problems, code=error.code)


class ChangeBody(CamelBody):
    """A create or patch body. ``convert`` turns a wire value into the core's (by field);
    :meth:`changes` are the fields the client set, for the core.
    """

    convert: ClassVar[Mapping[str, Callable[[Any], object]]] = {}

    def changes(self) -> Changes:
        """The fields the client set (``version`` aside), converted, by the core's names."""
        return Changes(given(self, self.convert), wire_names(type(self)))


@functools.cache
def wire_names(body: type[msgspec.Struct]) -> Mapping[str, str]:
    """The table of a body's fields: the core's name → the wire's, nested bodies included."""
    names = dict(zip(body.__struct_fields__, body.__struct_encode_fields__, strict=True))
    hints = typing.get_type_hints(body, include_extras=False)
    for field, wire in list(names.items()):
        for nested in typing.get_args(hints.get(field)) or (hints.get(field),):
            if isinstance(nested, type) and issubclass(nested, ChangeBody):
                names.update({f"{field}.{k}": f"{wire}.{v}" for k, v in wire_names(nested).items()})
    return names


class PageCounts(TypedDict):
    """The paging members every list answer carries next to its ``items``."""

    total: int
    limit: int
    offset: int


def counts(page: Page[Any]) -> PageCounts:
    """The paging members of a page."""
    return PageCounts(total=page.total, limit=page.limit, offset=page.offset)
