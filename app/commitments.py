"""Promises to pay and payment plans, reviewed once a day by the sweep.

A promise pauses a case's outreach until its date; a plan pauses it while its
instalments arrive. When the date has passed (plus a grace of a few days for the
money to reach the ledger) the promise is kept if enough was collected since it was
made, else broken; an instalment likewise. A broken one puts the case back to
`active`: its planned steps resume, the backlog collapsed to the latest one (see
`jobs/outreach.py`), and the broken promise weighs in the case's score.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import cases
from app.models import (
    Creditor,
    Instalment,
    PaymentPlan,
    Promise,
    ReferralCase,
)
from app.settlement import collected_home

logger = logging.getLogger(__name__)

GRACE = timedelta(days=3)  # a payment made on the day can take this long to show
WHO = "system:commitments"


@dataclass
class Review:
    kept: list[int] = field(default_factory=list)  # promise ids
    broken: list[int] = field(default_factory=list)
    missed_instalments: list[int] = field(default_factory=list)
    resumed_cases: list[int] = field(default_factory=list)


def review(session: Session, creditor_id: int, today: date) -> Review:
    """Settle every promise and instalment of `creditor_id` whose date has passed."""
    creditor = session.get(Creditor, creditor_id)
    if creditor is None:
        raise LookupError(f"no creditor {creditor_id}")
    result = Review()
    _promises(session, creditor, today, result)
    _instalments(session, creditor, today, result)
    session.flush()
    return result


def _promises(
    session: Session, creditor: Creditor, today: date, result: Review
) -> None:
    due = session.execute(
        sa.select(Promise, ReferralCase)
        .join(ReferralCase, ReferralCase.id == Promise.case_id)
        .where(
            Promise.creditor_id == creditor.id,
            Promise.state == "open",
            Promise.due_on < today - GRACE,
        )
    ).all()
    for promise, case in due:
        got = collected_home(
            session, case, creditor.home_currency, promise.promised_on, today
        )
        promise.state = "kept" if got >= promise.amount else "broken"
        promise.resolved_at = _noon(today, creditor.timezone)
        (result.kept if promise.state == "kept" else result.broken).append(promise.id)
        logger.info(
            "promise %s creditor=%s case=%s promise=%s collected=%s of %s",
            promise.state,
            creditor.id,
            case.id,
            promise.id,
            got,
            promise.amount,
        )
        if case.state == "promised":
            why = (
                "promise kept; the rest is still owed"
                if promise.state == "kept"
                else f"promise of {promise.amount} by {promise.due_on} broken"
            )
            cases.transition(session, case, "active", WHO, why)
            result.resumed_cases.append(case.id)


def _instalments(
    session: Session, creditor: Creditor, today: date, result: Review
) -> None:
    plans = session.execute(
        sa.select(PaymentPlan, ReferralCase)
        .join(ReferralCase, ReferralCase.id == PaymentPlan.case_id)
        .where(PaymentPlan.creditor_id == creditor.id, PaymentPlan.state == "active")
    ).all()
    for plan, case in plans:
        instalments = session.scalars(
            sa.select(Instalment)
            .where(Instalment.plan_id == plan.id)
            .order_by(Instalment.number)
        ).all()
        started = plan.created_at.astimezone(ZoneInfo(creditor.timezone)).date()
        got = collected_home(session, case, creditor.home_currency, started, today)
        owed_so_far = Decimal(0)
        for instalment in instalments:
            owed_so_far += instalment.amount
            if instalment.state != "due" or instalment.due_on >= today - GRACE:
                continue
            if got >= owed_so_far:
                instalment.state = "paid"
                instalment.paid_amount = instalment.amount
                continue
            instalment.state = "missed"
            result.missed_instalments.append(instalment.id)
            plan.state = "broken"
            if case.state == "on_plan":
                cases.transition(
                    session,
                    case,
                    "active",
                    WHO,
                    f"instalment {instalment.number} of {instalment.amount} due"
                    f" {instalment.due_on} missed",
                )
                result.resumed_cases.append(case.id)
            break
        if plan.state == "active" and all(i.state == "paid" for i in instalments):
            plan.state = "completed"


def _noon(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(tz))
