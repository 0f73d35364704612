"""Outbox parts: a notification to a large audience is delivered in parts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

A worker splits a notification for many devices into parts, one job each, so that several
worker processes push it together; ``parts`` is how many, ``parts_done`` has one bit per
part delivered (its counts are added to ``delivered`` and ``failed``). The last part sets
``delivered_at``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("parts", sa.SmallInteger(), nullable=True))
    op.add_column(
        "outbox",
        sa.Column("parts_done", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("parts_done")
        batch.drop_column("parts")
