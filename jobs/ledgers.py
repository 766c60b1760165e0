"""Build the connector for a stored ledger connection: the one place jobs meet SDKs."""

from __future__ import annotations

from connectors.base import Connector
from connectors.budget import QUICKBOOKS_LIMITS, XERO_LIMITS, CallBudget
from jobs.runtime import Runtime


def connector_for(rt: Runtime, connection_id: int) -> Connector:
    """The connector of connection `connection_id`, with its tokens and call budget."""
    from app.models import Creditor, LedgerConnection
    from app.tokens import DbTokenStore

    with rt.sessions() as session:
        row = session.get(LedgerConnection, connection_id)
        if row is None:
            raise LookupError(f"no ledger connection {connection_id}")
        creditor = session.get(Creditor, row.creditor_id)
        ledger, external_id = row.ledger, row.external_id
        # Until the first sync adopts the company's zone the creditor holds the
        # install-time placeholder (UTC), which would override QBO's DefaultTimeZone.
        adopted = creditor is not None and row.sync_cursor is not None
        timezone = creditor.timezone if adopted and creditor else None

    store = DbTokenStore(rt.sessions, connection_id, rt.redis)
    budget = budget_for(rt, ledger, external_id)
    if ledger == "quickbooks":
        from connectors.quickbooks.connector import QuickBooksConnector

        return QuickBooksConnector(
            rt.settings.quickbooks,
            external_id,
            store,
            rt.redis,
            budget=budget,
            timezone=timezone,
        )
    from connectors.xero.connector import XeroConnector

    return XeroConnector(rt.settings.xero, store, rt.redis, external_id, budget=budget)


def budget_for(rt: Runtime, ledger: str, external_id: str) -> CallBudget:
    """The shared call budget of one realm (QuickBooks) or tenant (Xero)."""
    limits = QUICKBOOKS_LIMITS if ledger == "quickbooks" else XERO_LIMITS
    return CallBudget(rt.redis, f"{ledger}:{external_id}", limits)
