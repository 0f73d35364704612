"""Audit and security-event review: indexes for a student's trail and a student's events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Reading the audit trail (``GET /api/v1/students/{id}/audit``) pages one student's entries
across sessions, newest first; reviewing security events filters them by student. Without
these indexes PostgreSQL scans every entry (or event) of the institution for each page.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_INDEX = "ix_attendance_audit_institution_id_student_id_id"
EVENTS_INDEX = "ix_security_events_institution_id_student_id_at"


def upgrade() -> None:
    op.create_index(AUDIT_INDEX, "attendance_audit", ["institution_id", "student_id", "id"])
    op.create_index(EVENTS_INDEX, "security_events", ["institution_id", "student_id", "at"])


def downgrade() -> None:
    op.drop_index(EVENTS_INDEX, table_name="security_events")
    op.drop_index(AUDIT_INDEX, table_name="attendance_audit")
