"""The tick: every minute, dispatch what is due by the product's clock.

RQ's cron only triggers this; what is due is decided here, by `app.clock`, so the
demo's simulated days and a real deployment run the same code. Everything the tick
enqueues is coalesced per logical id, so two schedulers, or a tick that runs late and
twice, dispatch each step, sweep and bill once.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app import clock
from jobs.runtime import runtime

logger = logging.getLogger(__name__)

SWEEP_AT = time(6, 0)  # each creditor's local time for the daily referral sweep
SWEPT_KEY = "care:swept:{creditor}:{day}"
BILLED_KEY = "care:billed:{creditor}:{month}"


def tick() -> dict[str, Any]:
    """Dispatch due outreach steps, daily sweeps and month-end fee bills."""
    cases = dispatch_due()
    sweeps, bills = dispatch_calendar()
    logger.info("tick cases=%s sweeps=%s bills=%s", len(cases), sweeps, bills)
    return {"cases": len(cases), "sweeps": sweeps, "bills": bills}


# A case's job reads its invoices once (the payment gate) for all its due steps; a
# few calls of the minute stay free for syncs, webhooks and notes. Starting more
# cases than the budget allows would only see them put back.
CALLS_PER_CASE = 1
RESERVED_CALLS = 5


def dispatch_due(limit: int = 500) -> list[int]:
    """Queue the jobs of active cases with steps whose time has come, within budgets.

    Returns the ids of the cases queued.
    """
    from app.models import Debtor, LedgerConnection, OutreachStep, ReferralCase
    from jobs.ledgers import budget_for
    from jobs.outreach import enqueue_case

    rt = runtime()
    now = clock.now()
    with rt.sessions() as session:
        due = session.execute(
            sa.select(
                ReferralCase.id,
                LedgerConnection.id,
                LedgerConnection.ledger,
                LedgerConnection.external_id,
            )
            .select_from(OutreachStep)
            .join(ReferralCase, ReferralCase.id == OutreachStep.case_id)
            .join(Debtor, Debtor.id == ReferralCase.debtor_id)
            .join(LedgerConnection, LedgerConnection.id == Debtor.connection_id)
            .where(
                OutreachStep.state == "scheduled",
                OutreachStep.due_at <= now,
                ReferralCase.state == "active",
                LedgerConnection.status == "connected",
            )
            .order_by(OutreachStep.due_at, OutreachStep.id)
            .limit(limit)
        ).all()
    room: dict[int, int] = {}
    seen: set[int] = set()  # cases queued or held back, each looked at once
    waiting: dict[int, int] = {}
    queued: list[int] = []
    for case_id, connection_id, ledger, external_id in due:
        if case_id in seen:
            continue  # a case's job runs all of its due steps
        seen.add(case_id)
        if connection_id not in room:
            left = budget_for(rt, ledger, external_id).remaining()
            room[connection_id] = max(0, left - RESERVED_CALLS) // CALLS_PER_CASE
        if room[connection_id] <= 0:
            waiting[connection_id] = waiting.get(connection_id, 0) + 1
            continue
        room[connection_id] -= 1
        enqueue_case(case_id)
        queued.append(case_id)
    for connection_id, count in waiting.items():
        logger.info(
            "dispatch: %s cases wait for the call budget connection=%s",
            count,
            connection_id,
        )
    return queued


def dispatch_calendar() -> tuple[int, int]:
    """Start each creditor's sweep after its local 06:00, and last month's bills."""
    from app.models import Creditor
    from jobs.sweep import bill_month, enqueue_sweep

    rt = runtime()
    now = clock.now()
    with rt.sessions() as session:
        creditors = session.execute(
            sa.select(Creditor.id, Creditor.timezone).where(Creditor.active.is_(True))
        ).all()
    sweeps = bills = 0
    for creditor_id, tz in creditors:
        local = now.astimezone(ZoneInfo(tz))
        if local.time() >= SWEEP_AT and _first(
            rt, SWEPT_KEY, creditor_id, local.date()
        ):
            enqueue_sweep(creditor_id)
            sweeps += 1
        month = _previous_month(local)
        if _first(rt, BILLED_KEY.replace("{day}", ""), creditor_id, month):
            bill_month(creditor_id, month)
            bills += 1
    return sweeps, bills


def _first(rt: Any, pattern: str, creditor_id: int, when: object) -> bool:
    """True once per key: SET NX makes the check and the claim one step."""
    key = pattern.format(creditor=creditor_id, day=when, month=when)
    return bool(rt.redis.set(key, 1, nx=True, ex=40 * 86400))


def _previous_month(local: datetime) -> str:
    first = local.date().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def work_due() -> bool:
    """Whether any step of an active case is due now, or any ledger write waits."""
    from app.models import LedgerWrite, OutreachStep, ReferralCase

    now = clock.now()
    with runtime().sessions() as session:
        steps = session.scalar(
            sa.select(sa.func.count())
            .select_from(OutreachStep)
            .join(ReferralCase, ReferralCase.id == OutreachStep.case_id)
            .where(
                OutreachStep.state == "scheduled",
                OutreachStep.due_at <= now,
                ReferralCase.state == "active",
            )
        )
        writes = session.scalar(
            sa.select(sa.func.count())
            .select_from(LedgerWrite)
            .where(LedgerWrite.state == "pending")
        )
    return bool(steps or writes)
