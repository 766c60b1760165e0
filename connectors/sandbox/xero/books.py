"""The Xero sandbox's bookkeeping: create and update documents, pay, allocate, note.

`Books` is what the API and the controller use; its parts live in `journal.py`
(storage, rollback, contacts, history), `invoicing.py` (invoices, bills, credit notes)
and `settling.py` (payments and allocations).
"""

from __future__ import annotations

from connectors.sandbox.xero.invoicing import CREDIT_TYPES, INVOICE_TYPES, Invoicing
from connectors.sandbox.xero.settling import Settling

__all__ = ["CREDIT_TYPES", "INVOICE_TYPES", "Books"]


class Books(Invoicing, Settling):
    """Writes to one tenant at one instant; `changes` lists (collection, id, event)."""
