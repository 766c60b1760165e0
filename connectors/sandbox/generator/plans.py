"""What happens to each generated invoice: its scenario and how late it is."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from itertools import accumulate

from connectors.sandbox.generator.catalog import HARD_CUSTOMERS


class Scenario(StrEnum):
    OPEN = "open"
    PAID = "paid"
    PAID_TOGETHER = "paid_together"  # one payment settles it and an earlier invoice
    PARTIAL = "partial"  # part-paid, the balance still owed (case C15)
    CREDIT_AND_PAYMENT = (
        "credit_and_payment"  # a credit note, then a payment, settle it
    )
    CREDIT_PART_APPLIED = "credit_part_applied"  # credit applied, some left unapplied
    CREDIT_UNAPPLIED = "credit_unapplied"  # a credit note sits on the customer
    OVERPAID = "overpaid"  # paid in full plus money left on the customer
    PREPAID = "prepaid"  # a prepayment sits on the customer, invoice still open
    PREPAID_COVERING = "prepaid_covering"  # unapplied money > the invoice (case C17)
    PREPAYMENT_APPLIED = "prepayment_applied"  # a prepayment part-allocated to it
    VOIDED = "voided"
    DELETED = "deleted"
    DISPUTED = "disputed"  # open and overdue; the debtor disputes it


# (lowest, highest) days past due per aging bucket; "current" is worked out per
# invoice from its terms, since it runs from the issue date to the due date.
BUCKETS: tuple[tuple[int, int], ...] = (
    (0, 0),  # current
    (1, 30),
    (31, 60),
    (61, 90),
    (91, 120),
    (121, 540),
)
_BUCKET_WEIGHTS = tuple(accumulate((28, 22, 16, 12, 10, 12)))

_SCENARIOS = tuple(Scenario)
_SCENARIO_WEIGHTS = tuple(accumulate((34, 28, 5, 9, 2, 3, 2, 3, 2, 1, 2, 3, 2, 4)))

TERMS = (0, 15, 30, 30, 30, 60)  # due on receipt, Net 15, Net 30 (commonest), Net 60


@dataclass(frozen=True)
class Plan:
    scenario: Scenario
    days_late: int | None = None  # None: drawn from the aging buckets
    customer: int | None = None  # index into the customer list; None: drawn
    term: int | None = None
    pairable: bool = False  # a later PAID_TOGETHER payment may settle it too


def forced_plans() -> list[Plan]:
    """The hard cases every book of ~50 invoices holds, in a fixed order."""
    plans = [
        # Case C17: due 60 days ago, covered by a larger unapplied prepayment.
        Plan(Scenario.PREPAID_COVERING, 60, i) if h.solo else Plan(Scenario.OPEN, 45, i)
        for i, h in enumerate(HARD_CUSTOMERS)
    ]
    foreign = [i for i, h in enumerate(HARD_CUSTOMERS) if h.foreign]
    plans += [
        Plan(Scenario.OPEN, 29),
        Plan(Scenario.OPEN, 30),
        Plan(Scenario.OPEN, 120),
        Plan(Scenario.OPEN, 121),
        Plan(Scenario.OPEN, -10, term=30),  # current: due in ten days
        Plan(Scenario.OPEN, 0, term=15),  # due today: still current
        Plan(Scenario.PARTIAL, 45),
        Plan(Scenario.PARTIAL, 38, foreign[-1]),  # a part-paid foreign invoice
        Plan(Scenario.PAID, 75),
        # One payment for two invoices of the first ordinary customer.
        Plan(Scenario.OPEN, 70, len(HARD_CUSTOMERS), pairable=True),
        Plan(Scenario.PAID_TOGETHER, 50, len(HARD_CUSTOMERS)),
        Plan(Scenario.CREDIT_AND_PAYMENT, 52),
        Plan(Scenario.CREDIT_PART_APPLIED, 64),
        Plan(Scenario.CREDIT_UNAPPLIED, 47),
        Plan(Scenario.OVERPAID, 33),
        Plan(Scenario.PREPAID, 41),
        Plan(Scenario.PREPAID_COVERING, 44),
        Plan(Scenario.PREPAYMENT_APPLIED, 58),
        Plan(Scenario.VOIDED, 66),
        Plan(Scenario.DELETED, 35),
        Plan(Scenario.DISPUTED, 75),
        Plan(Scenario.DISPUTED, 102),
        Plan(Scenario.OPEN, 88),  # 61-90 with nothing else going on
    ]
    return plans


def random_plan(rng: random.Random) -> Plan:
    """An ordinary invoice: a weighted scenario, lateness drawn later."""
    return Plan(rng.choices(_SCENARIOS, cum_weights=_SCENARIO_WEIGHTS)[0])


def draw_days_late(rng: random.Random, term: int) -> int:
    """Days past due from the aging buckets; negative means not yet due."""
    low, high = rng.choices(BUCKETS, cum_weights=_BUCKET_WEIGHTS)[0]
    if high == 0:
        # Current runs from the day after issue to the due date itself.
        return -rng.randint(0, max(term - 1, 0))
    return rng.randint(low, high)
