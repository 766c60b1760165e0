"""A deterministic company generator: seeded, ledger-shaped books for the sandboxes.

    books = generate(seed=7, invoices=500, today=date(2025, 5, 1), ledger=Ledger.XERO)

Same arguments, same books, down to every id and cent, in any process. Any book of
about 50 invoices or more holds the hard cases real books do (`plans.forced_plans`).

How the records read, for the sandboxes that serve them:
- Payment terms are `due_date - issue_date`: 0 (due on receipt), 15, 30 or 60 days.
- `exchange_rate` is home units per invoice unit, as QuickBooks' ExchangeRate is
  (EUR invoice, USD home: 1.085). Xero's CurrencyRate reads the other way round
  (case C18: NZD base, AUD invoice, 0.9212), so a Xero sandbox shows 1 / rate.
- Voided and deleted invoices owe nothing and hold no money; QuickBooks zeroes a
  voided invoice's total, Xero keeps it.
- An overpayment is one QuickBooks Payment with UnappliedAmt, but in Xero a Payment
  for the invoice plus an Overpayment (kind OVERPAYMENT) for the rest. A prepayment
  (kind PREPAYMENT) is a QuickBooks Payment without lines, a Xero Prepayment.
- QuickBooks invoice Ids run 1..N and DocNumbers from 1001, so past 1,000 invoices an
  Id such as "1043" also reads as another invoice's number (case C33's trap).
"""

from connectors.sandbox.generator.books import GeneratedBooks, generate

__all__ = ["GeneratedBooks", "generate"]
