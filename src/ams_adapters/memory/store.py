"""The data of the memory adapter: plain dicts and indexes, shared by its units of work."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime

from ams_core.domain import (
    Absence,
    AbsenceId,
    AssignmentId,
    AttendanceMark,
    AuditEntry,
    ClassSession,
    CoverAssignment,
    CoverId,
    CoverNeed,
    CoverNeedId,
    CoverOffer,
    CoverOfferId,
    CoverPlan,
    CoverPlanId,
    DeliveryReport,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Holiday,
    Institution,
    InstitutionId,
    Notification,
    NotificationId,
    OperatorSignIn,
    PasswordCredential,
    PreferenceId,
    PreferenceKind,
    PushToken,
    Section,
    SectionId,
    SecurityEvent,
    SessionId,
    SignIn,
    SignInId,
    SlotId,
    Student,
    StudentId,
    Subject,
    SubjectCode,
    SubstitutePreference,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
)


@dataclass
class TenantData:
    """Everything one institution owns."""

    sections: dict[SectionId, Section] = field(default_factory=dict)
    students: dict[StudentId, Student] = field(default_factory=dict)
    student_emails: dict[str, StudentId] = field(default_factory=dict)
    students_by_section: dict[SectionId, set[StudentId]] = field(default_factory=dict)
    faculty: dict[FacultyId, Faculty] = field(default_factory=dict)
    faculty_emails: dict[str, FacultyId] = field(default_factory=dict)
    subjects: dict[SubjectCode, Subject] = field(default_factory=dict)
    assignments: dict[AssignmentId, TeachingAssignment] = field(default_factory=dict)
    assignment_keys: dict[tuple[FacultyId, SubjectCode, SectionId], AssignmentId] = field(
        default_factory=dict
    )
    slots: dict[SlotId, WeeklySlot] = field(default_factory=dict)
    terms: dict[TermId, Term] = field(default_factory=dict)
    holidays: dict[date, Holiday] = field(default_factory=dict)
    sessions: dict[SessionId, ClassSession] = field(default_factory=dict)
    session_keys: dict[tuple[SlotId, date], SessionId] = field(default_factory=dict)
    sessions_by_section: dict[SectionId, set[SessionId]] = field(default_factory=dict)
    sessions_by_teacher: dict[FacultyId, set[SessionId]] = field(default_factory=dict)
    sessions_by_assignment: dict[AssignmentId, set[SessionId]] = field(default_factory=dict)
    open_sessions: set[SessionId] = field(default_factory=set)
    marks: dict[tuple[SessionId, StudentId], AttendanceMark] = field(default_factory=dict)
    marks_by_session: dict[SessionId, set[StudentId]] = field(default_factory=dict)
    marks_by_student: dict[StudentId, set[SessionId]] = field(default_factory=dict)
    audit: dict[int, AuditEntry] = field(default_factory=dict)
    audit_by_session: dict[SessionId, list[int]] = field(default_factory=dict)
    audit_by_student: dict[StudentId, list[int]] = field(default_factory=dict)
    bindings: dict[StudentId, DeviceBinding] = field(default_factory=dict)
    devices: dict[DeviceId, StudentId] = field(default_factory=dict)
    attempts: dict[tuple[SessionId, StudentId], int] = field(default_factory=dict)
    session_attempts: dict[SessionId, int] = field(default_factory=dict)
    events: dict[int, SecurityEvent] = field(default_factory=dict)
    covers: dict[CoverId, CoverAssignment] = field(default_factory=dict)
    covers_by_substitute: dict[FacultyId, set[CoverId]] = field(default_factory=dict)
    cover_by_session: dict[SessionId, CoverId] = field(default_factory=dict)
    absences: dict[AbsenceId, Absence] = field(default_factory=dict)
    cover_needs: dict[CoverNeedId, CoverNeed] = field(default_factory=dict)
    #: the need of each session that is not cancelled
    active_need_by_session: dict[SessionId, CoverNeedId] = field(default_factory=dict)
    cover_plans: dict[CoverPlanId, CoverPlan] = field(default_factory=dict)
    cover_offers: dict[CoverOfferId, CoverOffer] = field(default_factory=dict)
    offers_by_need: dict[CoverNeedId, set[CoverOfferId]] = field(default_factory=dict)
    #: the open offer of each need
    open_offer_by_need: dict[CoverNeedId, CoverOfferId] = field(default_factory=dict)
    preferences: dict[PreferenceId, SubstitutePreference] = field(default_factory=dict)
    #: (substitute, kind, faculty, section, subject) -> the preference holding it
    preference_keys: dict[
        tuple[FacultyId, PreferenceKind, str | None, str | None, str | None], PreferenceId
    ] = field(default_factory=dict)
    sign_ins: dict[SignInId, SignIn] = field(default_factory=dict)
    sign_ins_by_email: dict[str, set[SignInId]] = field(default_factory=dict)
    passwords: dict[str, PasswordCredential] = field(default_factory=dict)
    push_tokens: dict[str, PushToken] = field(default_factory=dict)
    push_tokens_by_student: dict[StudentId, set[str]] = field(default_factory=dict)
    push_tokens_by_faculty: dict[FacultyId, set[str]] = field(default_factory=dict)


@dataclass
class OutboxEntry:
    """A queued notification and, once delivered, when and how."""

    notification: Notification
    sequence: int
    delivered_at: datetime | None = None
    report: DeliveryReport | None = None
    relayed_at: datetime | None = None
    parts: int | None = None
    parts_done: frozenset[int] = frozenset()


class MemoryStore:
    """All data of the memory adapter.

    One store stands for one database: create one, then as many
    :class:`~ams_adapters.memory.InMemoryUnitOfWork` objects over it as you need (one per
    thread or request). Transactions are serialised by a re-entrant lock.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.institutions: dict[InstitutionId, Institution] = {}
        self.domains: dict[str, InstitutionId] = {}
        self.tenants: dict[InstitutionId, TenantData] = {}
        self.outbox: dict[NotificationId, OutboxEntry] = {}
        self.outbox_keys: dict[str, NotificationId] = {}
        #: platform-operator tokens (platform scope only)
        self.operator_sign_ins: dict[SignInId, OperatorSignIn] = {}
        self.sequence = 0

    def tenant(self, institution_id: InstitutionId) -> TenantData:
        """The data of one institution (created empty on first use)."""
        data = self.tenants.get(institution_id)
        if data is None:
            data = self.tenants[institution_id] = TenantData()
        return data

    def next_sequence(self) -> int:
        """A strictly increasing number (insertion order of logs)."""
        self.sequence += 1
        return self.sequence
