"""A deterministic company generator: seeded, ledger-shaped books for the sandboxes.

    books = generate(seed=7, invoices=500, today=date(2025, 5, 1), ledger=Ledger.XERO)

Same arguments, same books, down to every id and cent. Any book of about 50 invoices
or more holds the hard cases real books do (see `plans.forced_plans`).
"""

from connectors.sandbox.generator.books import GeneratedBooks, generate

__all__ = ["GeneratedBooks", "generate"]
