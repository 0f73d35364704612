"""Table definitions (SQLAlchemy Core). Every tenant table carries ``institution_id`` and
references its parents through (institution_id, id) pairs, so a row can never point into
another institution. Nothing that holds history (sessions, marks, audit) cascades from
people or subjects: deleting them is refused while history exists."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    column,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.engine import Dialect

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

Json = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC instants on every backend (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use aware UTC instants")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Instant = UtcDateTime()
Id = String(64)
INST = "institution_id"


def _tenant_fk(columns: list[str], table: str, targets: list[str]) -> ForeignKeyConstraint:
    """A composite foreign key that keeps both ends in the same institution."""
    return ForeignKeyConstraint(
        [INST, *columns],
        [f"{table}.{INST}", *(f"{table}.{t}" for t in targets)],
        ondelete="RESTRICT",
    )


def _inst() -> Column[str]:
    return Column(INST, Id, nullable=False)


institutions = Table(
    "institutions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    # a copy of institution_domains (which enforces one institution per domain), so loading
    # an institution is one row
    Column("email_domains", Json, nullable=False),
    Column("settings", Json, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
)

institution_domains = Table(
    "institution_domains",
    metadata,
    Column("domain", String(253), primary_key=True),
    Column(
        INST,
        Id,
        nullable=False,
        index=True,
    ),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="CASCADE"),
)

sections = Table(
    "sections",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("department", String(100), nullable=False),
    Column("name", String(100), nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
)

students = Table(
    "students",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("section_id", Id, nullable=False),
    Column("roll_number", Integer),
    Column("is_class_representative", Boolean, nullable=False, server_default="false"),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    UniqueConstraint(INST, "email"),
    _tenant_fk(["section_id"], "sections", ["id"]),
    Index(None, INST, "section_id"),
)

faculty = Table(
    "faculty",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("department", String(100), nullable=False),
    Column("qualified_subjects", Json, nullable=False),
    Column("max_covers_per_day", Integer),
    Column("max_covers_per_week", Integer),
    Column("is_admin", Boolean, nullable=False, server_default="false"),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    UniqueConstraint(INST, "email"),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
)

subjects = Table(
    "subjects",
    metadata,
    _inst(),
    Column("code", Id, nullable=False),
    Column("short_name", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "code"),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
)

assignments = Table(
    "assignments",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("faculty_id", Id, nullable=False),
    Column("subject_code", Id, nullable=False),
    Column("section_id", Id, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    UniqueConstraint(
        INST, "faculty_id", "subject_code", "section_id", name="uq_assignments_natural_key"
    ),
    _tenant_fk(["faculty_id"], "faculty", ["id"]),
    _tenant_fk(["subject_code"], "subjects", ["code"]),
    _tenant_fk(["section_id"], "sections", ["id"]),
    Index(None, INST, "section_id"),
)

slots = Table(
    "weekly_slots",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("assignment_id", Id, nullable=False),
    Column("weekday", SmallInteger, nullable=False),
    Column("start_time", Time, nullable=False),
    Column("end_time", Time, nullable=False),
    Column("venue", String(100), nullable=False, server_default=""),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    _tenant_fk(["assignment_id"], "assignments", ["id"]),
    CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday"),
    CheckConstraint("start_time < end_time", name="slot_times"),
)

terms = Table(
    "terms",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("name", String(100), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
    CheckConstraint("start_date <= end_date", name="term_dates"),
)

holidays = Table(
    "holidays",
    metadata,
    _inst(),
    Column("day", Date, nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    PrimaryKeyConstraint(INST, "day"),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
)

sessions = Table(
    "class_sessions",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("assignment_id", Id, nullable=False),
    Column("section_id", Id, nullable=False),
    Column("subject_code", Id, nullable=False),
    Column("day", Date, nullable=False),
    Column("start_time", Time, nullable=False),
    Column("end_time", Time, nullable=False),
    Column("teacher_id", Id, nullable=False),
    Column("venue", String(100), nullable=False, server_default=""),
    Column("slot_id", Id),
    Column("status", String(16), nullable=False),
    Column("topic", String(500)),
    Column("window_opened_at", Instant),
    Column("window_closes_at", Instant),
    Column("window_secret", LargeBinary),
    Column("window_rotation_seconds", Integer),
    Column("completed_at", Instant),
    Column("tally_present", Integer, nullable=False, server_default="0"),
    Column("tally_late", Integer, nullable=False, server_default="0"),
    Column("tally_absent", Integer, nullable=False, server_default="0"),
    Column("tally_excused", Integer, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    UniqueConstraint(INST, "slot_id", "day"),
    _tenant_fk(["assignment_id"], "assignments", ["id"]),
    _tenant_fk(["teacher_id"], "faculty", ["id"]),
    _tenant_fk(["section_id"], "sections", ["id"]),
    CheckConstraint(
        "status IN ('scheduled', 'open', 'completed', 'cancelled')", name="session_status"
    ),
    CheckConstraint("start_time < end_time", name="session_times"),
    # the INCLUDE columns let the report aggregates run as index-only scans
    Index(None, INST, "section_id", "day", postgresql_include=["subject_code", "status"]),
    Index(None, INST, "teacher_id", "day"),
    # a day's sessions of the whole institution: session lists and double-booking checks
    Index(None, INST, "day", "start_time"),
    Index(
        None,
        INST,
        "assignment_id",
        "day",
        postgresql_include=[
            "id",
            "status",
            "start_time",
            "tally_present",
            "tally_late",
            "tally_absent",
            "tally_excused",
        ],
    ),
    Index(
        "ix_class_sessions_open",
        INST,
        "id",
        postgresql_where=text("status = 'open'"),
        sqlite_where=text("status = 'open'"),
    ),
)

marks = Table(
    "attendance_marks",
    metadata,
    _inst(),
    Column("session_id", Id, nullable=False),
    Column("student_id", Id, nullable=False),
    Column("status", String(16), nullable=False),
    Column("marked_at", Instant, nullable=False),
    Column("marked_by", String(254), nullable=False),
    Column("source", String(16), nullable=False),
    Column("device_id", String(200)),
    Column("version", Integer, nullable=False, server_default="0"),
    # Denormalised from the session so per-student reports read one index, never the
    # sessions table: kept in step when the session completes or changes.
    Column("subject_code", Id, nullable=False),
    Column("day", Date, nullable=False),
    Column("counted", Boolean, nullable=False, server_default="false"),
    PrimaryKeyConstraint(INST, "session_id", "student_id"),
    _tenant_fk(["session_id"], "class_sessions", ["id"]),
    _tenant_fk(["student_id"], "students", ["id"]),
    CheckConstraint("status IN ('present', 'late', 'absent', 'excused')", name="mark_status"),
    Index(
        "ix_attendance_marks_student_report",
        INST,
        "student_id",
        "day",
        postgresql_include=["subject_code", "status", "counted"],
    ),
)

audit_entries = Table(
    "attendance_audit",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True),
    _inst(),
    Column("session_id", Id, nullable=False),
    # NULL: the entry of a completion, about the whole class (migration 0010)
    Column("student_id", Id),
    Column("actor", String(254), nullable=False),
    Column("at", Instant, nullable=False),
    Column("old_status", String(16)),
    Column("new_status", String(16), nullable=False),
    Column("reason", String(500), nullable=False, server_default=""),
    _tenant_fk(["session_id"], "class_sessions", ["id"]),
    Index(None, INST, "session_id", "id"),
    # a student's trail across sessions, newest first (migration 0004)
    Index(None, INST, "student_id", "id"),
)

device_bindings = Table(
    "device_bindings",
    metadata,
    _inst(),
    Column("student_id", Id, nullable=False),
    Column("device_id", String(200), nullable=False),
    Column("bound_at", Instant, nullable=False),
    PrimaryKeyConstraint(INST, "student_id"),
    UniqueConstraint(INST, "device_id"),
    _tenant_fk(["student_id"], "students", ["id"]),
)

check_in_failures = Table(
    "check_in_failures",
    metadata,
    _inst(),
    Column("session_id", Id, nullable=False),
    # '' stands for the whole session's counter
    Column("student_id", Id, nullable=False),
    Column("failures", Integer, nullable=False),
    PrimaryKeyConstraint(INST, "session_id", "student_id"),
    _tenant_fk(["session_id"], "class_sessions", ["id"]),
)

security_events = Table(
    "security_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True),
    _inst(),
    Column("kind", String(32), nullable=False),
    Column("at", Instant, nullable=False),
    Column("actor", String(254), nullable=False),
    Column("student_id", Id),
    Column("session_id", Id),
    Column("device_id", String(200)),
    Column("client_ip", String(64)),
    Column("detail", Json, nullable=False),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
    Index(None, INST, "at"),
    # reviewing one student's events, newest first (migration 0004)
    Index(None, INST, "student_id", "at"),
)

covers = Table(
    "cover_assignments",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("session_id", Id, nullable=False),
    Column("substitute_id", Id, nullable=False),
    Column("starts_at", Instant, nullable=False),
    Column("ends_at", Instant, nullable=False),
    Column("booked_at", Instant, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    UniqueConstraint(INST, "session_id"),
    _tenant_fk(["session_id"], "class_sessions", ["id"]),
    _tenant_fk(["substitute_id"], "faculty", ["id"]),
    CheckConstraint("starts_at < ends_at", name="cover_times"),
    Index(None, INST, "substitute_id", "starts_at"),
    # the database itself refuses a second overlapping cover of one substitute, whatever
    # races the application loses (SQLite serialises writers instead)
    ExcludeConstraint(
        (column(INST), "="),
        (column("substitute_id"), "="),
        (func.tstzrange(column("starts_at"), column("ends_at")), "&&"),
        name="ex_cover_assignments_substitute_overlap",
        using="gist",
    ).ddl_if(dialect="postgresql"),
)

# -- cover work (migration 0007) ---------------------------------------------------------------

absences = Table(
    "absences",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("faculty_id", Id, nullable=False),
    Column("starts_at", Instant, nullable=False),
    Column("ends_at", Instant, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reported_at", Instant, nullable=False),
    Column("reported_by", String(254), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("decided_at", Instant),
    Column("decided_by", String(254)),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    _tenant_fk(["faculty_id"], "faculty", ["id"]),
    CheckConstraint("starts_at < ends_at", name="absence_times"),
    CheckConstraint("kind IN ('sick', 'personal', 'official_duty', 'other')", name="absence_kind"),
    CheckConstraint("status IN ('reported', 'approved', 'cancelled')", name="absence_status"),
    # a teacher's absences; every absence overlapping a span, newest first
    Index(None, INST, "faculty_id", "starts_at"),
    Index(None, INST, "starts_at"),
)

cover_needs = Table(
    "cover_needs",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("absence_id", Id, nullable=False),
    Column("session_id", Id, nullable=False),
    Column("absent_faculty_id", Id, nullable=False),
    Column("section_id", Id, nullable=False),
    Column("subject_code", Id, nullable=False),
    Column("day", Date, nullable=False),
    Column("starts_at", Instant, nullable=False),
    Column("ends_at", Instant, nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("status", String(16), nullable=False),
    Column("substitute_id", Id),
    Column("closed_at", Instant),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    _tenant_fk(["absence_id"], "absences", ["id"]),
    _tenant_fk(["session_id"], "class_sessions", ["id"]),
    _tenant_fk(["absent_faculty_id"], "faculty", ["id"]),
    _tenant_fk(["substitute_id"], "faculty", ["id"]),
    CheckConstraint("starts_at < ends_at", name="need_times"),
    CheckConstraint(
        "status IN ('open', 'offered', 'covered', 'escalated', 'cancelled')", name="need_status"
    ),
    Index(None, INST, "absence_id", "starts_at"),
    # needs of a span of days (plans, lists), in start order
    Index(None, INST, "day", "starts_at"),
    Index(None, INST, "absent_faculty_id"),
    Index(None, INST, "substitute_id"),
    # a session has at most one need that is not cancelled
    Index(
        "uq_cover_needs_active_session",
        INST,
        "session_id",
        unique=True,
        postgresql_where=text("status <> 'cancelled'"),
        sqlite_where=text("status <> 'cancelled'"),
    ),
)

cover_plans = Table(
    "cover_plans",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("created_by", String(254), nullable=False),
    Column("solver", String(64), nullable=False),
    # [{need_id, substitute_id, score, reasons: [{rule, points}]}], in the plan's order
    Column("assignments", Json, nullable=False),
    # [{need_id, reason}], in the plan's order
    Column("uncovered", Json, nullable=False),
    Column("status", String(16), nullable=False),
    Column("published_at", Instant),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
    CheckConstraint("first_day <= last_day", name="plan_days"),
    CheckConstraint(
        "status IN ('draft', 'published', 'superseded', 'cancelled')", name="plan_status"
    ),
    Index(None, INST, "created_at"),
    Index(
        "ix_cover_plans_drafts",
        INST,
        "first_day",
        postgresql_where=text("status = 'draft'"),
        sqlite_where=text("status = 'draft'"),
    ),
)

cover_offers = Table(
    "cover_offers",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("need_id", Id, nullable=False),
    Column("substitute_id", Id, nullable=False),
    Column("plan_id", Id),
    Column("attempt", Integer, nullable=False),
    Column("score", Integer, nullable=False),
    # [{rule, points}], in the ranking's order
    Column("reasons", Json, nullable=False),
    Column("offered_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("status", String(16), nullable=False),
    Column("answered_at", Instant),
    Column("decline_reason", String(500), nullable=False, server_default=""),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    _tenant_fk(["need_id"], "cover_needs", ["id"]),
    _tenant_fk(["substitute_id"], "faculty", ["id"]),
    _tenant_fk(["plan_id"], "cover_plans", ["id"]),
    CheckConstraint("offered_at < expires_at", name="offer_times"),
    CheckConstraint(
        "status IN ('offered', 'accepted', 'declined', 'expired', 'withdrawn')",
        name="offer_status",
    ),
    Index(None, INST, "need_id", "attempt"),
    Index(None, INST, "substitute_id", "offered_at"),
    Index(None, INST, "offered_at"),
    Index(None, INST, "plan_id"),
    # open offers by expiry (the expiry sweep)
    Index(
        "ix_cover_offers_open_expiry",
        INST,
        "expires_at",
        postgresql_where=text("status = 'offered'"),
        sqlite_where=text("status = 'offered'"),
    ),
    # a need has at most one open offer
    Index(
        "uq_cover_offers_open_need",
        INST,
        "need_id",
        unique=True,
        postgresql_where=text("status = 'offered'"),
        sqlite_where=text("status = 'offered'"),
    ),
)


def _one_preference_per_scope(scope: str) -> Index:
    """(substitute, kind) once per scope value: exactly one scope column is set, so one
    partial unique index per scope column is the same as a unique key over all three with
    NULLs equal (and works on SQLite, which has no NULLS NOT DISTINCT)."""
    return Index(
        f"uq_substitute_preferences_{scope}",
        INST,
        "substitute_id",
        "kind",
        scope,
        unique=True,
        postgresql_where=text(f"{scope} IS NOT NULL"),
        sqlite_where=text(f"{scope} IS NOT NULL"),
    )


substitute_preferences = Table(
    "substitute_preferences",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    Column("substitute_id", Id, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("faculty_id", Id),
    Column("section_id", Id),
    Column("subject_code", Id),
    Column("note", Text, nullable=False, server_default=""),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "id"),
    _tenant_fk(["substitute_id"], "faculty", ["id"]),
    _tenant_fk(["faculty_id"], "faculty", ["id"]),
    _tenant_fk(["section_id"], "sections", ["id"]),
    _tenant_fk(["subject_code"], "subjects", ["code"]),
    CheckConstraint("kind IN ('preferred', 'excluded')", name="preference_kind"),
    CheckConstraint(
        "(CASE WHEN faculty_id IS NULL THEN 0 ELSE 1 END"
        " + CASE WHEN section_id IS NULL THEN 0 ELSE 1 END"
        " + CASE WHEN subject_code IS NULL THEN 0 ELSE 1 END) = 1",
        name="preference_scope",
    ),
    _one_preference_per_scope("faculty_id"),
    _one_preference_per_scope("section_id"),
    _one_preference_per_scope("subject_code"),
    # the teachers, sections and subjects a removal must find unreferenced
    Index(None, INST, "faculty_id"),
    Index(None, INST, "section_id"),
    Index(None, INST, "subject_code"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("sequence", BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True),
    Column("id", Id, nullable=False, unique=True),
    _inst(),
    Column("kind", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("recipients", Json, nullable=False),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("created_at", Instant, nullable=False),
    Column("data", Json, nullable=False),
    Column("delivered_at", Instant),
    Column("delivered", Integer),
    Column("failed", Integer),
    # when the relay last handed it to the job queue (migration 0006)
    Column("relayed_at", Instant),
    # a large audience delivered in parts: how many, and one bit per part done (0009)
    Column("parts", SmallInteger),
    Column("parts_done", BigInteger, nullable=False, server_default=text("0")),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
    Index(
        "ix_outbox_pending",
        "sequence",
        postgresql_where=text("delivered_at IS NULL"),
        sqlite_where=text("delivered_at IS NULL"),
    ),
    # history(kind, ...) newest first, per institution
    Index("ix_outbox_history", INST, "kind", "created_at"),
)

sign_ins = Table(
    "sign_ins",
    metadata,
    _inst(),
    Column("id", Id, nullable=False),
    # folded (fold_email), like every stored email
    Column("email", String(254), nullable=False),
    Column("method", String(16), nullable=False),
    # SHA-256 hex of the current refresh token; the token itself is never stored
    Column("refresh_digest", String(128), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("device_id", String(200)),
    Column("revoked_at", Instant),
    Column("version", Integer, nullable=False, server_default="0"),
    # the refresh token the last refresh replaced, for a simultaneous second refresh
    Column("previous_digest", String(128)),
    Column("rotated_at", Instant),
    PrimaryKeyConstraint(INST, "id"),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
    CheckConstraint("method IN ('google', 'password', 'local')", name="sign_in_method"),
    Index(None, INST, "email"),
    Index(None, INST, "revoked_at"),
)

password_credentials = Table(
    "password_credentials",
    metadata,
    _inst(),
    Column("email", String(254), nullable=False),
    Column("password_hash", String(512), nullable=False),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("locked_until", Instant),
    Column("version", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint(INST, "email"),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
    CheckConstraint("failed_attempts >= 0", name="failed_attempts"),
)

push_tokens = Table(
    "push_tokens",
    metadata,
    _inst(),
    # SHA-256 hex of the token: tokens may be up to 4 KB, too long for a btree key
    Column("token_digest", String(64), nullable=False),
    Column("token", Text, nullable=False),
    Column("platform", String(16), nullable=False),
    Column("owner_email", String(254), nullable=False),
    Column("registered_at", Instant, nullable=False),
    Column("student_id", Id),
    Column("faculty_id", Id),
    PrimaryKeyConstraint(INST, "token_digest"),
    ForeignKeyConstraint([INST], ["institutions.id"], ondelete="RESTRICT"),
    _tenant_fk(["student_id"], "students", ["id"]),
    _tenant_fk(["faculty_id"], "faculty", ["id"]),
    CheckConstraint("platform IN ('android', 'ios', 'web')", name="push_platform"),
    Index(None, INST, "student_id"),
    Index(None, INST, "faculty_id"),
)

# -- the platform ----------------------------------------------------------------------------

operator_sign_ins = Table(
    "operator_sign_ins",
    metadata,
    # access tokens minted for platform operators (the token's sid); never the token itself
    Column("id", Id, nullable=False),
    # folded (fold_email), like every stored email
    Column("email", String(254), nullable=False),
    Column("issued_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("revoked_at", Instant),
    PrimaryKeyConstraint("id"),
    Index(None, "revoked_at"),
)

#: Tables whose rows belong to one institution (row-level security applies to all of them).
TENANT_TABLES = tuple(
    t for t in metadata.sorted_tables if INST in t.c and t.name != "institution_domains"
)
#: Tables only the platform scope may read or write (row-level security: no institution
#: scope sees a row).
PLATFORM_ONLY_TABLES = (operator_sign_ins,)
