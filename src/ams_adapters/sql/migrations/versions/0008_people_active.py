"""People can be deactivated: students and teachers missing from a full roster import.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

A deactivated person keeps their history (marks, sessions, covers) but is on no roster and
cannot sign in; importing them again, or an admin's edit, activates them again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("students", "faculty"):
        op.add_column(
            table, sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    for table in ("students", "faculty"):
        op.drop_column(table, "active")
