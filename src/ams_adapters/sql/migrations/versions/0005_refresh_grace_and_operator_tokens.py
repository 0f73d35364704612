"""Refresh grace and operator tokens: a signed-in session keeps the digest of the refresh
token it replaced; platform operators' access tokens are recorded, so they can be revoked.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

An app that refreshes twice at once presents the same refresh token twice; the second must
get the same successor, not revoke the session as a reused (stolen) token would. The
session keeps the replaced token's digest and when it was replaced (never a token).

``operator_sign_ins`` records each platform-operator access token (its ``sid``, never the
token). It belongs to no institution: on PostgreSQL it gets forced row-level security with
a policy that admits only the platform scope (no institution scope sees or writes a row),
and the same grants to the ``ams_app`` role as every other table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "ams_app"
PLATFORM_SCOPE = "current_setting('app.scope', true) = 'platform'"


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.add_column("sign_ins", sa.Column("previous_digest", sa.String(128), nullable=True))
    op.add_column("sign_ins", sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "operator_sign_ins",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_sign_ins")),
    )
    op.create_index(
        op.f("ix_operator_sign_ins_revoked_at"), "operator_sign_ins", ["revoked_at"], unique=False
    )
    if _is_postgres():
        op.execute("ALTER TABLE operator_sign_ins ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE operator_sign_ins FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY platform_only ON operator_sign_ins USING ({PLATFORM_SCOPE}) "
            f"WITH CHECK ({PLATFORM_SCOPE})"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON operator_sign_ins TO {APP_ROLE}")


def downgrade() -> None:
    # the policy and grants go with the table
    op.drop_index(op.f("ix_operator_sign_ins_revoked_at"), table_name="operator_sign_ins")
    op.drop_table("operator_sign_ins")
    with op.batch_alter_table("sign_ins") as table:
        table.drop_column("rotated_at")
        table.drop_column("previous_digest")
