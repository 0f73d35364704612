"""The scope of a unit of work, written once for every persistence adapter (stdlib only).

A unit of work is opened for one institution (``for_institution``) or for the whole
platform (``for_platform``) and then entered. Repositories ask it for the institution of the
open transaction (``tenant()``) or whether it is platform-wide (``is_platform()``).

An adapter's transaction class inherits :class:`ScopedTransaction` and supplies:

- ``_in_transaction()``: whether a transaction is open;
- ``scope_error``: the exception class raised when a repository is used in the wrong
  scope, called as ``scope_error(message, code=...)`` (the adapters pass ``ams_core``'s
  ``PermissionDeniedError``; this module imports nothing outside the standard library).

and calls ``_init_scope()`` in ``__init__``, ``_require_scope_chosen()`` then
``_require_idle()`` in ``__enter__``, and ``_end_scope()`` when the transaction ends::

    class MemoryTransaction(ScopedTransaction[InstitutionId]):
        scope_error = PermissionDeniedError

        def __init__(self) -> None:
            self._init_scope()
            self._log = None

        def _in_transaction(self) -> bool:
            return self._log is not None
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import ClassVar, Generic, Self, TypeVar

InstitutionT = TypeVar("InstitutionT")

#: the message for a repository used outside ``with uow.for_institution(...)``
NO_TRANSACTION = "use the repositories inside `with uow.for_institution(...)`"


class _Unscoped(enum.Enum):
    """The scopes that name no institution."""

    UNSET = "unset"
    PLATFORM = "platform"


class ScopedTransaction(Generic[InstitutionT]):
    """Mixin: the institution-or-platform scope of a transaction and its checks."""

    #: builds the error for a repository used in the wrong scope: ``(message, code=...)``
    scope_error: ClassVar[Callable[..., Exception]]

    _scope: InstitutionT | _Unscoped

    # -- for the adapter's transaction class ----------------------------------------------
    def _init_scope(self) -> None:
        """Start with no scope chosen (call from ``__init__``)."""
        self._scope = _Unscoped.UNSET

    def _in_transaction(self) -> bool:
        """Whether a transaction is open (the adapter says how it knows)."""
        raise NotImplementedError

    def _require_idle(self) -> None:
        """Refuse to change the scope or enter again while a transaction is open."""
        if self._in_transaction():
            raise RuntimeError("this unit of work is already in a transaction")

    def _require_scope_chosen(self) -> None:
        """Refuse to enter before ``for_institution()`` or ``for_platform()``."""
        if self._scope is _Unscoped.UNSET:
            raise RuntimeError("call for_institution() or for_platform() before entering")

    def _require_transaction(self) -> None:
        """Refuse repository use outside an open transaction."""
        if not self._in_transaction():
            raise RuntimeError(NO_TRANSACTION)

    def _end_scope(self) -> None:
        """Forget the scope (the transaction is over, or failed to start)."""
        self._scope = _Unscoped.UNSET

    @property
    def scoped_institution(self) -> InstitutionT | None:
        """The chosen institution, without checks; None when unset or platform-wide."""
        return None if isinstance(self._scope, _Unscoped) else self._scope

    # -- the unit of work's API --------------------------------------------------------------
    def for_institution(self, institution_id: InstitutionT) -> Self:
        """Scope the next transaction to one institution."""
        self._require_idle()
        self._scope = institution_id
        return self

    def for_platform(self) -> Self:
        """Scope the next transaction to the whole platform."""
        self._require_idle()
        self._scope = _Unscoped.PLATFORM
        return self

    # -- used by the repositories ----------------------------------------------------------
    def tenant(self) -> InstitutionT:
        """The institution of the open transaction."""
        scope = self._scope
        if not self._in_transaction():
            raise RuntimeError(NO_TRANSACTION)
        if isinstance(scope, _Unscoped):
            raise self.scope_error(
                "this repository works only inside an institution", code="tenant_required"
            )
        return scope

    def is_platform(self) -> bool:
        """Whether the open transaction is platform-wide."""
        self._require_transaction()
        return self._scope is _Unscoped.PLATFORM

    def require_platform(self) -> None:
        """Refuse a platform-only repository inside an institution scope."""
        if not self.is_platform():
            raise self.scope_error(
                "this repository works only in the platform scope", code="platform_required"
            )


__all__ = ["NO_TRANSACTION", "InstitutionT", "ScopedTransaction"]
