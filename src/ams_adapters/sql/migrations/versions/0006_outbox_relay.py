"""Outbox relay: when a notification was last handed to the job queue.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

The relay hands undelivered notifications to the job queue (dramatiq on Redis, or the
in-process queue) and records when; a notification handed over recently is not handed over
again until its job had time to run, so one that keeps failing never blocks the ones behind
it, and one whose job was lost is handed over again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("relayed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "relayed_at")
