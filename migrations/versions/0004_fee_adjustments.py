"""Fee accruals can be adjusted: a reversal when a payment is deleted, voided or cut

A payment that earned a fee keeps its first accrual (seq 0); each later change the
ledger makes to it adds a row (seq 1, 2, ...), negative for money taken back. The
UNIQUE (payment, invoice) becomes (payment, invoice, seq).

Revision ID: 0004
Revises: 0003
Created: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The older schema holds one row per payment and invoice: fold the adjustments into
# it, so case amounts and fee totals still net them. An adjustment not yet billed is
# then billed (or not) with that row, as the older code would.
FOLD = """
UPDATE fee_accruals SET
  collected_amount = (
    SELECT SUM(a.collected_amount) FROM fee_accruals a
    WHERE a.payment_id = fee_accruals.payment_id
      AND a.invoice_id = fee_accruals.invoice_id),
  fee_amount = (
    SELECT SUM(a.fee_amount) FROM fee_accruals a
    WHERE a.payment_id = fee_accruals.payment_id
      AND a.invoice_id = fee_accruals.invoice_id)
WHERE seq = 0 AND payment_id IS NOT NULL AND EXISTS (
  SELECT 1 FROM fee_accruals b
  WHERE b.payment_id = fee_accruals.payment_id
    AND b.invoice_id = fee_accruals.invoice_id AND b.seq > 0)
"""


def upgrade() -> None:
    # A batch copy on SQLite: fee_accruals is a leaf table, nothing cascades from it.
    with op.batch_alter_table("fee_accruals") as batch:
        batch.add_column(
            sa.Column("seq", sa.Integer(), nullable=False, server_default="0")
        )
        batch.drop_constraint("uq_fee_accruals_payment_id_invoice_id", type_="unique")
        batch.create_unique_constraint(
            "uq_fee_accruals_payment_id_invoice_id_seq",
            ["payment_id", "invoice_id", "seq"],
        )


def downgrade() -> None:
    op.execute(FOLD)
    op.execute("DELETE FROM fee_accruals WHERE seq > 0")
    with op.batch_alter_table("fee_accruals") as batch:
        batch.drop_constraint(
            "uq_fee_accruals_payment_id_invoice_id_seq", type_="unique"
        )
        batch.create_unique_constraint(
            "uq_fee_accruals_payment_id_invoice_id", ["payment_id", "invoice_id"]
        )
        batch.drop_column("seq")
