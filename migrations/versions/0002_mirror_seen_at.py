"""Mirror rows remember when a sync last listed them (full-pull reconciliation)

A full pull that completes without listing a row means the ledger deleted it
(QuickBooks CDC only reports deletions for 30 days). `seen_at` makes that visible.

Revision ID: 0002
Revises: 0001
Created: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("debtors", "invoices", "payments", "credits")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("seen_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy would drop and recreate these
    # parent tables, which SQLite with foreign keys ON cascades to their children.
    for table in reversed(TABLES):
        op.drop_column(table, "seen_at")
