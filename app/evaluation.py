"""Evaluation: every invoice to one decision and one reason, under a creditor's rules.

Decisions and their reasons:

- ``refer``: ``in_window``
- ``wait``: ``not_due``, ``too_early``
- ``escalate``: ``past_window`` (third-party placement is recommended)
- ``skip``: ``paid``, ``voided``, ``deleted``, ``disputed``, ``below_minimum``,
  ``excluded_customer``, ``excluded_tag``, ``excluded_currency``,
  ``credit_covers_balance``, ``promised``, ``on_plan``, ``implausible_due_date``

When several reasons apply, the first in this order wins:

1. ``deleted``, ``voided``, ``paid``: the ledger says there is nothing to chase (an
   open invoice with nothing left due counts as paid; so does a partly paid one when
   the rules say partly paid invoices do not qualify);
2. ``implausible_due_date``: without a believable due date no day count means
   anything; the invoice is flagged for review;
3. ``disputed``: a dispute stops everything else;
4. ``excluded_customer``, ``excluded_tag``, ``excluded_currency``: the creditor's
   standing choices;
5. ``promised`` (a promise to pay not yet broken), ``on_plan``: the debtor is already
   dealing with it;
6. ``credit_covers_balance``: the debtor's unapplied credit in the invoice's currency
   covers everything overdue in it; applying the credit is the fix, not a letter (C17);
7. ``below_minimum``: too small to chase (per invoice, then per debtor in a batch);
8. timing: ``not_due`` (0 days late or fewer), ``too_early``, ``in_window``,
   ``past_window``.

Days late are ``today - due_date`` in whole days, where `today` is the company's local
date (the caller computes it with :func:`app.clock.local_today`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.rules import Rules

logger = logging.getLogger(__name__)

_ZERO = Decimal(0)


class Outcome(StrEnum):
    REFER = "refer"
    WAIT = "wait"
    ESCALATE = "escalate"
    SKIP = "skip"


class Reason(StrEnum):
    IN_WINDOW = "in_window"
    NOT_DUE = "not_due"
    TOO_EARLY = "too_early"
    PAST_WINDOW = "past_window"
    PAID = "paid"
    VOIDED = "voided"
    DELETED = "deleted"
    DISPUTED = "disputed"
    BELOW_MINIMUM = "below_minimum"
    EXCLUDED_CUSTOMER = "excluded_customer"
    EXCLUDED_TAG = "excluded_tag"
    EXCLUDED_CURRENCY = "excluded_currency"
    CREDIT_COVERS_BALANCE = "credit_covers_balance"
    PROMISED = "promised"
    ON_PLAN = "on_plan"
    IMPLAUSIBLE_DUE_DATE = "implausible_due_date"


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """What evaluation needs to know about one invoice and its customer."""

    invoice_id: str
    customer_id: str
    number: str | None
    currency: str
    amount_due: Decimal  # what is left to pay, in the invoice's currency
    home_amount_due: Decimal | None  # in the home currency; None when it is the home
    due_date: date | None
    status: str = "open"  # open | paid | voided | deleted (connectors.records)
    total: Decimal | None = None  # the original total, to tell partly paid invoices
    disputed: bool = False
    promised_until: date | None = None  # the date of an open promise to pay
    on_plan: bool = False
    customer_tags: tuple[str, ...] = ()
    customer_credit: Decimal = _ZERO  # unapplied credit in the invoice's currency
    customer_excluded: bool = False  # excluded by hand on the customer's screen


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one invoice."""

    invoice_id: str
    customer_id: str
    outcome: Outcome
    reason: Reason
    days_late: int | None  # None when the invoice has no due date
    needs_review: bool = False  # a human should look at the ledger's data
    needs_approval: bool = False  # a referral that waits for the creditor's approval


_STATUS_REASONS = {
    "deleted": Reason.DELETED,
    "voided": Reason.VOIDED,
    "paid": Reason.PAID,
}
_TIMING_OUTCOMES = {
    Reason.NOT_DUE: Outcome.WAIT,
    Reason.TOO_EARLY: Outcome.WAIT,
    Reason.IN_WINDOW: Outcome.REFER,
    Reason.PAST_WINDOW: Outcome.ESCALATE,
}


def evaluate(
    facts: InvoiceFacts,
    rules: Rules,
    today: date,
    overdue_in_currency: Decimal | None = None,
) -> Decision:
    """Decide what to do with one invoice on the company's local date `today`.

    `overdue_in_currency` is the customer's total overdue in the invoice's currency,
    which unapplied credit is weighed against; alone, the invoice's own amount due.
    """
    due = facts.due_date
    days_late = None if due is None else (today - due).days
    reason = _skip_reason(facts, rules, today, days_late, overdue_in_currency)
    if reason is not None:
        return Decision(
            facts.invoice_id,
            facts.customer_id,
            Outcome.SKIP,
            reason,
            days_late,
            needs_review=reason is Reason.IMPLAUSIBLE_DUE_DATE,
        )

    assert days_late is not None  # a missing due date was skipped as implausible
    if days_late <= 0:
        timing = Reason.NOT_DUE
    elif days_late < rules.window_start_days:
        timing = Reason.TOO_EARLY
    elif days_late <= rules.window_end_days:
        timing = Reason.IN_WINDOW
    else:
        timing = Reason.PAST_WINDOW
    outcome = _TIMING_OUTCOMES[timing]
    return Decision(
        facts.invoice_id,
        facts.customer_id,
        outcome,
        timing,
        days_late,
        needs_approval=outcome is Outcome.REFER and not rules.auto_refer,
    )


def _skip_reason(
    facts: InvoiceFacts,
    rules: Rules,
    today: date,
    days_late: int | None,
    overdue_in_currency: Decimal | None,
) -> Reason | None:
    status_reason = _STATUS_REASONS.get(facts.status)
    if status_reason is not None:
        return status_reason
    if facts.amount_due <= _ZERO:
        return Reason.PAID
    if (
        not rules.partly_paid_qualify
        and facts.total is not None
        and facts.amount_due < facts.total
    ):
        return Reason.PAID
    if days_late is None or not _plausible(facts.due_date, rules, today, days_late):
        return Reason.IMPLAUSIBLE_DUE_DATE
    if facts.disputed:
        return Reason.DISPUTED
    if facts.customer_excluded or facts.customer_id in rules.excluded_customers:
        return Reason.EXCLUDED_CUSTOMER
    if rules.excluded_tags and any(
        tag.casefold() in rules.excluded_tags for tag in facts.customer_tags
    ):
        return Reason.EXCLUDED_TAG
    if facts.currency in rules.excluded_currencies:
        return Reason.EXCLUDED_CURRENCY
    if facts.promised_until is not None and facts.promised_until >= today:
        return Reason.PROMISED
    if facts.on_plan:
        return Reason.ON_PLAN
    # TODO: credit held in another currency never holds a referral; a debtor with a
    # EUR credit note and a USD invoice is chased for money the creditor owes back.
    if rules.credits_hold and facts.customer_credit > _ZERO:
        overdue = (
            facts.amount_due if overdue_in_currency is None else overdue_in_currency
        )
        if facts.customer_credit >= overdue:
            return Reason.CREDIT_COVERS_BALANCE
    if facts.amount_due < rules.min_amount_for(facts.currency):
        return Reason.BELOW_MINIMUM
    return None


def _plausible(due: date | None, rules: Rules, today: date, days_late: int) -> bool:
    # A due date before 2000 or decades away is a ledger typo or a parse of a zero or
    # negative epoch (C06); counting days from it would refer it as absurdly late.
    if due is None or due < rules.earliest_due_date:
        return False
    return abs(days_late) <= rules.plausible_years * 366


def evaluate_all(
    invoices: Iterable[InvoiceFacts],
    rules: Rules,
    today: date,
    home_currency: str,
) -> list[Decision]:
    """Evaluate a creditor's open book, applying the rules that span invoices.

    Unapplied credit is weighed against the customer's whole overdue amount in each
    currency (open invoices with an amount due and 1 day late or more). With
    `rules.min_debtor_total` set, a debtor whose invoices to refer total less (in the
    home currency) has them all skipped as ``below_minimum``.
    """
    facts = list(invoices)
    overdue = _overdue_by_customer_currency(facts, today)
    decisions = [
        evaluate(f, rules, today, overdue.get((f.customer_id, f.currency)))
        for f in facts
    ]
    if rules.min_debtor_total is not None:
        decisions = _apply_debtor_minimum(
            facts, decisions, rules.min_debtor_total, home_currency
        )
    return decisions


def _overdue_by_customer_currency(
    facts: list[InvoiceFacts], today: date
) -> dict[tuple[str, str], Decimal]:
    # Only customers holding credit need the sum; most books have few of them.
    with_credit = {f.customer_id for f in facts if f.customer_credit > _ZERO}
    overdue: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for f in facts:
        if (
            f.customer_id in with_credit
            and f.status == "open"
            and f.amount_due > _ZERO
            and f.due_date is not None
            and f.due_date < today
        ):
            overdue[(f.customer_id, f.currency)] += f.amount_due
    return overdue


def home_amount(facts: InvoiceFacts, home_currency: str) -> Decimal:
    """The invoice's amount due in the home currency.

    Raises:
        ValueError: for a foreign-currency invoice without a home amount.
    """
    if facts.home_amount_due is not None:
        return facts.home_amount_due
    if facts.currency == home_currency:
        return facts.amount_due
    raise ValueError(
        f"invoice={facts.invoice_id} is in {facts.currency} with no amount in the"
        f" home currency {home_currency}"
    )


def _apply_debtor_minimum(
    facts: list[InvoiceFacts],
    decisions: list[Decision],
    minimum: Decimal,
    home_currency: str,
) -> list[Decision]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for f, d in zip(facts, decisions, strict=True):
        if d.outcome is Outcome.REFER:
            totals[f.customer_id] += home_amount(f, home_currency)
    small = {customer for customer, total in totals.items() if total < minimum}
    for customer in sorted(small):
        logger.info(
            "debtor below minimum total customer=%s total=%s minimum=%s",
            customer,
            totals[customer],
            minimum,
        )
    return [
        replace(
            d, outcome=Outcome.SKIP, reason=Reason.BELOW_MINIMUM, needs_approval=False
        )
        if d.outcome is Outcome.REFER and d.customer_id in small
        else d
        for d in decisions
    ]
