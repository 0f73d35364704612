"""Cover work: teacher absences, cover needs, cover plans, cover offers and substitute
preferences.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

The five new tables are tenant tables: every row carries ``institution_id`` and refers to
its parents through (institution_id, id) pairs (ON DELETE RESTRICT, so a teacher, section,
subject or session that cover work refers to cannot be deleted). On PostgreSQL they get
forced row-level security with the same ``institution_isolation`` policy as the tenant
tables of 0001 and 0002 (institution scope only) and the same grants to ``ams_app``.

Partial unique indexes keep one need that is not cancelled per session, one open offer per
need, and one preference per (substitute, kind, scope); they work on SQLite too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "ams_app"
TENANT_TABLES = (
    "absences",
    "cover_needs",
    "cover_plans",
    "cover_offers",
    "substitute_preferences",
)
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


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _tenant_fk(table: str, column: str, parent: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["institution_id", column],
        [f"{parent}.institution_id", f"{parent}.{key}"],
        name=op.f(f"fk_{table}_institution_id_{column}_{parent}"),
        ondelete="RESTRICT",
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), unique=False)


def _partial(name: str, table: str, columns: list[str], where: str, unique: bool) -> None:
    op.create_index(
        name,
        table,
        columns,
        unique=unique,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    op.create_table(
        "absences",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("faculty_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.String(length=254), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=254), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "kind IN ('sick', 'personal', 'official_duty', 'other')",
            name=op.f("ck_absences_absence_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('reported', 'approved', 'cancelled')",
            name=op.f("ck_absences_absence_status"),
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_absences_absence_times")),
        _tenant_fk("absences", "faculty_id", "faculty"),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_absences")),
    )
    _index("absences", "institution_id", "faculty_id", "starts_at")
    _index("absences", "institution_id", "starts_at")

    op.create_table(
        "cover_needs",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("absence_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("absent_faculty_id", sa.String(length=64), nullable=False),
        sa.Column("section_id", sa.String(length=64), nullable=False),
        sa.Column("subject_code", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("substitute_id", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'offered', 'covered', 'escalated', 'cancelled')",
            name=op.f("ck_cover_needs_need_status"),
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_cover_needs_need_times")),
        _tenant_fk("cover_needs", "absence_id", "absences"),
        _tenant_fk("cover_needs", "absent_faculty_id", "faculty"),
        _tenant_fk("cover_needs", "session_id", "class_sessions"),
        _tenant_fk("cover_needs", "substitute_id", "faculty"),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_cover_needs")),
    )
    _index("cover_needs", "institution_id", "absence_id", "starts_at")
    _index("cover_needs", "institution_id", "absent_faculty_id")
    _index("cover_needs", "institution_id", "day", "starts_at")
    _index("cover_needs", "institution_id", "substitute_id")
    _partial(
        "uq_cover_needs_active_session",
        "cover_needs",
        ["institution_id", "session_id"],
        "status <> 'cancelled'",
        unique=True,
    )

    op.create_table(
        "cover_plans",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("solver", sa.String(length=64), nullable=False),
        sa.Column("assignments", _json(), nullable=False),
        sa.Column("uncovered", _json(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'superseded', 'cancelled')",
            name=op.f("ck_cover_plans_plan_status"),
        ),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_cover_plans_plan_days")),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_cover_plans_institution_id_institutions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_cover_plans")),
    )
    _index("cover_plans", "institution_id", "created_at")
    _partial(
        "ix_cover_plans_drafts",
        "cover_plans",
        ["institution_id", "first_day"],
        "status = 'draft'",
        unique=False,
    )

    op.create_table(
        "cover_offers",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("need_id", sa.String(length=64), nullable=False),
        sa.Column("substitute_id", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", _json(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "status IN ('offered', 'accepted', 'declined', 'expired', 'withdrawn')",
            name=op.f("ck_cover_offers_offer_status"),
        ),
        sa.CheckConstraint("offered_at < expires_at", name=op.f("ck_cover_offers_offer_times")),
        _tenant_fk("cover_offers", "need_id", "cover_needs"),
        _tenant_fk("cover_offers", "plan_id", "cover_plans"),
        _tenant_fk("cover_offers", "substitute_id", "faculty"),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_cover_offers")),
    )
    _index("cover_offers", "institution_id", "need_id", "attempt")
    _index("cover_offers", "institution_id", "offered_at")
    _index("cover_offers", "institution_id", "plan_id")
    _index("cover_offers", "institution_id", "substitute_id", "offered_at")
    _partial(
        "ix_cover_offers_open_expiry",
        "cover_offers",
        ["institution_id", "expires_at"],
        "status = 'offered'",
        unique=False,
    )
    _partial(
        "uq_cover_offers_open_need",
        "cover_offers",
        ["institution_id", "need_id"],
        "status = 'offered'",
        unique=True,
    )

    op.create_table(
        "substitute_preferences",
        sa.Column("institution_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("substitute_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("faculty_id", sa.String(length=64), nullable=True),
        sa.Column("section_id", sa.String(length=64), nullable=True),
        sa.Column("subject_code", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "kind IN ('preferred', 'excluded')",
            name=op.f("ck_substitute_preferences_preference_kind"),
        ),
        sa.CheckConstraint(
            "(CASE WHEN faculty_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN section_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN subject_code IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_substitute_preferences_preference_scope"),
        ),
        _tenant_fk("substitute_preferences", "faculty_id", "faculty"),
        _tenant_fk("substitute_preferences", "section_id", "sections"),
        _tenant_fk("substitute_preferences", "subject_code", "subjects", "code"),
        _tenant_fk("substitute_preferences", "substitute_id", "faculty"),
        sa.PrimaryKeyConstraint("institution_id", "id", name=op.f("pk_substitute_preferences")),
    )
    _index("substitute_preferences", "institution_id", "faculty_id")
    _index("substitute_preferences", "institution_id", "section_id")
    _index("substitute_preferences", "institution_id", "subject_code")
    for scope in ("faculty_id", "section_id", "subject_code"):
        _partial(
            f"uq_substitute_preferences_{scope}",
            "substitute_preferences",
            ["institution_id", "substitute_id", "kind", scope],
            f"{scope} IS NOT NULL",
            unique=True,
        )

    if _is_postgres():
        for table in TENANT_TABLES:
            _enable_rls(table, f"institution_id = {CURRENT_INSTITUTION}")


def downgrade() -> None:
    # indexes, policies and grants go with their tables
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
