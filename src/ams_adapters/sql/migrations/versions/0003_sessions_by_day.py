"""Sessions by day: an index for session lists and double-booking checks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Managing sessions (issue 4) reads every session of an institution on a day or in a date
range; without this index PostgreSQL scans the institution's whole term.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_class_sessions_institution_id_day_start_time"


def upgrade() -> None:
    op.create_index(INDEX, "class_sessions", ["institution_id", "day", "start_time"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="class_sessions")
