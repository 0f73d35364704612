"""Ports: the Protocols adapters implement. Their docstrings state the semantics the
contract suite in :mod:`ams_core.testing` checks.
"""

from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.identity import IdentityVerifier
from ams_core.ports.jobs import Job, JobQueue, JobValue
from ams_core.ports.notifications import Notifier
from ams_core.ports.persistence import (
    AssignmentRepository,
    AuditRepository,
    CheckInAttemptRepository,
    CoverAssignmentRepository,
    DeviceBindingRepository,
    FacultyRepository,
    FailureCounts,
    HolidayRepository,
    InstitutionRepository,
    MarkRepository,
    OutboxRepository,
    SectionRepository,
    SecurityEventRepository,
    SessionRepository,
    SlotRepository,
    StudentRepository,
    SubjectRepository,
    TermRepository,
    UnitOfWork,
    UpsertCounts,
)

__all__ = [
    "AssignmentRepository",
    "AuditRepository",
    "CheckInAttemptRepository",
    "Clock",
    "CoverAssignmentRepository",
    "DeviceBindingRepository",
    "FacultyRepository",
    "FailureCounts",
    "HolidayRepository",
    "IdentityVerifier",
    "InstitutionRepository",
    "Job",
    "JobQueue",
    "JobValue",
    "MarkRepository",
    "Notifier",
    "OutboxRepository",
    "RandomSource",
    "SectionRepository",
    "SecurityEventRepository",
    "SessionRepository",
    "SlotRepository",
    "StudentRepository",
    "SubjectRepository",
    "TermRepository",
    "UnitOfWork",
    "UpsertCounts",
]
