"""The rules preview: what candidate rules would decide on today's open book.

Rows are read as plain column tuples (not ORM objects) and handed to the sweep's own
helpers, so the preview weighs credits, promises and plans exactly as the nightly
sweep will. No Flask here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import referrals
from app.evaluation import Decision, InvoiceFacts, Outcome, evaluate_all
from app.models import Creditor, Debtor, Invoice
from app.rules import Rules

_INVOICE_COLUMNS = (
    Invoice.id,
    Invoice.debtor_id,
    Invoice.number,
    Invoice.currency,
    Invoice.amount_due,
    Invoice.home_amount_due,
    Invoice.due_date,
    Invoice.status,
    Invoice.total,
    Invoice.disputed,
)


def open_facts(
    session: Session, creditor: Creditor, excluded: frozenset[str] | None = None
) -> tuple[list[Any], list[InvoiceFacts]]:
    """The creditor's open invoices and their facts (`excluded`: customers to skip)."""
    rows = session.execute(
        sa.select(*_INVOICE_COLUMNS).where(
            Invoice.creditor_id == creditor.id, Invoice.status == "open"
        )
    ).all()
    debtors = {
        d.id: d
        for d in session.execute(
            sa.select(Debtor.id, Debtor.ledger_id, Debtor.name, Debtor.tags).where(
                Debtor.creditor_id == creditor.id
            )
        ).all()
    }
    # NOTE: these helpers are the sweep's own, so the preview weighs credits,
    # promises and plans exactly as the nightly sweep will.
    credit = referrals._unapplied_credit(session, creditor.id)
    promised, on_plan = referrals._case_holds(session, creditor.id)
    if excluded is None:
        excluded = referrals.rules_of(creditor).excluded_customers
    # Rows stand in for the ORM objects: _facts only reads these attributes.
    facts = [
        referrals._facts(
            row,  # type: ignore[arg-type]
            debtors.get(row.debtor_id),  # type: ignore[arg-type]
            credit,
            promised,
            on_plan,
            excluded,
        )
        for row in rows
    ]
    return list(rows), facts


@dataclass
class Preview:
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    new_referrals: int = 0
    samples: dict[str, list[tuple[Any, Decision]]] = field(default_factory=dict)


def preview(
    session: Session,
    creditor: Creditor,
    rules: Rules,
    today: date,
    facts_of: Any = None,
) -> Preview:
    """What `rules` would decide on the creditor's open invoices `today`.

    `facts_of(excluded)` may supply (rows, facts) held from an earlier preview; the
    facts do not depend on the rules, only on the customers they exclude.
    """
    if facts_of is None:
        rows, facts = open_facts(session, creditor, rules.excluded_customers)
    else:
        rows, facts = facts_of(rules.excluded_customers)
    decisions = evaluate_all(facts, rules, today, creditor.home_currency)
    referred = referrals._referred_invoice_ids(session, creditor.id)
    result = Preview()
    for row, decision in zip(rows, decisions, strict=True):
        outcome = decision.outcome.value
        result.outcomes[outcome] += 1
        result.reasons[(outcome, decision.reason.value)] += 1
        if decision.outcome is Outcome.REFER and row.id not in referred:
            result.new_referrals += 1
        if decision.outcome in (Outcome.REFER, Outcome.ESCALATE):
            bucket = result.samples.setdefault(outcome, [])
            if len(bucket) < 10:
                bucket.append((row, decision))
    return result
