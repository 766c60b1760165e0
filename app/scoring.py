"""Priority: which account a representative works first, and why, in 100 points.

Four groups, each point worked out from one fact with a sentence to show beside it:

group         component          points                                      max
------------  -----------------  ------------------------------------------  ---
status        days_late          25 x min(days late, 120) / 120               25
status        broken_promises    5 per broken promise                         10
value         amount_due         6 x log10(home amount due): 1.00 -> 0,       30
                                 1,000 -> 18, 100,000 -> 30
relationship  tier               first_party 6, frontline 3, third_party 0     6
relationship  lifetime_revenue   2 x (log10(revenue) - 2): 100 -> 0,           8
                                 1,000 -> 2, 1,000,000 -> 8
relationship  years_as_customer  1 per whole year                              3
relationship  strategic          3 when the creditor flags the customer        3
history       avg_days_late      8 x min(average days late paying, 60) / 60    8
history       share_paid_late    7 x share of invoices paid late               7

Every component is clamped to [0, max] and rounded to 0.01 point, half-up. Value and
revenue are on a log scale so one huge invoice does not drown everything else. The
third-party tier scores lowest because an agency, not our representatives, works it.
A customer without payment history scores 0 in that group. Ties rank by amount due,
then days late, then key, so the order never depends on input order.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.rules import Tier

_POINT = Decimal("0.01")
_ZERO = Decimal(0)
# TODO: the weights are program-wide; a creditor cannot tune them, so one whose
# strategic accounts need the gentlest handling still sees them ranked higher.
_TIER_POINTS = {Tier.FIRST_PARTY: 6, Tier.FRONTLINE: 3, Tier.THIRD_PARTY: 0}


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    """What the score reads about one debtor account."""

    days_late: int  # of its oldest referred invoice
    amount_due: Decimal  # in the home currency
    tier: Tier = Tier.FIRST_PARTY
    broken_promises: int = 0
    lifetime_revenue: Decimal = _ZERO  # in the home currency
    years_as_customer: int = 0
    strategic: bool = False
    avg_days_late_paying: Decimal | None = None  # None: no payment history
    share_paid_late: Decimal | None = None  # 0 to 1; None: no payment history


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    group: str  # status | value | relationship | history
    points: Decimal
    maximum: int
    why: str


@dataclass(frozen=True, slots=True)
class Score:
    total: Decimal
    components: tuple[Component, ...]

    def by_group(self) -> dict[str, Decimal]:
        """Points per group, in the order status, value, relationship, history."""
        groups: dict[str, Decimal] = {}
        for c in self.components:
            groups[c.group] = groups.get(c.group, _ZERO) + c.points
        return groups

    def to_dict(self) -> dict[str, object]:
        """JSON-safe breakdown to store beside the case."""
        return {
            "total": str(self.total),
            "components": [
                {
                    "name": c.name,
                    "group": c.group,
                    "points": str(c.points),
                    "max": c.maximum,
                    "why": c.why,
                }
                for c in self.components
            ],
        }


def _points(value: Decimal | int, maximum: int) -> Decimal:
    clamped = min(max(Decimal(value), _ZERO), Decimal(maximum))
    return clamped.quantize(_POINT, rounding=ROUND_HALF_UP)


def _log10(amount: Decimal) -> Decimal:
    return amount.log10() if amount > 0 else Decimal(-1)


def score(inputs: ScoreInputs) -> Score:
    """The priority score of one account, with a sentence per component."""
    if inputs.amount_due < 0 or inputs.days_late < 0 or inputs.broken_promises < 0:
        raise ValueError(f"cannot score negative inputs: {inputs!r}")
    late = min(inputs.days_late, 120)
    components = [
        Component(
            "days_late",
            "status",
            _points(Decimal(25) * late / 120, 25),
            25,
            f"{inputs.days_late} days late (25 points at 120 days or more)",
        ),
        Component(
            "broken_promises",
            "status",
            _points(5 * inputs.broken_promises, 10),
            10,
            f"{inputs.broken_promises} broken promise(s), 5 points each",
        ),
        Component(
            "amount_due",
            "value",
            _points(6 * _log10(inputs.amount_due), 30),
            30,
            f"{inputs.amount_due} due in the home currency, 6 points per factor of 10",
        ),
        *_relationship(inputs),
        *_history(inputs),
    ]
    total = sum((c.points for c in components), _ZERO)
    return Score(total, tuple(components))


def _relationship(inputs: ScoreInputs) -> list[Component]:
    revenue = inputs.lifetime_revenue
    return [
        Component(
            "tier",
            "relationship",
            _points(_TIER_POINTS[inputs.tier], 6),
            6,
            f"{inputs.tier.value} tier",
        ),
        Component(
            "lifetime_revenue",
            "relationship",
            _points(2 * (_log10(revenue) - 2), 8),
            8,
            f"{revenue} lifetime revenue, 2 points per factor of 10 above 100",
        ),
        Component(
            "years_as_customer",
            "relationship",
            _points(inputs.years_as_customer, 3),
            3,
            f"customer for {inputs.years_as_customer} year(s), 1 point a year",
        ),
        Component(
            "strategic",
            "relationship",
            _points(3 if inputs.strategic else 0, 3),
            3,
            "a strategic customer" if inputs.strategic else "not flagged strategic",
        ),
    ]


def _history(inputs: ScoreInputs) -> list[Component]:
    avg, share = inputs.avg_days_late_paying, inputs.share_paid_late
    if share is not None and not _ZERO <= share <= 1:
        raise ValueError(f"share_paid_late must be between 0 and 1, got {share}")
    return [
        Component(
            "avg_days_late",
            "history",
            _points(8 * min(avg, Decimal(60)) / 60 if avg is not None else 0, 8),
            8,
            "no payment history"
            if avg is None
            else f"pays {avg} days late on average (8 points at 60 days)",
        ),
        Component(
            "share_paid_late",
            "history",
            _points(7 * share if share is not None else 0, 7),
            7,
            "no payment history"
            if share is None
            else f"{(share * 100).normalize():f}% of invoices paid late",
        ),
    ]


@dataclass(frozen=True, slots=True)
class Ranked:
    rank: int  # 1 is worked first
    key: Hashable
    score: Score


def rank(accounts: Iterable[tuple[Hashable, ScoreInputs]]) -> list[Ranked]:
    """Score and order accounts, highest first, ties broken deterministically."""
    scored = [(key, inputs, score(inputs)) for key, inputs in accounts]
    scored.sort(
        key=lambda item: (
            -item[2].total,
            -item[1].amount_due,
            -item[1].days_late,
            str(item[0]),
        )
    )
    return [Ranked(n, key, s) for n, (key, _, s) in enumerate(scored, start=1)]
