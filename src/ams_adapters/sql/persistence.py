"""The SQL unit of work: a :class:`~ams_adapters.sql.transaction.SqlTransaction` with every
repository attached."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from ams_adapters.sql.cache import ReferenceCache
from ams_adapters.sql.repositories import (
    SqlAbsenceRepository,
    SqlAssignmentRepository,
    SqlAuditRepository,
    SqlCheckInFailureRepository,
    SqlCoverAssignmentRepository,
    SqlCoverNeedRepository,
    SqlCoverOfferRepository,
    SqlCoverPlanRepository,
    SqlDeviceBindingRepository,
    SqlFacultyRepository,
    SqlHolidayRepository,
    SqlInstitutionRepository,
    SqlMarkRepository,
    SqlOperatorSignInRepository,
    SqlOutboxRepository,
    SqlPasswordCredentialRepository,
    SqlPushTokenRepository,
    SqlSectionRepository,
    SqlSecurityEventRepository,
    SqlSessionRepository,
    SqlSignInRepository,
    SqlSlotRepository,
    SqlStudentRepository,
    SqlSubjectRepository,
    SqlSubstitutePreferenceRepository,
    SqlTermRepository,
)
from ams_adapters.sql.transaction import SqlTransaction
from ams_core.domain import AmsError
from ams_core.ports import UnitOfWork


class SqlUnitOfWork(SqlTransaction, UnitOfWork):
    """A unit of work over a SQLAlchemy engine (PostgreSQL or SQLite): the transaction
    (scope, connection, statements) comes from :class:`SqlTransaction`; this class only
    attaches the repositories, each running its statements through that transaction."""

    def __init__(self, engine: Engine, cache: ReferenceCache | None = None) -> None:
        super().__init__(engine, cache)
        self.institutions = SqlInstitutionRepository(self)
        self.sections = SqlSectionRepository(self)
        self.students = SqlStudentRepository(self)
        self.faculty = SqlFacultyRepository(self)
        self.subjects = SqlSubjectRepository(self)
        self.assignments = SqlAssignmentRepository(self)
        self.slots = SqlSlotRepository(self)
        self.terms = SqlTermRepository(self)
        self.holidays = SqlHolidayRepository(self)
        self.sessions = SqlSessionRepository(self)
        self.marks = SqlMarkRepository(self)
        self.audit = SqlAuditRepository(self)
        self.devices = SqlDeviceBindingRepository(self)
        self.code_failures = SqlCheckInFailureRepository(self)
        self.security_events = SqlSecurityEventRepository(self)
        self.covers = SqlCoverAssignmentRepository(self)
        self.absences = SqlAbsenceRepository(self)
        self.cover_needs = SqlCoverNeedRepository(self)
        self.cover_plans = SqlCoverPlanRepository(self)
        self.cover_offers = SqlCoverOfferRepository(self)
        self.substitute_preferences = SqlSubstitutePreferenceRepository(self)
        self.outbox = SqlOutboxRepository(self)
        self.sign_ins = SqlSignInRepository(self)
        self.operator_sign_ins = SqlOperatorSignInRepository(self)
        self.passwords = SqlPasswordCredentialRepository(self)
        self.push_tokens = SqlPushTokenRepository(self)


__all__ = ["AmsError", "SqlUnitOfWork"]
