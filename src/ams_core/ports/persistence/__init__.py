"""Persistence ports: the unit of work and its repositories.

Semantics every adapter must honour (the contract suite in ``ams_core.testing`` checks them):

* **Tenant scope.** A unit of work is entered for one institution
  (``uow.for_institution(id)``) or for the platform (``uow.for_platform()``). Inside an
  institution scope every repository sees and writes only that institution's rows, whether
  or not a query names the institution; another institution's object is simply not found.
  Only ``institutions`` and ``outbox`` work in both scopes; ``operator_sign_ins`` works only
  in the platform scope (inside an institution it raises
  :class:`~ams_core.domain.errors.PermissionDeniedError` ``platform_required``).
* **Atomicity.** Nothing is visible to other units of work before ``commit()``; leaving the
  ``with`` block without committing (or with an exception) rolls everything back.
* **Errors.** ``get`` raises :class:`~ams_core.domain.errors.NotFoundError`; ``add`` of an
  existing key raises :class:`~ams_core.domain.errors.ConflictError`; ``update`` of a stale
  version raises :class:`~ams_core.domain.errors.ConcurrencyError` and stores the entity with
  ``version + 1``. Adapters never let a driver exception escape: an unreachable backend is
  :class:`~ams_core.domain.errors.UnavailableError`.

The ports live in one module per area (``institutions``, ``people``, ``teaching``,
``sessions``, ``attendance``, ``covers``, ``accounts``, ``messaging``); every name is
re-exported here, so ``from ams_core.ports.persistence import X`` is the import to use.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from ams_core.domain.ids import InstitutionId
from ams_core.ports.persistence.accounts import (
    OperatorSignInRepository,
    PasswordCredentialRepository,
    SignInRepository,
)
from ams_core.ports.persistence.attendance import (
    CheckInContext,
    CheckInFailureRepository,
    FailureCounts,
    MarkRepository,
    UnmarkedFilled,
)
from ams_core.ports.persistence.covers import (
    AbsenceRepository,
    CoverAssignmentRepository,
    CoverNeedRepository,
    CoverOfferRepository,
    CoverPlanRepository,
    SubstitutePreferenceRepository,
)
from ams_core.ports.persistence.institutions import (
    InstitutionRepository,
)
from ams_core.ports.persistence.messaging import (
    MAX_PARTS,
    AuditRepository,
    OutboxRepository,
    PushTokenRepository,
    SecurityEventFilter,
    SecurityEventRepository,
    SentNotification,
    Slice,
)
from ams_core.ports.persistence.people import (
    DeviceBindingRepository,
    FacultyRepository,
    SectionRepository,
    StudentRepository,
    UpsertCounts,
)
from ams_core.ports.persistence.sessions import (
    ScheduledClass,
    SessionRepository,
    TeacherBooking,
)
from ams_core.ports.persistence.teaching import (
    AssignmentRepository,
    HolidayRepository,
    SlotRepository,
    SubjectRepository,
    TermRepository,
)

__all__ = [
    "MAX_PARTS",
    "AbsenceRepository",
    "AssignmentRepository",
    "AuditRepository",
    "CheckInContext",
    "CheckInFailureRepository",
    "CoverAssignmentRepository",
    "CoverNeedRepository",
    "CoverOfferRepository",
    "CoverPlanRepository",
    "DeviceBindingRepository",
    "FacultyRepository",
    "FailureCounts",
    "HolidayRepository",
    "InstitutionRepository",
    "MarkRepository",
    "OperatorSignInRepository",
    "OutboxRepository",
    "PasswordCredentialRepository",
    "PushTokenRepository",
    "ScheduledClass",
    "SectionRepository",
    "SecurityEventFilter",
    "SecurityEventRepository",
    "SentNotification",
    "SessionRepository",
    "SignInRepository",
    "Slice",
    "SlotRepository",
    "StudentRepository",
    "SubjectRepository",
    "SubstitutePreferenceRepository",
    "TeacherBooking",
    "TermRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UnmarkedFilled",
    "UpsertCounts",
]


class UnitOfWork(Protocol):
    """One transaction over every repository, scoped to an institution or the platform.

    Use it as ``with uow.for_institution(iid): ...; uow.commit()``.
    """

    institutions: InstitutionRepository
    sections: SectionRepository
    students: StudentRepository
    faculty: FacultyRepository
    subjects: SubjectRepository
    assignments: AssignmentRepository
    slots: SlotRepository
    terms: TermRepository
    holidays: HolidayRepository
    sessions: SessionRepository
    marks: MarkRepository
    audit: AuditRepository
    devices: DeviceBindingRepository
    code_failures: CheckInFailureRepository
    security_events: SecurityEventRepository
    covers: CoverAssignmentRepository
    absences: AbsenceRepository
    cover_needs: CoverNeedRepository
    cover_plans: CoverPlanRepository
    cover_offers: CoverOfferRepository
    substitute_preferences: SubstitutePreferenceRepository
    outbox: OutboxRepository
    sign_ins: SignInRepository
    operator_sign_ins: OperatorSignInRepository
    passwords: PasswordCredentialRepository
    push_tokens: PushTokenRepository

    @abstractmethod
    def for_institution(self, institution_id: InstitutionId) -> Self:
        """Scope the next transaction to one institution; returns ``self`` to enter."""

    @abstractmethod
    def for_platform(self) -> Self:
        """Scope the next transaction to the platform (institutions, outbox and operator
        sign-ins only).
        """

    @abstractmethod
    def __enter__(self) -> Self: ...

    @abstractmethod
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
"""A zero-argument callable returning a fresh unit of work (one per transaction)."""
