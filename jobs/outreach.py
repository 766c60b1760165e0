"""Outreach jobs: a case's due steps, each sent once, and never after payment.

One job runs the steps of one case that are due (the first letter and the e-mail that
carries it are due at the same instant), so they share one job and one payment-gate
read. Before any debtor-facing send the job re-reads the case's invoices from the
ledger (the payment gate, shared case C23): a payment that landed after the step was
planned, or whose webhook is late or lost, stops it. How each channel sends exactly
once is in `jobs.delivery`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from rq import Retry
from sqlalchemy.orm import Session

from app import clock, contact_windows, settlement
from app.channels.addresses import NoEmailAddress
from app.channels.sms import SmsError
from app.referrals import TIMED_CHANNELS, rules_of
from connectors.base import ReconnectError, WaitError
from jobs import delivery
from jobs.delivery import StepContext
from jobs.ledgers import connector_for
from jobs.queues import OUTREACH, enqueue_unique, unique_job
from jobs.runtime import Runtime, runtime

logger = logging.getLogger(__name__)

RETRY = Retry(max=3, interval=[30, 120, 600])


def case_id_of(case_id: int, *_: Any, **__: Any) -> str:
    return f"case-steps:{case_id}"


def enqueue_case(case_id: int) -> str | None:
    """Queue the run of case `case_id`'s due steps (one job per case at a time)."""
    rt = runtime()
    return enqueue_unique(
        rt.redis, OUTREACH, run_case, case_id_of(case_id), case_id, retry=RETRY
    )


@dataclass
class Gate:
    """The payment gate's answer, read once per job: the invoices still owed."""

    owed: list[Any] | None = None


@dataclass
class Outcome:
    step_id: int
    text: str
    waiting: bool = False


@unique_job(case_id_of)
def run_case(case_id: int) -> list[str]:
    """Carry out the case's steps that are due, in order, if allowed and owed."""
    rt = runtime()
    gate = Gate()
    outcomes: list[str] = []
    for step_id in _due_steps(rt, case_id):
        outcome = _run_step(rt, step_id, gate)
        outcomes.append(f"step {step_id}: {outcome.text}")
        if outcome.waiting:
            break  # the ledger's budget is spent: the next tick starts the rest
    logger.info("case steps done case=%s %s", case_id, "; ".join(outcomes))
    return outcomes


def _due_steps(rt: Runtime, case_id: int) -> list[int]:
    from app.models import OutreachStep

    with rt.sessions() as session:
        return list(
            session.scalars(
                sa.select(OutreachStep.id)
                .where(
                    OutreachStep.case_id == case_id,
                    OutreachStep.state == "scheduled",
                    OutreachStep.due_at <= clock.now(),
                )
                .order_by(OutreachStep.due_at, OutreachStep.step_number)
            )
        )


def _run_step(rt: Runtime, step_id: int, gate: Gate) -> Outcome:
    """One step: checks, the payment gate, then the send under its Effect row."""
    if gate.owed == []:
        # An earlier step of this job found everything paid, closing the case.
        return _finish(rt, step_id, "skipped", "skipped: paid")
    with rt.sessions.begin() as session:
        verdict = _check(session, step_id)
    if isinstance(verdict, str):
        logger.info("step not sent step=%s: %s", step_id, verdict)
        return Outcome(step_id, verdict)
    ctx = verdict

    if gate.owed is None:
        try:
            gate.owed = _payment_gate(rt, ctx)
        except (WaitError, ReconnectError) as exc:
            logger.warning("step waits step=%s case=%s: %s", step_id, ctx.case_id, exc)
            return Outcome(step_id, f"waiting: {exc}", waiting=True)
    unpaid = gate.owed
    if not unpaid:
        from jobs.writes import enqueue_writes

        enqueue_writes(ctx.connection_id)  # the case closed: its notes go out now
        return _finish(rt, ctx.step_id, "skipped", "skipped: paid")

    if ctx.channel == "call":
        return _finish(rt, ctx.step_id, "sent", "call task for the representative")
    with rt.sessions.begin() as session:
        letter, target = delivery.letter_and_target(session, rt, ctx, unpaid)
    if target is None:
        what = delivery.what(ctx.channel)
        return _finish(rt, ctx.step_id, "skipped", f"blocked: no {what}")

    key = delivery.effect_key(ctx, target)
    effect_id, already = delivery.claim(rt, ctx, target, key)
    if already:
        return _finish(rt, ctx.step_id, "sent", "sent earlier")
    try:
        provider_id, path = delivery.send(rt, ctx, letter, target, key)
    except (NoEmailAddress, SmsError) as exc:
        delivery.effect_done(rt, effect_id, "failed", None, str(exc))
        return _finish(rt, ctx.step_id, "failed", f"blocked: {exc}")
    delivery.effect_done(rt, effect_id, "sent", provider_id, None)
    return _finish(rt, ctx.step_id, "sent", f"sent {ctx.channel}", path)


def _check(session: Session, step_id: int) -> StepContext | str:
    from app.models import Debtor, LedgerConnection, OutreachStep, ReferralCase

    step = session.get(OutreachStep, step_id)
    if step is None:
        return "no such step"
    if step.state != "scheduled":
        return f"already {step.state}"
    case = session.get(ReferralCase, step.case_id)
    assert case is not None
    if case.state in ("resolved_paid", "withdrawn", "written_off", "escalated"):
        _close_step(step, "cancelled", f"case {case.state}")
        return f"case {case.state}"
    if case.state != "active":
        return f"paused: case {case.state}"
    debtor = session.get(Debtor, case.debtor_id)
    assert debtor is not None
    connection = session.get(LedgerConnection, debtor.connection_id)
    assert connection is not None
    if connection.status != "connected":
        return "paused: the ledger connection needs reconnecting"
    if debtor.opted_out and step.channel in ("email", "sms"):
        _close_step(step, "skipped", "debtor opted out")
        return "opted out"

    now = clock.now()
    later = session.scalar(
        sa.select(OutreachStep.id).where(
            OutreachStep.case_id == case.id,
            OutreachStep.state == "scheduled",
            OutreachStep.step_number > step.step_number,
            OutreachStep.due_at <= now,
            OutreachStep.due_at > step.due_at,
        )
    )
    if later is not None:
        # After downtime only the latest due step goes out (C27): no backlog burst.
        _close_step(step, "skipped", "superseded by a later step")
        return "superseded"

    if step.channel in TIMED_CHANNELS:
        allowed = _next_window(session, case.creditor_id, debtor, now)
        if allowed > now:
            step.due_at = allowed
            return f"deferred to {allowed.isoformat()}"
    return StepContext(
        step_id=step.id,
        case_id=case.id,
        creditor_id=case.creditor_id,
        connection_id=connection.id,
        channel=step.channel,
        step_number=step.step_number,
        final=step.subject == "final",
        first=step.subject == "first",
        region=debtor.country,
    )


def _next_window(session: Session, creditor_id: int, debtor: Any, now: Any) -> Any:
    from app.models import Creditor, Effect, ReferralCase

    creditor = session.get(Creditor, creditor_id)
    assert creditor is not None
    touches = session.scalars(
        sa.select(Effect.sent_at)
        .join(ReferralCase, ReferralCase.id == Effect.case_id)
        .where(
            ReferralCase.debtor_id == debtor.id,
            Effect.state == "sent",
            Effect.sent_at > now - timedelta(days=7),
        )
    ).all()
    window = rules_of(creditor).contact_window
    place = contact_windows.place_of(debtor, creditor)
    if place is None:
        # An unknown country or zone must not stop the debtor's outreach for good.
        logger.warning("no contact window debtor=%s; sending now", debtor.id)
        return now
    sent = [t for t in touches if t is not None]
    return contact_windows.next_allowed(now, place, window, sent)


def _payment_gate(rt: Runtime, ctx: StepContext) -> list[Any]:
    """Re-read the case's invoices from the ledger; the ones still owed."""
    from app.models import CaseInvoice, Invoice

    with rt.sessions() as session:
        rows = session.execute(
            sa.select(Invoice.id, Invoice.ledger_id)
            .join(CaseInvoice, CaseInvoice.invoice_id == Invoice.id)
            .where(CaseInvoice.case_id == ctx.case_id, CaseInvoice.removed_at.is_(None))
        ).all()
    connector = connector_for(rt, ctx.connection_id)
    # One read for the case's invoices (one call on either ledger for a few).
    fresh = connector.read_invoices([ledger_id for _, ledger_id in rows])

    changed = []
    with rt.sessions.begin() as session:
        for invoice_id, ledger_id in rows:
            read = fresh[ledger_id]
            row = session.get(Invoice, invoice_id)
            assert row is not None
            if (row.amount_due, row.status) != (read.amount_due, read.status):
                row.amount_due = read.amount_due
                row.status = read.status.value
                if read.home_amount_due is not None:
                    row.home_amount_due = read.home_amount_due
                changed.append(invoice_id)
        if changed:
            settlement.settle(session, ctx.creditor_id, changed, who="system:outreach")
        owed = [
            session.get(Invoice, invoice_id)
            for invoice_id, ledger_id in rows
            if fresh[ledger_id].status.value == "open"
            and fresh[ledger_id].amount_due > 0
        ]
    return [inv for inv in owed if inv is not None]


def _finish(
    rt: Runtime, step_id: int, state: str, outcome: str, path: str | None = None
) -> Outcome:
    from app.models import OutreachStep

    with rt.sessions.begin() as session:
        step = session.get(OutreachStep, step_id)
        # The payment gate may have closed the case, cancelling this step with the
        # rest: record on it why it was not sent.
        paid_now = (
            step is not None and step.state == "cancelled" and step.outcome == "paid"
        )
        if step is not None and (step.state == "scheduled" or paid_now):
            _close_step(step, state, outcome)
            if path:
                step.content_path = path
    logger.info("step done step=%s state=%s outcome=%s", step_id, state, outcome)
    return Outcome(step_id, outcome)


def _close_step(step: Any, state: str, outcome: str) -> None:
    step.state = state
    step.outcome = outcome[:200]
    step.done_at = clock.now()
