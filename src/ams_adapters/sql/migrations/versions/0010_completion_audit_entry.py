"""One audit entry per completion: ``attendance_audit.student_id`` may be NULL.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Completing a session writes one audit entry for the whole class (no student) that says how
many students without a mark became absent, instead of one entry per absence: each of those
marks already records who wrote it, when, and that the completion did (ADR 0020). Entries
written before stay as they are.

The downgrade gives each completion's absences their own entry again, from the marks the
completion wrote, before the column becomes NOT NULL again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONE_ENTRY_PER_ABSENCE = """
INSERT INTO attendance_audit
    (institution_id, session_id, student_id, actor, at, old_status, new_status, reason)
SELECT a.institution_id, a.session_id, m.student_id, a.actor, a.at, NULL, 'absent',
       'unmarked when the class was completed'
FROM attendance_audit a
JOIN attendance_marks m
  ON m.institution_id = a.institution_id AND m.session_id = a.session_id
 AND m.source = 'completion'
WHERE a.student_id IS NULL
ORDER BY a.id, m.student_id
"""


def upgrade() -> None:
    with op.batch_alter_table("attendance_audit") as batch:  # SQLite rebuilds the table
        batch.alter_column("student_id", existing_type=sa.String(64), nullable=True)


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:  # the owner reads and writes every institution's rows only without FORCE
        for table in ("attendance_audit", "attendance_marks"):
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(_ONE_ENTRY_PER_ABSENCE)
    op.execute("DELETE FROM attendance_audit WHERE student_id IS NULL")
    if postgres:
        for table in ("attendance_audit", "attendance_marks"):
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    with op.batch_alter_table("attendance_audit") as batch:
        batch.alter_column("student_id", existing_type=sa.String(64), nullable=False)
