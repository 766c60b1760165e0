"""A representative's work queue: their accounts by priority, and what is due today.

"Today" is each debtor's own local day: a call task due at 09:00 in Auckland is due
today there even while it is still yesterday in the creditor's office.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, g, render_template, request
from sqlalchemy.orm import Session

from app import clock, scoring
from app.models import (
    CaseInvoice,
    Creditor,
    Debtor,
    Instalment,
    Invoice,
    OutreachStep,
    PaymentPlan,
    Promise,
    ReferralCase,
    User,
)
from app.money import quantize
from app.rules import Tier
from app.web import labels
from app.web.security import PROGRAM, REP, db, requires

logger = logging.getLogger(__name__)
bp = Blueprint("work_queue", __name__)

WORKING = ("active", "promised", "on_plan")
SHOWN = 100  # a day's work and then some; the rest wait their turn
# TODO: a representative with more open cases than this is ranked on the first
# MOST of them by id only; the queue would need paging by score to see past it.
MOST = 5_000


@dataclass
class Item:
    case: ReferralCase
    debtor: Debtor
    creditor: Creditor
    rank: int
    score: scoring.Score
    zone: str
    local_today: date
    due_today: list[tuple[datetime, str]]  # (instant, what)


def end_of_local_day(instant: datetime, zone: str) -> datetime:
    """The first instant of the next day in `zone`, in UTC."""
    local = instant.astimezone(ZoneInfo(zone))
    tomorrow = datetime.combine(
        local.date() + timedelta(days=1), time(0), ZoneInfo(zone)
    )
    return tomorrow.astimezone(UTC)


# What ranking reads, as plain columns: building ORM objects for every open case
# of a busy representative costs more than the ranking itself.
_RANKED = (
    ReferralCase.id,
    ReferralCase.amount_due,
    ReferralCase.currency,
    ReferralCase.tier,
    Debtor.timezone.label("debtor_zone"),
    Debtor.lifetime_revenue,
    Debtor.lifetime_revenue_currency,
    Debtor.first_invoice_date,
    Debtor.strategic,
    Creditor.timezone.label("creditor_zone"),
    Creditor.home_currency,
)


def queue_for(
    session: Session, representative_id: int | None, now: datetime
) -> list[Item]:
    """The first SHOWN open cases by priority (one representative's, or everyone's)."""
    statement = (
        sa.select(*_RANKED)
        .join(Debtor, Debtor.id == ReferralCase.debtor_id)
        .join(Creditor, Creditor.id == ReferralCase.creditor_id)
        .where(ReferralCase.state.in_(WORKING))
        .order_by(ReferralCase.id)
        .limit(MOST)
    )
    if representative_id is not None:
        statement = statement.where(ReferralCase.representative_id == representative_id)
    rows = session.execute(statement).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    oldest = dict(
        session.execute(  # type: ignore[arg-type]
            sa.select(CaseInvoice.case_id, sa.func.min(Invoice.due_date))
            .join(Invoice, Invoice.id == CaseInvoice.invoice_id)
            .where(CaseInvoice.case_id.in_(ids), CaseInvoice.removed_at.is_(None))
            .group_by(CaseInvoice.case_id)
        ).all()
    )
    broken = dict(
        session.execute(  # type: ignore[arg-type]
            sa.select(Promise.case_id, sa.func.count())
            .where(Promise.case_id.in_(ids), Promise.state == "broken")
            .group_by(Promise.case_id)
        ).all()
    )
    inputs = {}
    zones = {}
    for row in rows:
        zone = row.debtor_zone or row.creditor_zone
        today = now.astimezone(ZoneInfo(zone)).date()
        due = oldest.get(row.id)
        days_late = max(0, (today - due).days) if due else 0
        inputs[row.id] = _inputs(row, days_late, broken.get(row.id, 0), today)
        zones[row.id] = (zone, today)

    # Every case is ranked; only the first SHOWN are loaded and built for the page.
    ranked = scoring.rank(inputs.items())[:SHOWN]
    shown: list[Any] = [r.key for r in ranked]
    loaded = {
        case.id: (case, debtor, creditor)
        for case, debtor, creditor in session.execute(
            sa.select(ReferralCase, Debtor, Creditor)
            .join(Debtor, Debtor.id == ReferralCase.debtor_id)
            .join(Creditor, Creditor.id == ReferralCase.creditor_id)
            .where(ReferralCase.id.in_(shown))
        )
    }
    tasks = _due_tasks(session, shown, now)
    items = []
    for r in ranked:
        key: Any = r.key  # the case ids handed to rank() above
        case, debtor, creditor = loaded[key]
        zone, local = zones[key]
        horizon = end_of_local_day(now, zone)
        todo = [
            (at, what)
            for at, what, on in tasks.get(key, [])
            if (on <= local if on is not None else at < horizon)
        ]
        items.append(
            Item(case, debtor, creditor, r.rank, r.score, zone, local, sorted(todo))
        )
    return items


def _inputs(row: Any, days_late: int, broken: int, today: date) -> scoring.ScoreInputs:
    """What the score reads about one case, from its ranking row (_RANKED)."""
    revenue = Decimal(0)
    if row.lifetime_revenue is not None and (
        row.lifetime_revenue_currency in (None, row.home_currency)
    ):
        revenue = row.lifetime_revenue
    years = 0
    if row.first_invoice_date is not None:
        years = max(0, (today - row.first_invoice_date).days // 365)
    # TODO: payment history (average days late, share paid late) is not derived
    # from the mirror yet, so the history group scores 0 for every account.
    return scoring.ScoreInputs(
        days_late=days_late,
        amount_due=quantize(max(row.amount_due, Decimal(0)), row.currency),
        tier=Tier(row.tier),
        broken_promises=broken,
        lifetime_revenue=revenue,
        years_as_customer=years,
        strategic=row.strategic,
    )


def _due_tasks(
    session: Session, ids: list[int], now: datetime
) -> dict[int, list[tuple[datetime, str, date | None]]]:
    """Scheduled steps (by instant), promises and instalments (by date), per case."""
    ahead = now + timedelta(days=2)  # each case's own local "today" is cut later
    found: dict[int, list[tuple[datetime, str, date | None]]] = {}
    steps = session.execute(
        sa.select(
            OutreachStep.case_id, OutreachStep.due_at, OutreachStep.channel
        ).where(
            OutreachStep.case_id.in_(ids),
            OutreachStep.state == "scheduled",
            OutreachStep.due_at < ahead,
        )
    ).all()
    for case_id, due_at, channel in steps:
        what = (
            "Call the debtor"
            if channel == "call"
            else f"{labels.CHANNELS[channel]} goes out"
        )
        found.setdefault(case_id, []).append((due_at, what, None))
    promises = session.execute(
        sa.select(
            Promise.case_id, Promise.due_on, Promise.amount, Promise.currency
        ).where(Promise.case_id.in_(ids), Promise.state == "open")
    ).all()
    for case_id, due_on, amount, currency in promises:
        found.setdefault(case_id, []).append(
            (_day(due_on), f"Promise of {amount} {currency} due", due_on)
        )
    parts = session.execute(
        sa.select(
            PaymentPlan.case_id,
            Instalment.due_on,
            Instalment.amount,
            Instalment.currency,
        )
        .join(PaymentPlan, PaymentPlan.id == Instalment.plan_id)
        .where(PaymentPlan.case_id.in_(ids), Instalment.state == "due")
    ).all()
    for case_id, due_on, amount, currency in parts:
        found.setdefault(case_id, []).append(
            (_day(due_on), f"Instalment of {amount} {currency} due", due_on)
        )
    return found


def _day(on: date) -> datetime:
    return datetime.combine(on, time(0), UTC)


@bp.get("/queue")
@requires(REP, PROGRAM, creditor=False)
def index() -> str:
    rep_id: Any = g.user.id if g.user.role == REP else request.args.get("rep", type=int)
    items = queue_for(db(), rep_id, clock.now())
    reps: Sequence[User] = []
    if g.user.role == PROGRAM:
        reps = (
            db()
            .scalars(
                sa.select(User).where(User.role == REP, User.active).order_by(User.name)
            )
            .all()
        )
    return render_template(
        "queue/index.html", items=items, labels=labels, reps=reps, rep_id=rep_id
    )
