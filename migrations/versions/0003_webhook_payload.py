"""Webhook deliveries keep the events they carried, for the job that processes them

The web request verifies and records a delivery, then hands only its id to the job
queue; the job reads which companies and objects changed from this column.

Revision ID: 0003
Revises: 0002
Created: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("payload", sa.JSON()))


def downgrade() -> None:
    op.drop_column("webhook_deliveries", "payload")
