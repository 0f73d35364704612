"""The SQL unit of work: a :class:`~ams_adapters.sql.transaction.SqlTransaction` with every
repository attached."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Self, TypeVar, overload

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

R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository attached on first use: a request's unit of work is new each time, and
    most use only two or three of its repositories (a check-in: marks and institutions)."""

    def __init__(self, make: Callable[[SqlTransaction], R]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type) -> Self: ...
    @overload
    def __get__(self, uow: SqlTransaction, owner: type) -> R: ...
    def __get__(self, uow: SqlTransaction | None, owner: type) -> R | Self:
        if uow is None:
            return self
        # kept on the instance till the transaction ends; the instance then answers later
        # lookups without this descriptor
        repository = self._make(uow)
        uow.attach(self._name, repository)
        return repository


class SqlUnitOfWork(SqlTransaction, UnitOfWork):
    """A unit of work over a SQLAlchemy engine (PostgreSQL or SQLite): the transaction
    (scope, connection, statements) comes from :class:`SqlTransaction`; this class only
    attaches the repositories, each running its statements through that transaction."""

    institutions = _Repository(SqlInstitutionRepository)
    sections = _Repository(SqlSectionRepository)
    students = _Repository(SqlStudentRepository)
    faculty = _Repository(SqlFacultyRepository)
    subjects = _Repository(SqlSubjectRepository)
    assignments = _Repository(SqlAssignmentRepository)
    slots = _Repository(SqlSlotRepository)
    terms = _Repository(SqlTermRepository)
    holidays = _Repository(SqlHolidayRepository)
    sessions = _Repository(SqlSessionRepository)
    marks = _Repository(SqlMarkRepository)
    audit = _Repository(SqlAuditRepository)
    devices = _Repository(SqlDeviceBindingRepository)
    code_failures = _Repository(SqlCheckInFailureRepository)
    security_events = _Repository(SqlSecurityEventRepository)
    covers = _Repository(SqlCoverAssignmentRepository)
    absences = _Repository(SqlAbsenceRepository)
    cover_needs = _Repository(SqlCoverNeedRepository)
    cover_plans = _Repository(SqlCoverPlanRepository)
    cover_offers = _Repository(SqlCoverOfferRepository)
    substitute_preferences = _Repository(SqlSubstitutePreferenceRepository)
    outbox = _Repository(SqlOutboxRepository)
    sign_ins = _Repository(SqlSignInRepository)
    operator_sign_ins = _Repository(SqlOperatorSignInRepository)
    passwords = _Repository(SqlPasswordCredentialRepository)
    push_tokens = _Repository(SqlPushTokenRepository)


__all__ = ["AmsError", "SqlUnitOfWork"]
