"""Delivery parts: a notification for a large audience is delivered by several jobs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

A delivery job may split a large audience into parts that run as separate jobs (on
several worker processes at once); each part records its delivered and failed counts in
``outbox.delivery_parts`` (part number → counts, and how many parts there are), and the last
part to finish marks the notification delivered with the sums.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.add_column("outbox", sa.Column("delivery_parts", json, nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "delivery_parts")
