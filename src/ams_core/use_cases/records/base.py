"""Managing an institution's records: list (filtered, paged), get, create, update, delete.

Reference data (sections, students, faculty, subjects, teaching assignments, weekly slots,
terms) is managed through one *catalogue* per kind of record rather than five use-case
classes each: the five actions share their authorization, validation and paging, and a
catalogue keeps them in one place (ADR 0012). Fields arrive as a mapping of entity field
names (the HTTP edge fills it from a validated request); the catalogue refuses unknown or
read-only fields, builds the entity (its own validation runs), checks references and
stores it with optimistic locking.
"""

from __future__ import annotations

import dataclasses
import enum
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from ams_core.domain.errors import (
    ConcurrencyError,
    FieldProblem,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from ams_core.domain.identity import Principal
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_admin, tenant_of

K = TypeVar("K")
K_contra = TypeVar("K_contra", contravariant=True)
E = TypeVar("E")
T = TypeVar("T")

MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which slice of a list to return: ``limit`` items (1–500) after skipping ``offset``."""

    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            problems.append(FieldProblem("limit", f"must be 1 to {MAX_PAGE_SIZE}"))
        if self.offset < 0:
            problems.append(FieldProblem("offset", "must not be negative"))
        if problems:
            raise ValidationError(problems)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One slice of a list, with the size of the whole filtered list."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[T], page: PageRequest) -> Page[T]:
        """Cut ``page`` out of the complete, ordered ``items``."""
        return cls(
            tuple(items[page.offset : page.offset + page.limit]),
            len(items),
            page.limit,
            page.offset,
        )


class _Repository(Protocol[K_contra, E]):
    def find(self, key: K_contra) -> E | None: ...
    def add(self, entity: E) -> None: ...
    def update(self, entity: E) -> E: ...
    def remove(self, key: K_contra) -> bool: ...


def require_text(problems: list[FieldProblem], field: str, value: str, max_length: int) -> str:
    """Return ``value`` stripped, noting a problem if it is empty or longer than allowed."""
    text = value.strip()
    if not 0 < len(text) <= max_length:
        problems.append(FieldProblem(field, f"must be 1 to {max_length} characters"))
    return text


def require_exists(
    problems: list[FieldProblem], field: str, found: object | None, kind: str, key: object
) -> None:
    """Note a problem when a referenced record does not exist."""
    if found is None:
        problems.append(FieldProblem(field, f"no {kind} {key!s} in this institution"))


def require_version(kind: str, version: int | None, expected_version: int | None) -> None:
    """Refuse a change made on a stale read (optimistic locking); no expectation, no check."""
    if expected_version is not None and version != expected_version:
        raise ConcurrencyError(f"the {kind} was changed by someone else (now version {version})")


def raise_if(problems: list[FieldProblem]) -> None:
    """Raise one ValidationError naming every problem noted."""
    if problems:
        raise ValidationError(problems)


class Catalogue(Generic[K, E]):
    """List, get, create, update and delete one kind of record of the actor's institution.

    Reading is for admins and teachers unless a subclass says otherwise; writing is for
    admins. Another institution's record is never found (404), whatever the key.
    """

    kind: ClassVar[str]
    entity_type: ClassVar[type[Any]]
    key_field: ClassVar[str] = "id"
    #: Fields a create may give; the key may be omitted when ``generates_key`` is set.
    writable: ClassVar[frozenset[str]]
    #: Filters ``list`` accepts; a filter compares the attribute of that name for equality.
    filters: ClassVar[frozenset[str]] = frozenset()
    #: Whether a create without a key gets a fresh unique one.
    generates_key: ClassVar[bool] = False

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    @abstractmethod
    def _repository(self, uow: UnitOfWork) -> _Repository[K, E]:
        """The repository holding this kind of record."""

    @abstractmethod
    def _all(self, uow: UnitOfWork) -> Sequence[E]:
        """Every record of the institution, in the list order."""

    def _authorize_read(self, uow: UnitOfWork, actor: Principal) -> Callable[[E], bool]:
        """Refuse who may not read at all; return which records the actor may see."""
        if not (actor.is_admin or actor.is_faculty):
            raise PermissionDeniedError(f"only staff may see {self.kind} records")
        return lambda _entity: True

    def _authorize_write(self, uow: UnitOfWork, actor: Principal) -> None:
        require_admin(actor)

    def _prepare(self, uow: UnitOfWork, actor: Principal, new: E, old: E | None) -> E:
        """Validate references and normalise ``new`` before it is stored."""
        return new

    def _before_remove(self, uow: UnitOfWork, actor: Principal, entity: E) -> None:
        """Tidy what belongs to the record but is not history (bindings, credentials)."""

    def _derived(self, uow: UnitOfWork) -> Callable[[E, str], object] | None:
        """Filter values that are not attributes of the record (None: attributes only)."""
        return None

    def _text(self, entity: E) -> str:
        """What the free-text search ``query`` looks in."""
        return " ".join(str(getattr(entity, name, "")) for name in ("id", "name", "email"))

    def _now(self) -> datetime:
        return self._clock.now()

    def list(
        self,
        actor: Principal,
        filters: Mapping[str, object] | None = None,
        query: str | None = None,
        page: PageRequest | None = None,
    ) -> Page[E]:
        """Return the records matching every filter and containing ``query``, paged.

        Raises:
            PermissionDeniedError: the actor may not read this kind of record.
            ValidationError: an unknown filter.
        """
        wanted = {name: value for name, value in (filters or {}).items() if value is not None}
        unknown = sorted(set(wanted) - self.filters)
        raise_if([FieldProblem(name, "is not a filter of this list") for name in unknown])
        needle = (query or "").strip().casefold()
        with self._uow.for_institution(tenant_of(actor)) as uow:
            visible = self._authorize_read(uow, actor)
            derived = self._derived(uow)

            def value(entity: E, name: str) -> object:
                if derived is not None:
                    found = derived(entity, name)
                    if found is not None:
                        return found
                return getattr(entity, name, None)

            items = [
                entity
                for entity in self._all(uow)
                if visible(entity)
                and all(_matches(value(entity, n), v) for n, v in wanted.items())
                and (not needle or needle in self._text(entity).casefold())
            ]
            uow.commit()
        return Page.of(items, page or PageRequest())

    def get(self, actor: Principal, key: K) -> E:
        """Return one record.

        Raises:
            NotFoundError: no such record in the actor's institution.
            PermissionDeniedError: the actor may not read it.
        """
        with self._uow.for_institution(tenant_of(actor)) as uow:
            visible = self._authorize_read(uow, actor)
            entity = self._find(uow, key)
            if not visible(entity):
                raise PermissionDeniedError(f"you may not see this {self.kind}")
            uow.commit()
        return entity

    def create(self, actor: Principal, fields: Mapping[str, object]) -> E:
        """Create a record from ``fields`` and return it as stored.

        Raises:
            PermissionDeniedError: the actor is not an admin.
            ValidationError: unknown, missing or invalid fields, or a missing reference.
            ConflictError: the key (or another unique field) is taken.
        """
        institution_id = tenant_of(actor)
        values = dict(fields)
        raise_if(
            [
                FieldProblem(n, "is not a field of this record")
                for n in sorted(set(values) - self.writable)
            ]
        )
        if values.get(self.key_field) is None and self.generates_key:
            values[self.key_field] = self._random.new_id()
        with self._uow.for_institution(institution_id) as uow:
            self._authorize_write(uow, actor)
            entity = self._prepare(uow, actor, self._build(institution_id, values), None)
            self._repository(uow).add(entity)
            uow.commit()
        return entity

    def update(
        self,
        actor: Principal,
        key: K,
        changes: Mapping[str, object],
        expected_version: int | None = None,
    ) -> E:
        """Change some fields of a record; with ``expected_version``, only if nobody else
        changed it since that version was read.

        Raises:
            NotFoundError: no such record.
            PermissionDeniedError: the actor is not an admin.
            ValidationError: unknown, read-only or invalid fields.
            ConcurrencyError: the record changed since ``expected_version``.
        """
        changeable = self.writable - {self.key_field}
        raise_if([FieldProblem(n, "cannot be changed") for n in sorted(set(changes) - changeable)])
        with self._uow.for_institution(tenant_of(actor)) as uow:
            self._authorize_write(uow, actor)
            old = self._find(uow, key)
            require_version(self.kind, getattr(old, "version", None), expected_version)
            try:
                new = dataclasses.replace(old, **dict(changes))  # type: ignore[type-var]
            except TypeError as error:
                raise ValidationError(str(error)) from None
            prepared = self._prepare(uow, actor, new, old)
            # nothing changed: keep the version, so a no-op never fails another's update
            stored = old if prepared == old else self._repository(uow).update(prepared)
            uow.commit()
        return stored

    def delete(self, actor: Principal, key: K) -> None:
        """Delete a record that no history refers to.

        Raises:
            NotFoundError: no such record.
            PermissionDeniedError: the actor is not an admin.
            ConflictError: ``in_use`` while sessions, marks or other records refer to it.
        """
        with self._uow.for_institution(tenant_of(actor)) as uow:
            self._authorize_write(uow, actor)
            entity = self._find(uow, key)
            self._before_remove(uow, actor, entity)
            self._repository(uow).remove(key)
            uow.commit()

    def _find(self, uow: UnitOfWork, key: K) -> E:
        entity = self._repository(uow).find(key)
        if entity is None:
            raise NotFoundError(self.kind, key)
        return entity

    def _build(self, institution_id: object, values: dict[str, object]) -> E:
        missing = [
            f.name
            for f in dataclasses.fields(self.entity_type)
            if f.name not in values
            and f.name != "institution_id"
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        raise_if([FieldProblem(name, "is required") for name in missing])
        entity: E = self.entity_type(institution_id=institution_id, **values)
        return entity


def _matches(actual: object, wanted: object) -> bool:
    if isinstance(actual, enum.Enum):
        actual = actual.value
    if isinstance(wanted, enum.Enum):
        wanted = wanted.value
    if isinstance(actual, frozenset | set | tuple | list):
        return wanted in actual
    if isinstance(actual, str) and isinstance(wanted, str):
        return actual.casefold() == wanted.casefold()
    return actual == wanted
