"""The memory unit of work: a reference adapter, the test fake and a library default."""

from __future__ import annotations

import enum
from types import TracebackType
from typing import Self

from ams_adapters.memory.repositories import (
    InMemoryAssignmentRepository,
    InMemoryAuditRepository,
    InMemoryCheckInAttemptRepository,
    InMemoryCoverAssignmentRepository,
    InMemoryDeviceBindingRepository,
    InMemoryFacultyRepository,
    InMemoryHolidayRepository,
    InMemoryInstitutionRepository,
    InMemoryMarkRepository,
    InMemoryOperatorSignInRepository,
    InMemoryOutboxRepository,
    InMemoryPasswordCredentialRepository,
    InMemoryPushTokenRepository,
    InMemorySectionRepository,
    InMemorySecurityEventRepository,
    InMemorySessionRepository,
    InMemorySignInRepository,
    InMemorySlotRepository,
    InMemoryStudentRepository,
    InMemorySubjectRepository,
    InMemoryTermRepository,
)
from ams_adapters.memory.store import MemoryStore
from ams_adapters.memory.transaction import UndoLog
from ams_core.domain import InstitutionId, PermissionDeniedError
from ams_core.ports import UnitOfWork


class _Scope(enum.Enum):
    UNSET = "unset"
    PLATFORM = "platform"


class InMemoryUnitOfWork(UnitOfWork):
    """A unit of work over a :class:`MemoryStore`.

    Writes go straight to the store with an undo log, under the store's lock, so a
    transaction sees its own writes, others see them only after ``commit()``, and leaving
    the block without committing puts everything back. Use one object per thread.
    """

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self._scope: InstitutionId | _Scope = _Scope.UNSET
        self._log: UndoLog | None = None
        self.institutions = InMemoryInstitutionRepository(self)
        self.sections = InMemorySectionRepository(self)
        self.students = InMemoryStudentRepository(self)
        self.faculty = InMemoryFacultyRepository(self)
        self.subjects = InMemorySubjectRepository(self)
        self.assignments = InMemoryAssignmentRepository(self)
        self.slots = InMemorySlotRepository(self)
        self.terms = InMemoryTermRepository(self)
        self.holidays = InMemoryHolidayRepository(self)
        self.sessions = InMemorySessionRepository(self)
        self.marks = InMemoryMarkRepository(self)
        self.audit = InMemoryAuditRepository(self)
        self.devices = InMemoryDeviceBindingRepository(self)
        self.attempts = InMemoryCheckInAttemptRepository(self)
        self.security_events = InMemorySecurityEventRepository(self)
        self.covers = InMemoryCoverAssignmentRepository(self)
        self.outbox = InMemoryOutboxRepository(self)
        self.sign_ins = InMemorySignInRepository(self)
        self.operator_sign_ins = InMemoryOperatorSignInRepository(self)
        self.passwords = InMemoryPasswordCredentialRepository(self)
        self.push_tokens = InMemoryPushTokenRepository(self)

    def for_institution(self, institution_id: InstitutionId) -> Self:
        self._require_idle()
        self._scope = institution_id
        return self

    def for_platform(self) -> Self:
        self._require_idle()
        self._scope = _Scope.PLATFORM
        return self

    def __enter__(self) -> Self:
        if self._scope is _Scope.UNSET:
            raise RuntimeError("call for_institution() or for_platform() before entering")
        self._require_idle()
        self.store.lock.acquire()
        self._log = UndoLog()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._log is not None:
                self._log.rollback()
        finally:
            self._log = None
            self._scope = _Scope.UNSET
            self.store.lock.release()

    def commit(self) -> None:
        self.active_log().clear()

    def rollback(self) -> None:
        self.active_log().rollback()

    # -- used by the repositories ---------------------------------------------------------
    def active_log(self) -> UndoLog:
        """The undo log of the open transaction (repositories work only inside one)."""
        if self._log is None:
            raise RuntimeError("use the repositories inside `with uow.for_institution(...)`")
        return self._log

    def tenant(self) -> InstitutionId:
        """The institution of the open transaction."""
        self.active_log()
        if isinstance(self._scope, _Scope):
            raise PermissionDeniedError(
                "this repository works only inside an institution", code="tenant_required"
            )
        return self._scope

    def is_platform(self) -> bool:
        """Whether the open transaction is platform-wide."""
        self.active_log()
        return self._scope is _Scope.PLATFORM

    def require_platform(self) -> None:
        """Refuse a platform-only repository inside an institution scope."""
        if not self.is_platform():
            raise PermissionDeniedError(
                "this repository works only in the platform scope", code="platform_required"
            )

    def _require_idle(self) -> None:
        if self._log is not None:
            raise RuntimeError("this unit of work is already in a transaction")
