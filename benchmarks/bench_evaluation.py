"""How fast a creditor's whole book evaluates: `python benchmarks/bench_evaluation.py`.

Builds a seeded book of invoices (mixed statuses, currencies, due dates, credits,
tags, promises), then times `evaluate_all` alone and prints seconds and invoices/s.
The target is about a second for 100,000 invoices.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from app.evaluation import InvoiceFacts, evaluate_all
from app.rules import parse_rules

TODAY = date(2025, 5, 1)


def book(n: int, seed: int = 7) -> list[InvoiceFacts]:
    """`n` invoices over n/20 customers, shaped like a real receivables ledger."""
    rng = random.Random(seed)
    customers = max(1, n // 20)
    statuses = ["open"] * 17 + ["paid", "voided", "deleted"]
    currencies = ["USD"] * 8 + ["EUR", "JPY"]
    invoices = []
    for i in range(n):
        customer = rng.randrange(customers)
        currency = rng.choice(currencies)
        cents = rng.randrange(1, 2_000_000)
        amount = Decimal(cents) if currency == "JPY" else Decimal(cents).scaleb(-2)
        home = None
        if currency == "EUR":
            home = (amount * Decimal("1.085")).quantize(Decimal("0.01"))
        elif currency == "JPY":
            home = (amount * Decimal("0.0067")).quantize(Decimal("0.01"))
        invoices.append(
            InvoiceFacts(
                invoice_id=str(i),
                customer_id=str(customer),
                number=f"INV-{i:06d}",
                currency=currency,
                amount_due=amount,
                home_amount_due=home,
                due_date=TODAY - timedelta(days=rng.randrange(-60, 400)),
                status=rng.choice(statuses),
                total=amount,
                disputed=rng.random() < 0.01,
                promised_until=TODAY if rng.random() < 0.02 else None,
                on_plan=rng.random() < 0.01,
                customer_tags=("wholesale",) if customer % 7 == 0 else (),
                customer_credit=Decimal("500.00") if customer % 50 == 0 else Decimal(0),
            )
        )
    return invoices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="invoices in the book")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best counts")
    args = parser.parse_args()
    rules = parse_rules({"excluded_tags": ["government"], "min_debtor_total": "50.00"})
    invoices = book(args.n)

    best = float("inf")
    for _ in range(args.repeat):
        started = time.perf_counter()
        decisions = evaluate_all(invoices, rules, TODAY, "USD")
        best = min(best, time.perf_counter() - started)

    outcomes = Counter(d.outcome.value for d in decisions)
    print(f"invoices: {args.n}")
    print(f"seconds: {best:.3f} (best of {args.repeat})")
    print(f"invoices/s: {args.n / best:,.0f}")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))


if __name__ == "__main__":
    main()
