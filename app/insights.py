"""Insights computed from a creditor's data: aging, recovery, DSO, CEI, fees, people.

Every amount is in the company's home currency (the ledger's home amount for a
foreign invoice, never its document amount: C18), rounded half-up to its minor unit.
Rates are fractions rounded to four places (0.6667 is 66.67%); day counts to 0.1.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from app.evaluation import InvoiceFacts, home_amount
from app.fees import Accrual, FeeBasis
from app.money import quantize

_ZERO = Decimal(0)
_RATE = Decimal("0.0001")
_TENTH = Decimal("0.1")

BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "120+")
OPEN_CASE_STATES = frozenset({"proposed", "active", "promised", "on_plan", "disputed"})


def _rate(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return (part / whole).quantize(_RATE, rounding=ROUND_HALF_UP)


def _bucket(days_late: int) -> str:
    if days_late <= 0:
        return "current"
    if days_late > 120:
        return "120+"
    low = (days_late - 1) // 30 * 30 + 1
    return f"{low}-{low + 29}"


@dataclass(frozen=True, slots=True)
class Aging:
    currency: str
    buckets: dict[str, Decimal]  # every bucket of BUCKETS, in that order
    total: Decimal


def aging(invoices: Iterable[InvoiceFacts], today: date, home_currency: str) -> Aging:
    """Open receivables by days late on `today`, in the home currency.

    Buckets: current (not yet late), 1-30, 31-60, 61-90, 91-120, 120+ days late, where
    days late = today - due date. Only open invoices with an amount due count; one
    without a due date counts as current, since nothing says it is late.
    """
    sums = dict.fromkeys(BUCKETS, _ZERO)
    for f in invoices:
        if f.status != "open" or f.amount_due <= 0:
            continue
        days = 0 if f.due_date is None else (today - f.due_date).days
        sums[_bucket(days)] += home_amount(f, home_currency)
    buckets = {name: quantize(amount, home_currency) for name, amount in sums.items()}
    total = quantize(sum(sums.values(), _ZERO), home_currency)
    return Aging(home_currency, buckets, total)


@dataclass(frozen=True, slots=True)
class ReferralOutcome:
    """One referred invoice: what was referred and what came in after referral."""

    invoice_id: str
    referred_on: date
    referred: Decimal  # amount due at referral, home currency
    collected: Decimal  # collected after referral so far, home currency


@dataclass(frozen=True, slots=True)
class Cohort:
    month: str  # YYYY-MM of referral
    invoices: int
    referred: Decimal
    collected: Decimal
    recovery_rate: Decimal | None  # collected / referred; None when nothing referred


def cohorts(outcomes: Iterable[ReferralOutcome], home_currency: str) -> list[Cohort]:
    """Recovery per referral-month cohort: collected / referred, oldest month first.

    The last line, month ``all``, is every referral together: amount referred,
    amount collected and the overall recovery rate.
    """
    referred: dict[str, Decimal] = defaultdict(Decimal)
    collected: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for o in outcomes:
        for month in (o.referred_on.strftime("%Y-%m"), "all"):
            referred[month] += o.referred
            collected[month] += o.collected
            counts[month] += 1
    months = sorted(m for m in referred if m != "all") + (["all"] if referred else [])
    return [
        Cohort(
            month,
            counts[month],
            quantize(referred[month], home_currency),
            quantize(collected[month], home_currency),
            _rate(collected[month], referred[month]),
        )
        for month in months
    ]


def dso_countback(
    receivables: Decimal,
    monthly_sales: Sequence[tuple[str, Decimal]],
    as_of: date | None = None,
) -> Decimal:
    """Days sales outstanding by the countback method.

    Walk back from the latest month (`monthly_sales`: (``YYYY-MM``, credit sales),
    latest first): while the receivables left are at least a month's sales, add that
    month's days and take its sales off; then add the share of the next month's days
    that the rest makes of its sales, and stop. The latest month counts only the days
    up to `as_of` when it is `as_of`'s month. Receivables beyond all the months given
    count those months' days only (a floor: pass more history).
    """
    left = receivables
    days = _ZERO
    for month, sales in monthly_sales:
        year, number = (int(part) for part in month.split("-"))
        length = calendar.monthrange(year, number)[1]
        if as_of is not None and (as_of.year, as_of.month) == (year, number):
            length = as_of.day
        if left <= 0:
            break
        if left >= sales:
            days += length
            left -= sales
        else:
            days += Decimal(length) * left / sales
            left = _ZERO
    return days.quantize(_TENTH, rounding=ROUND_HALF_UP)


def cei(
    beginning_receivables: Decimal,
    credit_sales: Decimal,
    ending_receivables: Decimal,
    ending_current: Decimal,
) -> Decimal | None:
    """Collection effectiveness index, in percent, for one period.

    CEI = (beginning receivables + credit sales - ending receivables)
          / (beginning receivables + credit sales - ending current receivables) x 100,
    where current receivables are those not yet due. None when the divisor is 0.
    """
    collectible = beginning_receivables + credit_sales - ending_current
    if collectible == 0:
        return None
    collected = beginning_receivables + credit_sales - ending_receivables
    return (collected / collectible * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)


def fee_totals(accruals: Iterable[Accrual]) -> dict[tuple[str, str], Decimal]:
    """Fees earned per (month, currency), from accruals after referral."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for a in accruals:
        if a.basis is FeeBasis.AFTER_REFERRAL:
            totals[(a.month, a.currency)] += a.fee
    return {key: quantize(totals[key], key[1]) for key in sorted(totals)}


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """One referral case as the representative report reads it."""

    case_id: str
    representative_id: str
    state: str  # app.cases state name
    opened_on: date
    closed_on: date | None
    referred: Decimal  # home currency
    collected: Decimal  # home currency, after referral
    promises_made: int = 0
    promises_kept: int = 0


@dataclass(frozen=True, slots=True)
class RepPerformance:
    representative_id: str
    cases: int
    open_cases: int
    resolved_paid: int
    referred: Decimal
    collected: Decimal
    recovery_rate: Decimal | None  # collected / referred
    avg_days_to_resolve: Decimal | None  # over resolved_paid cases
    promise_kept_rate: Decimal | None  # kept / made


def representative_performance(
    cases: Iterable[CaseOutcome], home_currency: str
) -> list[RepPerformance]:
    """Per representative: caseload, money referred and collected, speed, promises.

    recovery rate = collected / referred over all the representative's cases;
    average days to resolve = mean of (closed_on - opened_on) over cases resolved paid;
    promise-kept rate = promises kept / promises made.
    """
    by_rep: dict[str, list[CaseOutcome]] = defaultdict(list)
    for case in cases:
        by_rep[case.representative_id].append(case)
    return [_performance(rep, by_rep[rep], home_currency) for rep in sorted(by_rep)]


def _performance(rep: str, cases: list[CaseOutcome], currency: str) -> RepPerformance:
    referred = sum((c.referred for c in cases), _ZERO)
    collected = sum((c.collected for c in cases), _ZERO)
    paid = [c for c in cases if c.state == "resolved_paid" and c.closed_on is not None]
    days = [Decimal((c.closed_on - c.opened_on).days) for c in paid if c.closed_on]
    made = sum(c.promises_made for c in cases)
    kept = sum(c.promises_kept for c in cases)
    average = None
    if days:
        average = (sum(days, _ZERO) / len(days)).quantize(_TENTH, ROUND_HALF_UP)
    return RepPerformance(
        rep,
        len(cases),
        sum(1 for c in cases if c.state in OPEN_CASE_STATES),
        len(paid),
        quantize(referred, currency),
        quantize(collected, currency),
        _rate(collected, referred),
        average,
        _rate(Decimal(kept), Decimal(made)),
    )
