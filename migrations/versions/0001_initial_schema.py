"""Initial schema: tenants, connections, ledger mirror, cases, fees, outboxes, audit

Money is NUMERIC(18, 4) on PostgreSQL and a BIGINT count of ten-thousandths on SQLite
(which has no exact decimal); instants are timestamptz. The audit log refuses UPDATE
and DELETE with a trigger on both databases. Imports no app models on purpose: this
file must keep describing this revision whatever the models become.

Revision ID: 0001
Revises:
Created: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def exact(precision: int, scale: int) -> sa.types.TypeEngine:
    """A fixed-point column: NUMERIC on PostgreSQL, a scaled BIGINT on SQLite."""
    return sa.Numeric(precision, scale).with_variant(sa.BigInteger(), "sqlite")


AUDIT_GUARD_PG = """
CREATE FUNCTION care_audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def _audit_guard_up() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_GUARD_PG)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
            " FOR EACH ROW EXECUTE FUNCTION care_audit_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log"
                f" BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {verb} refused');"
                " END"
            )


def _audit_guard_down() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS care_audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def upgrade() -> None:
    op.create_table(
        "creditors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("home_currency", sa.String(length=3), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("letterhead_name", sa.String(length=200), nullable=True),
        sa.Column("letterhead_address", sa.Text(), nullable=True),
        sa.Column("letterhead_email", sa.String(length=254), nullable=True),
        sa.Column("letterhead_phone", sa.String(length=40), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("cadence", sa.JSON(), nullable=False),
        sa.Column("fee_rate", exact(18, 8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creditors")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ledger", sa.String(length=16), nullable=False),
        sa.Column("delivery_key", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "ledger IN ('quickbooks', 'xero')",
            name=op.f("ck_webhook_deliveries_ledger"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "delivery_key", name=op.f("uq_webhook_deliveries_delivery_key")
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(length=200), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("from_state", sa.String(length=30), nullable=True),
        sa.Column("to_state", sa.String(length=30), nullable=True),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_audit_log_creditor_id_creditors"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_creditor_at", "audit_log", ["creditor_id", "at"], unique=False
    )
    op.create_index(
        "ix_audit_log_entity", "audit_log", ["entity", "entity_id"], unique=False
    )

    op.create_table(
        "ledger_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("ledger", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("id_token", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disconnected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sync_cursor", sa.JSON(), nullable=True),
        sa.Column("sync_state", sa.String(length=16), nullable=False),
        sa.Column("sync_progress", sa.JSON(), nullable=False),
        sa.Column("sync_error", sa.Text(), nullable=True),
        sa.Column("sync_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("full_sync_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_full_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "last_incremental_sync_at", sa.DateTime(timezone=True), nullable=True
        ),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("api_calls_day", sa.Integer(), nullable=False),
        sa.Column("api_calls_day_started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_limited_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ledger IN ('quickbooks', 'xero')",
            name=op.f("ck_ledger_connections_ledger"),
        ),
        sa.CheckConstraint(
            "status IN ('connected', 'disconnected', 'needs_reconnect')",
            name=op.f("ck_ledger_connections_status"),
        ),
        sa.CheckConstraint(
            "sync_state IN ('failed', 'idle', 'queued', 'running', 'waiting')",
            name=op.f("ck_ledger_connections_sync_state"),
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_ledger_connections_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_connections")),
        sa.UniqueConstraint(
            "creditor_id",
            "ledger",
            "external_id",
            name=op.f("uq_ledger_connections_creditor_id_ledger_external_id"),
        ),
    )
    op.create_index(
        op.f("ix_ledger_connections_creditor_id"),
        "ledger_connections",
        ["creditor_id"],
        unique=False,
    )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "creditor_id IS NOT NULL OR role IN ('representative', 'program_admin')",
            name=op.f("ck_users_creditor_staff_have_creditor"),
        ),
        sa.CheckConstraint(
            "role IN ('creditor_admin', 'creditor_viewer', 'program_admin', 'representative')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_users_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(
        op.f("ix_users_creditor_id"), "users", ["creditor_id"], unique=False
    )

    op.create_table(
        "debtors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("ledger_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("contact_name", sa.String(length=300), nullable=True),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("balance", exact(18, 4), nullable=True),
        sa.Column("strategic", sa.Boolean(), nullable=False),
        sa.Column("sms_consent", sa.Boolean(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("lifetime_revenue", exact(18, 4), nullable=True),
        sa.Column("lifetime_revenue_currency", sa.String(length=3), nullable=True),
        sa.Column("first_invoice_date", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("placeholder", sa.Boolean(), nullable=False),
        sa.Column("representative_id", sa.Integer(), nullable=True),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["ledger_connections.id"],
            name=op.f("fk_debtors_connection_id_ledger_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_debtors_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["representative_id"],
            ["users.id"],
            name=op.f("fk_debtors_representative_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtors")),
        sa.UniqueConstraint(
            "connection_id",
            "ledger_id",
            name=op.f("uq_debtors_connection_id_ledger_id"),
        ),
    )
    op.create_index(
        "ix_debtors_creditor_id_name", "debtors", ["creditor_id", "name"], unique=False
    )
    op.create_index(
        op.f("ix_debtors_representative_id"),
        "debtors",
        ["representative_id"],
        unique=False,
    )

    op.create_table(
        "fee_bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("amount", exact(18, 4), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("ledger_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('failed', 'issued', 'open', 'written')",
            name=op.f("ck_fee_bills_state"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["ledger_connections.id"],
            name=op.f("fk_fee_bills_connection_id_ledger_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_fee_bills_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_bills")),
        sa.UniqueConstraint(
            "creditor_id",
            "currency",
            "month",
            name=op.f("uq_fee_bills_creditor_id_currency_month"),
        ),
        sa.UniqueConstraint(
            "creditor_id", "key", name=op.f("uq_fee_bills_creditor_id_key")
        ),
    )
    op.create_table(
        "ledger_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("ledger_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('fee_bill', 'note', 'payment')",
            name=op.f("ck_ledger_writes_kind"),
        ),
        sa.CheckConstraint(
            "state IN ('done', 'failed', 'pending')",
            name=op.f("ck_ledger_writes_state"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["ledger_connections.id"],
            name=op.f("fk_ledger_writes_connection_id_ledger_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_ledger_writes_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_writes")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_ledger_writes_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_ledger_writes_creditor_id"),
        "ledger_writes",
        ["creditor_id"],
        unique=False,
    )
    op.create_index(
        "ix_ledger_writes_state_connection",
        "ledger_writes",
        ["state", "connection_id"],
        unique=False,
    )

    op.create_table(
        "oauth_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=128), nullable=False),
        sa.Column("ledger", sa.String(length=16), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=True),
        sa.Column("creditor_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "ledger IN ('quickbooks', 'xero')", name=op.f("ck_oauth_states_ledger")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["ledger_connections.id"],
            name=op.f("fk_oauth_states_connection_id_ledger_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_oauth_states_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state", name=op.f("uq_oauth_states_state")),
    )
    op.create_index(
        op.f("ix_oauth_states_creditor_id"),
        "oauth_states",
        ["creditor_id"],
        unique=False,
    )

    op.create_table(
        "credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("ledger_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", exact(18, 4), nullable=False),
        sa.Column("remaining", exact(18, 4), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["ledger_connections.id"],
            name=op.f("fk_credits_connection_id_ledger_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_credits_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name=op.f("fk_credits_debtor_id_debtors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credits")),
        sa.UniqueConstraint(
            "connection_id",
            "ledger_id",
            name=op.f("uq_credits_connection_id_ledger_id"),
        ),
    )
    op.create_index(
        op.f("ix_credits_debtor_id"), "credits", ["debtor_id"], unique=False
    )

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("ledger_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", exact(18, 4), nullable=False),
        sa.Column("amount_due", exact(18, 4), nullable=False),
        sa.Column("home_currency", sa.String(length=3), nullable=True),
        sa.Column("home_amount_due", exact(18, 4), nullable=True),
        sa.Column("exchange_rate", exact(18, 8), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("dispute_reason", sa.Text(), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("days_late", sa.Integer(), nullable=True),
        sa.Column("evaluated_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('escalate', 'refer', 'skip', 'wait')",
            name=op.f("ck_invoices_decision"),
        ),
        sa.CheckConstraint(
            "status IN ('deleted', 'open', 'paid', 'voided')",
            name=op.f("ck_invoices_status"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["ledger_connections.id"],
            name=op.f("fk_invoices_connection_id_ledger_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_invoices_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name=op.f("fk_invoices_debtor_id_debtors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint(
            "connection_id",
            "ledger_id",
            name=op.f("uq_invoices_connection_id_ledger_id"),
        ),
    )
    op.create_index(
        "ix_invoices_creditor_decision",
        "invoices",
        ["creditor_id", "decision"],
        unique=False,
    )
    op.create_index(
        "ix_invoices_creditor_number",
        "invoices",
        ["creditor_id", "number"],
        unique=False,
    )
    op.create_index(
        "ix_invoices_creditor_status_due",
        "invoices",
        ["creditor_id", "status", "due_date"],
        unique=False,
    )
    op.create_index(
        op.f("ix_invoices_debtor_id"), "invoices", ["debtor_id"], unique=False
    )

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("ledger_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", exact(18, 4), nullable=False),
        sa.Column("unapplied", exact(18, 4), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('overpayment', 'payment', 'prepayment')",
            name=op.f("ck_payments_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["ledger_connections.id"],
            name=op.f("fk_payments_connection_id_ledger_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_payments_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name=op.f("fk_payments_debtor_id_debtors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "connection_id",
            "ledger_id",
            name=op.f("uq_payments_connection_id_ledger_id"),
        ),
    )
    op.create_index(
        op.f("ix_payments_debtor_id"), "payments", ["debtor_id"], unique=False
    )

    op.create_table(
        "referral_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("representative_id", sa.Integer(), nullable=True),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tier", sa.String(length=12), nullable=False),
        sa.Column("score", exact(12, 4), nullable=True),
        sa.Column("score_breakdown", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_referred", exact(18, 4), nullable=False),
        sa.Column("amount_due", exact(18, 4), nullable=False),
        sa.Column("amount_collected", exact(18, 4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('active', 'disputed', 'escalated', 'on_plan', 'promised', 'proposed', 'resolved_paid', 'withdrawn', 'written_off')",
            name=op.f("ck_referral_cases_state"),
        ),
        sa.CheckConstraint(
            "tier IN ('first_party', 'frontline', 'third_party')",
            name=op.f("ck_referral_cases_tier"),
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_referral_cases_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name=op.f("fk_referral_cases_debtor_id_debtors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["representative_id"],
            ["users.id"],
            name=op.f("fk_referral_cases_representative_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_cases")),
    )
    op.create_index(
        "ix_referral_cases_creditor_state",
        "referral_cases",
        ["creditor_id", "state"],
        unique=False,
    )
    op.create_index(
        op.f("ix_referral_cases_debtor_id"),
        "referral_cases",
        ["debtor_id"],
        unique=False,
    )
    op.create_index(
        "ix_referral_cases_representative_state",
        "referral_cases",
        ["representative_id", "state"],
        unique=False,
    )
    op.create_index(
        "uq_referral_cases_open_debtor",
        "referral_cases",
        ["creditor_id", "debtor_id"],
        unique=True,
        sqlite_where=sa.text(
            "state IN ('active', 'disputed', 'on_plan', 'promised', 'proposed')"
        ),
        postgresql_where=sa.text(
            "state IN ('active', 'disputed', 'on_plan', 'promised', 'proposed')"
        ),
    )

    op.create_table(
        "case_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_at_referral", exact(18, 4), nullable=False),
        sa.Column("home_amount_at_referral", exact(18, 4), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["referral_cases.id"],
            name=op.f("fk_case_invoices_case_id_referral_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_case_invoices_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_case_invoices_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_invoices")),
        sa.UniqueConstraint(
            "case_id", "invoice_id", name=op.f("uq_case_invoices_case_id_invoice_id")
        ),
    )
    op.create_index(
        op.f("ix_case_invoices_invoice_id"),
        "case_invoices",
        ["invoice_id"],
        unique=False,
    )

    op.create_table(
        "credit_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("credit_id", sa.Integer(), nullable=False),
        sa.Column("invoice_ledger_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", exact(18, 4), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_id"],
            ["credits.id"],
            name=op.f("fk_credit_applications_credit_id_credits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_credit_applications_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_credit_applications_invoice_id_invoices"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_applications")),
        sa.UniqueConstraint(
            "credit_id",
            "invoice_ledger_id",
            name=op.f("uq_credit_applications_credit_id_invoice_ledger_id"),
        ),
    )
    op.create_index(
        op.f("ix_credit_applications_invoice_id"),
        "credit_applications",
        ["invoice_id"],
        unique=False,
    )

    op.create_table(
        "fee_accruals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("collected_amount", exact(18, 4), nullable=False),
        sa.Column("fee_amount", exact(18, 4), nullable=False),
        sa.Column("rate", exact(18, 8), nullable=False),
        sa.Column("accrued_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["fee_bills.id"],
            name=op.f("fk_fee_accruals_bill_id_fee_bills"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["referral_cases.id"],
            name=op.f("fk_fee_accruals_case_id_referral_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_fee_accruals_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_fee_accruals_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_fee_accruals_payment_id_payments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_accruals")),
        sa.UniqueConstraint(
            "payment_id",
            "invoice_id",
            name=op.f("uq_fee_accruals_payment_id_invoice_id"),
        ),
    )
    op.create_index(
        op.f("ix_fee_accruals_bill_id"), "fee_accruals", ["bill_id"], unique=False
    )
    op.create_index(
        op.f("ix_fee_accruals_case_id"), "fee_accruals", ["case_id"], unique=False
    )
    op.create_index(
        op.f("ix_fee_accruals_creditor_id"),
        "fee_accruals",
        ["creditor_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_fee_accruals_invoice_id"), "fee_accruals", ["invoice_id"], unique=False
    )

    op.create_table(
        "outreach_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("content_path", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('call', 'email', 'letter', 'sms')",
            name=op.f("ck_outreach_steps_channel"),
        ),
        sa.CheckConstraint(
            "state IN ('cancelled', 'failed', 'scheduled', 'sent', 'skipped')",
            name=op.f("ck_outreach_steps_state"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["referral_cases.id"],
            name=op.f("fk_outreach_steps_case_id_referral_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_outreach_steps_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_steps")),
        sa.UniqueConstraint(
            "case_id", "step_number", name=op.f("uq_outreach_steps_case_id_step_number")
        ),
    )
    op.create_index(
        op.f("ix_outreach_steps_creditor_id"),
        "outreach_steps",
        ["creditor_id"],
        unique=False,
    )
    op.create_index(
        "ix_outreach_steps_state_due_at",
        "outreach_steps",
        ["state", "due_at"],
        unique=False,
    )

    op.create_table(
        "payment_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("invoice_ledger_id", sa.String(length=64), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", exact(18, 4), nullable=False),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_payment_applications_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_payment_applications_invoice_id_invoices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_applications_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_applications")),
        sa.UniqueConstraint(
            "payment_id",
            "invoice_ledger_id",
            name=op.f("uq_payment_applications_payment_id_invoice_ledger_id"),
        ),
    )
    op.create_index(
        op.f("ix_payment_applications_invoice_id"),
        "payment_applications",
        ["invoice_id"],
        unique=False,
    )

    op.create_table(
        "payment_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", exact(18, 4), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('active', 'broken', 'cancelled', 'completed')",
            name=op.f("ck_payment_plans_state"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["referral_cases.id"],
            name=op.f("fk_payment_plans_case_id_referral_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_payment_plans_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_payment_plans_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_plans")),
    )
    op.create_index(
        op.f("ix_payment_plans_case_id"), "payment_plans", ["case_id"], unique=False
    )
    op.create_index(
        op.f("ix_payment_plans_creditor_id"),
        "payment_plans",
        ["creditor_id"],
        unique=False,
    )

    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("promised_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", exact(18, 4), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('broken', 'cancelled', 'kept', 'open')",
            name=op.f("ck_promises_state"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["referral_cases.id"],
            name=op.f("fk_promises_case_id_referral_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_promises_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_promises_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promises")),
    )
    op.create_index(op.f("ix_promises_case_id"), "promises", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_promises_creditor_id"), "promises", ["creditor_id"], unique=False
    )
    op.create_index(
        "ix_promises_state_due_on", "promises", ["state", "due_on"], unique=False
    )

    op.create_table(
        "effects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("idempotency_key", sa.String(length=400), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('call', 'email', 'letter', 'sms')",
            name=op.f("ck_effects_channel"),
        ),
        sa.CheckConstraint(
            "state IN ('failed', 'pending', 'sent')", name=op.f("ck_effects_state")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["referral_cases.id"],
            name=op.f("fk_effects_case_id_referral_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_effects_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["outreach_steps.id"],
            name=op.f("fk_effects_step_id_outreach_steps"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_effects")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_effects_idempotency_key")),
    )
    op.create_index(op.f("ix_effects_case_id"), "effects", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_effects_creditor_id"), "effects", ["creditor_id"], unique=False
    )
    op.create_index(
        "ix_effects_state_created_at", "effects", ["state", "created_at"], unique=False
    )

    op.create_table(
        "instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", exact(18, 4), nullable=False),
        sa.Column("paid_amount", exact(18, 4), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.CheckConstraint(
            "state IN ('due', 'missed', 'paid')", name=op.f("ck_instalments_state")
        ),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_instalments_creditor_id_creditors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["payment_plans.id"],
            name=op.f("fk_instalments_plan_id_payment_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instalments")),
        sa.UniqueConstraint(
            "plan_id", "number", name=op.f("uq_instalments_plan_id_number")
        ),
    )
    op.create_index(
        op.f("ix_instalments_creditor_id"), "instalments", ["creditor_id"], unique=False
    )
    _audit_guard_up()


def downgrade() -> None:
    _audit_guard_down()
    op.drop_table("instalments")
    op.drop_table("effects")
    op.drop_table("promises")
    op.drop_table("payment_plans")
    op.drop_table("payment_applications")
    op.drop_table("outreach_steps")
    op.drop_table("fee_accruals")
    op.drop_table("credit_applications")
    op.drop_table("case_invoices")
    op.drop_table("referral_cases")
    op.drop_table("payments")
    op.drop_table("invoices")
    op.drop_table("credits")
    op.drop_table("oauth_states")
    op.drop_table("ledger_writes")
    op.drop_table("fee_bills")
    op.drop_table("debtors")
    op.drop_table("users")
    op.drop_table("ledger_connections")
    op.drop_table("audit_log")
    op.drop_table("webhook_deliveries")
    op.drop_table("creditors")
