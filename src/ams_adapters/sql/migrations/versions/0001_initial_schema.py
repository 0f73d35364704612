"""Initial schema: every table, row-level security and the runtime role's grants.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

On PostgreSQL this also enables btree_gist (for the cover exclusion constraint), creates
the NOLOGIN group role ``ams_app`` when it is missing, and enables and forces row-level
security on every tenant table. Login roles the API connects as are made members of
``ams_app`` (``CREATE ROLE ams_api LOGIN ... IN ROLE ams_app``); they must not own the
tables, be superusers or have BYPASSRLS.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "ams_app"
# tables readable in the platform scope (tenant creation, sign-in lookups, the outbox relay)
PLATFORM_TABLES = {
    "institutions": "id",
    "institution_domains": "institution_id",
    "outbox": "institution_id",
}
TENANT_TABLES = (
    "sections",
    "students",
    "faculty",
    "subjects",
    "assignments",
    "weekly_slots",
    "terms",
    "holidays",
    "class_sessions",
    "attendance_marks",
    "attendance_audit",
    "device_bindings",
    "check_in_failures",
    "security_events",
    "cover_assignments",
)
CURRENT_INSTITUTION = "NULLIF(current_setting('app.institution_id', true), '')"
PLATFORM_SCOPE = "current_setting('app.scope', true) = 'platform'"


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _secure_postgres() -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
            END IF;
        END
        $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(
        "ALTER TABLE cover_assignments ADD CONSTRAINT ex_cover_assignments_substitute_overlap "
        "EXCLUDE USING gist (institution_id WITH =, substitute_id WITH =, "
        "tstzrange(starts_at, ends_at) WITH &&)"
    )
    for table in TENANT_TABLES:
        _enable_rls(table, f"institution_id = {CURRENT_INSTITUTION}")
    for table, column in PLATFORM_TABLES.items():
        _enable_rls(table, f"{column} = {CURRENT_INSTITUTION} OR {PLATFORM_SCOPE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    # `ams db check` and readiness probes compare the schema revision with the code's
    op.execute(f"GRANT SELECT ON alembic_version TO {APP_ROLE}")


def _enable_rls(table: str, condition: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY institution_isolation ON {table} USING ({condition}) "
        f"WITH CHECK ({condition})"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")


def upgrade() -> None:
    if _is_postgres():
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "institutions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "email_domains",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
    )
    op.create_table(
        "faculty",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column(
            "qualified_subjects",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("max_covers_per_day", sa.Integer(), nullable=True),
        sa.Column("max_covers_per_week", sa.Integer(), nullable=True),
        sa.Column("is_admin", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_faculty_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_faculty")),
        sa.UniqueConstraint(
            "institution_id", "email", name=op.f("uq_faculty_institution_id_email")
        ),
    )
    op.create_table(
        "holidays",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_holidays_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "day", name=op.f("pk_holidays")),
    )
    op.create_table(
        "institution_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_domains_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_institution_domains")),
    )
    op.create_index(
        op.f("ix_institution_domains_institution_id"),
        "institution_domains",
        ["institution_id"],
        unique=False,
    )
    op.create_table(
        "outbox",
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "recipients",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered", sa.Integer(), nullable=True),
        sa.Column("failed", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_outbox_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_outbox")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["sequence"],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NULL"),
        sqlite_where=sa.text("delivered_at IS NULL"),
    )
    op.create_table(
        "sections",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_sections_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_sections")),
    )
    op.create_table(
        "security_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_security_events_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
    )
    op.create_index(
        op.f("ix_security_events_institution_id_at"),
        "security_events",
        ["institution_id", "at"],
        unique=False,
    )
    op.create_table(
        "subjects",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("short_name", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_subjects_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "code", name=op.f("pk_subjects")),
    )
    op.create_table(
        "terms",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("start_date <= end_date", name=op.f("ck_terms_term_dates")),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_terms_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_terms")),
    )
    op.create_table(
        "assignments",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("faculty_id", sa.String(length=64), nullable=False),
        sa.Column("subject_code", sa.String(length=64), nullable=False),
        sa.Column("section_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id", "faculty_id"],
            ["faculty.institution_id", "faculty.id"],
            name=op.f("fk_assignments_institution_id_faculty_id_faculty"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id", "section_id"],
            ["sections.institution_id", "sections.id"],
            name=op.f("fk_assignments_institution_id_section_id_sections"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id", "subject_code"],
            ["subjects.institution_id", "subjects.code"],
            name=op.f("fk_assignments_institution_id_subject_code_subjects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_assignments")),
        sa.UniqueConstraint(
            "institution_id",
            "faculty_id",
            "subject_code",
            "section_id",
            name="uq_assignments_natural_key",
        ),
    )
    op.create_index(
        op.f("ix_assignments_institution_id_section_id"),
        "assignments",
        ["institution_id", "section_id"],
        unique=False,
    )
    op.create_table(
        "students",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("section_id", sa.String(length=64), nullable=False),
        sa.Column("roll_number", sa.Integer(), nullable=True),
        sa.Column("is_class_representative", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id", "section_id"],
            ["sections.institution_id", "sections.id"],
            name=op.f("fk_students_institution_id_section_id_sections"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_students")),
        sa.UniqueConstraint(
            "institution_id", "email", name=op.f("uq_students_institution_id_email")
        ),
    )
    op.create_index(
        op.f("ix_students_institution_id_section_id"),
        "students",
        ["institution_id", "section_id"],
        unique=False,
    )
    op.create_table(
        "class_sessions",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("section_id", sa.String(length=64), nullable=False),
        sa.Column("subject_code", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("teacher_id", sa.String(length=64), nullable=False),
        sa.Column("venue", sa.String(length=100), server_default="", nullable=False),
        sa.Column("slot_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=500), nullable=True),
        sa.Column("window_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_secret", sa.LargeBinary(), nullable=True),
        sa.Column("window_rotation_seconds", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tally_present", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tally_late", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tally_absent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tally_excused", sa.Integer(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "status IN ('scheduled', 'open', 'completed', 'cancelled')",
            name=op.f("ck_class_sessions_session_status"),
        ),
        sa.CheckConstraint("start_time < end_time", name=op.f("ck_class_sessions_session_times")),
        sa.ForeignKeyConstraint(
            ["institution_id", "assignment_id"],
            ["assignments.institution_id", "assignments.id"],
            name=op.f("fk_class_sessions_institution_id_assignment_id_assignments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id", "section_id"],
            ["sections.institution_id", "sections.id"],
            name=op.f("fk_class_sessions_institution_id_section_id_sections"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id", "teacher_id"],
            ["faculty.institution_id", "faculty.id"],
            name=op.f("fk_class_sessions_institution_id_teacher_id_faculty"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_class_sessions")),
        sa.UniqueConstraint(
            "institution_id",
            "slot_id",
            "day",
            name=op.f("uq_class_sessions_institution_id_slot_id_day"),
        ),
    )
    op.create_index(
        op.f("ix_class_sessions_institution_id_assignment_id_day"),
        "class_sessions",
        ["institution_id", "assignment_id", "day"],
        unique=False,
        postgresql_include=[
            "id",
            "status",
            "start_time",
            "tally_present",
            "tally_late",
            "tally_absent",
            "tally_excused",
        ],
    )
    op.create_index(
        op.f("ix_class_sessions_institution_id_section_id_day"),
        "class_sessions",
        ["institution_id", "section_id", "day"],
        unique=False,
        postgresql_include=["subject_code", "status"],
    )
    op.create_index(
        op.f("ix_class_sessions_institution_id_teacher_id_day"),
        "class_sessions",
        ["institution_id", "teacher_id", "day"],
        unique=False,
    )
    op.create_index(
        "ix_class_sessions_open",
        "class_sessions",
        ["institution_id", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "device_bindings",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id", "student_id"],
            ["students.institution_id", "students.id"],
            name=op.f("fk_device_bindings_institution_id_student_id_students"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "student_id", name=op.f("pk_device_bindings")),
        sa.UniqueConstraint(
            "institution_id", "device_id", name=op.f("uq_device_bindings_institution_id_device_id")
        ),
    )
    op.create_table(
        "weekly_slots",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=64), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("venue", sa.String(length=100), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("start_time < end_time", name=op.f("ck_weekly_slots_slot_times")),
        sa.CheckConstraint("weekday BETWEEN 1 AND 7", name=op.f("ck_weekly_slots_weekday")),
        sa.ForeignKeyConstraint(
            ["institution_id", "assignment_id"],
            ["assignments.institution_id", "assignments.id"],
            name=op.f("fk_weekly_slots_institution_id_assignment_id_assignments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_weekly_slots")),
    )
    op.create_table(
        "attendance_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_status", sa.String(length=16), nullable=True),
        sa.Column("new_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id", "session_id"],
            ["class_sessions.institution_id", "class_sessions.id"],
            name=op.f("fk_attendance_audit_institution_id_session_id_class_sessions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_audit")),
    )
    op.create_index(
        op.f("ix_attendance_audit_institution_id_session_id_id"),
        "attendance_audit",
        ["institution_id", "session_id", "id"],
        unique=False,
    )
    op.create_table(
        "attendance_marks",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marked_by", sa.String(length=254), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("subject_code", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counted", sa.Boolean(), server_default="false", nullable=False),
        sa.CheckConstraint(
            "status IN ('present', 'late', 'absent', 'excused')",
            name=op.f("ck_attendance_marks_mark_status"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id", "session_id"],
            ["class_sessions.institution_id", "class_sessions.id"],
            name=op.f("fk_attendance_marks_institution_id_session_id_class_sessions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id", "student_id"],
            ["students.institution_id", "students.id"],
            name=op.f("fk_attendance_marks_institution_id_student_id_students"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "institution_id", "session_id", "student_id", name=op.f("pk_attendance_marks")
        ),
    )
    op.create_index(
        "ix_attendance_marks_student_report",
        "attendance_marks",
        ["institution_id", "student_id", "day"],
        unique=False,
        postgresql_include=["subject_code", "status", "counted"],
    )
    op.create_table(
        "check_in_failures",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id", "session_id"],
            ["class_sessions.institution_id", "class_sessions.id"],
            name=op.f("fk_check_in_failures_institution_id_session_id_class_sessions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "institution_id", "session_id", "student_id", name=op.f("pk_check_in_failures")
        ),
    )
    op.create_table(
        "cover_assignments",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("substitute_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_cover_assignments_cover_times")),
        sa.ForeignKeyConstraint(
            ["institution_id", "session_id"],
            ["class_sessions.institution_id", "class_sessions.id"],
            name=op.f("fk_cover_assignments_institution_id_session_id_class_sessions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id", "substitute_id"],
            ["faculty.institution_id", "faculty.id"],
            name=op.f("fk_cover_assignments_institution_id_substitute_id_faculty"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_cover_assignments")),
        sa.UniqueConstraint(
            "institution_id",
            "session_id",
            name=op.f("uq_cover_assignments_institution_id_session_id"),
        ),
    )
    op.create_index(
        op.f("ix_cover_assignments_institution_id_substitute_id_starts_at"),
        "cover_assignments",
        ["institution_id", "substitute_id", "starts_at"],
        unique=False,
    )
    if _is_postgres():
        _secure_postgres()


def downgrade() -> None:
    # policies and grants go with their tables; the shared role and extension stay
    op.drop_index(
        op.f("ix_cover_assignments_institution_id_substitute_id_starts_at"),
        table_name="cover_assignments",
    )
    op.drop_table("cover_assignments")
    op.drop_table("check_in_failures")
    op.drop_index(
        "ix_attendance_marks_student_report",
        table_name="attendance_marks",
        postgresql_include=["subject_code", "status", "counted"],
    )
    op.drop_table("attendance_marks")
    op.drop_index(
        op.f("ix_attendance_audit_institution_id_session_id_id"), table_name="attendance_audit"
    )
    op.drop_table("attendance_audit")
    op.drop_table("weekly_slots")
    op.drop_table("device_bindings")
    op.drop_index(
        "ix_class_sessions_open",
        table_name="class_sessions",
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.drop_index(
        op.f("ix_class_sessions_institution_id_teacher_id_day"), table_name="class_sessions"
    )
    op.drop_index(
        op.f("ix_class_sessions_institution_id_section_id_day"), table_name="class_sessions"
    )
    op.drop_index(
        op.f("ix_class_sessions_institution_id_assignment_id_day"), table_name="class_sessions"
    )
    op.drop_table("class_sessions")
    op.drop_index(op.f("ix_students_institution_id_section_id"), table_name="students")
    op.drop_table("students")
    op.drop_index(op.f("ix_assignments_institution_id_section_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_table("terms")
    op.drop_table("subjects")
    op.drop_index(op.f("ix_security_events_institution_id_at"), table_name="security_events")
    op.drop_table("security_events")
    op.drop_table("sections")
    op.drop_index(
        "ix_outbox_pending",
        table_name="outbox",
        postgresql_where=sa.text("delivered_at IS NULL"),
        sqlite_where=sa.text("delivered_at IS NULL"),
    )
    op.drop_table("outbox")
    op.drop_index(op.f("ix_institution_domains_institution_id"), table_name="institution_domains")
    op.drop_table("institution_domains")
    op.drop_table("holidays")
    op.drop_table("faculty")
    op.drop_table("institutions")
