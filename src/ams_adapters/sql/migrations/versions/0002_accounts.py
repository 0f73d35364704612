"""Accounts: signed-in sessions, password credentials, push tokens; outbox history index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

The three new tables are tenant tables: on PostgreSQL they get forced row-level security
with the same ``institution_isolation`` policy as the tenant tables of 0001 (institution
scope only) and the same grants to the ``ams_app`` role (which 0001 created).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "ams_app"
TENANT_TABLES = ("sign_ins", "password_credentials", "push_tokens")
CURRENT_INSTITUTION = "NULLIF(current_setting('app.institution_id', true), '')"


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _enable_rls(table: str, condition: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY institution_isolation ON {table} USING ({condition}) "
        f"WITH CHECK ({condition})"
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_history",
        "outbox",
        ["institution_id", "kind", "created_at"],
        unique=False,
    )
    op.create_table(
        "sign_ins",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("refresh_digest", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "method IN ('google', 'password', 'local')", name=op.f("ck_sign_ins_sign_in_method")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_sign_ins_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_sign_ins")),
    )
    op.create_index(
        op.f("ix_sign_ins_institution_id_email"),
        "sign_ins",
        ["institution_id", "email"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sign_ins_institution_id_revoked_at"),
        "sign_ins",
        ["institution_id", "revoked_at"],
        unique=False,
    )
    op.create_table(
        "password_credentials",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=512), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "failed_attempts >= 0", name=op.f("ck_password_credentials_failed_attempts")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_password_credentials_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "email", name=op.f("pk_password_credentials")),
    )
    op.create_table(
        "push_tokens",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("owner_email", sa.String(length=254), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=True),
        sa.Column("faculty_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "platform IN ('android', 'ios', 'web')", name=op.f("ck_push_tokens_push_platform")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_push_tokens_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id", "student_id"],
            ["students.institution_id", "students.id"],
            name=op.f("fk_push_tokens_institution_id_student_id_students"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id", "faculty_id"],
            ["faculty.institution_id", "faculty.id"],
            name=op.f("fk_push_tokens_institution_id_faculty_id_faculty"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "token_digest", name=op.f("pk_push_tokens")),
    )
    op.create_index(
        op.f("ix_push_tokens_institution_id_student_id"),
        "push_tokens",
        ["institution_id", "student_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_push_tokens_institution_id_faculty_id"),
        "push_tokens",
        ["institution_id", "faculty_id"],
        unique=False,
    )
    if _is_postgres():
        for table in TENANT_TABLES:
            _enable_rls(table, f"institution_id = {CURRENT_INSTITUTION}")


def downgrade() -> None:
    # policies and grants go with their tables
    op.drop_index(op.f("ix_push_tokens_institution_id_faculty_id"), table_name="push_tokens")
    op.drop_index(op.f("ix_push_tokens_institution_id_student_id"), table_name="push_tokens")
    op.drop_table("push_tokens")
    op.drop_table("password_credentials")
    op.drop_index(op.f("ix_sign_ins_institution_id_revoked_at"), table_name="sign_ins")
    op.drop_index(op.f("ix_sign_ins_institution_id_email"), table_name="sign_ins")
    op.drop_table("sign_ins")
    op.drop_index("ix_outbox_history", table_name="outbox")
