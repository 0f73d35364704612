"""The memory unit of work: a reference adapter, the test fake and a library default."""

from __future__ import annotations

from ams_adapters.memory.repositories import (
    InMemoryAbsenceRepository,
    InMemoryAssignmentRepository,
    InMemoryAuditRepository,
    InMemoryCheckInFailureRepository,
    InMemoryCoverAssignmentRepository,
    InMemoryCoverNeedRepository,
    InMemoryCoverOfferRepository,
    InMemoryCoverPlanRepository,
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
    InMemorySubstitutePreferenceRepository,
    InMemoryTermRepository,
)
from ams_adapters.memory.store import MemoryStore
from ams_adapters.memory.transaction import MemoryTransaction
from ams_core.ports import UnitOfWork


class InMemoryUnitOfWork(MemoryTransaction, UnitOfWork):
    """A unit of work over a :class:`MemoryStore`: a :class:`MemoryTransaction` (lock,
    scope, undo log) with the repositories attached.

    Writes go straight to the store with an undo log, under the store's lock, so a
    transaction sees its own writes, others see them only after ``commit()``, and leaving
    the block without committing puts everything back. Use one object per thread.
    """

    def __init__(self, store: MemoryStore | None = None) -> None:
        super().__init__(store)
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
        self.code_failures = InMemoryCheckInFailureRepository(self)
        self.security_events = InMemorySecurityEventRepository(self)
        self.covers = InMemoryCoverAssignmentRepository(self)
        self.absences = InMemoryAbsenceRepository(self)
        self.cover_needs = InMemoryCoverNeedRepository(self)
        self.cover_plans = InMemoryCoverPlanRepository(self)
        self.cover_offers = InMemoryCoverOfferRepository(self)
        self.substitute_preferences = InMemorySubstitutePreferenceRepository(self)
        self.outbox = InMemoryOutboxRepository(self)
        self.sign_ins = InMemorySignInRepository(self)
        self.operator_sign_ins = InMemoryOperatorSignInRepository(self)
        self.passwords = InMemoryPasswordCredentialRepository(self)
        self.push_tokens = InMemoryPushTokenRepository(self)


__all__ = ["InMemoryUnitOfWork"]
