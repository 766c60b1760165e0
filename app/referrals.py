"""Referring invoices: the daily sweep, the Refer button and the deep link share this.

A sweep evaluates every invoice of one creditor under its rules on the company's local
date, stores each decision on the invoice, refers what is in the window (opening or
extending the debtor's case), escalates cases whose oldest invoice has passed the
window, and queues the status note for each newly referred invoice. Every write it
makes is keyed (case per debtor, case invoice, step number, note key), so running it
twice, or from two schedulers at once, changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import cases, contact_windows
from app.db import scoped
from app.evaluation import Decision, InvoiceFacts, Outcome, evaluate_all
from app.models import (
    CaseInvoice,
    Credit,
    Creditor,
    Debtor,
    Invoice,
    LedgerConnection,
    LedgerWrite,
    OutreachStep,
    Payment,
    Promise,
    ReferralCase,
)
from app.rules import Rules, creditor_rules

logger = logging.getLogger(__name__)

SEND_HOUR = time(9, 0)  # outreach is planned for 09:00 in the debtor's time zone
# Channels that reach a person, so only in the debtor's contact window; a letter
# is posted any day.
TIMED_CHANNELS = ("email", "sms", "call")
WORKING_STATES = ("active", "promised", "on_plan")


class ReferralError(Exception):
    """A referral that cannot be made as asked (wrong creditor, nothing due)."""


@dataclass
class SweepResult:
    creditor_id: int
    today: date
    evaluated: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    referred: list[int] = field(default_factory=list)  # invoice ids newly referred
    escalated_cases: list[int] = field(default_factory=list)
    cases: list[int] = field(default_factory=list)  # cases opened or extended


def rules_of(creditor: Creditor) -> Rules:
    """The creditor's rules, with its stored cadence and fee rate merged in."""
    return creditor_rules(creditor.rules, creditor.cadence, creditor.fee_rate)


def evaluate_creditor(
    session: Session, creditor: Creditor, today: date, rules: Rules | None = None
) -> list[tuple[Invoice, Decision]]:
    """Decide every invoice of `creditor` on `today` and store the decisions."""
    rules = rules or rules_of(creditor)
    invoices = list(
        scoped(session, Invoice, creditor.id).where(Invoice.status != "deleted").all()
    )
    debtors = {d.id: d for d in scoped(session, Debtor, creditor.id).all()}
    credit = _unapplied_credit(session, creditor.id)
    promised, on_plan = _case_holds(session, creditor.id)

    excluded = rules.excluded_customers
    facts = [
        _facts(inv, debtors.get(inv.debtor_id), credit, promised, on_plan, excluded)
        for inv in invoices
    ]
    decisions = evaluate_all(facts, rules, today, creditor.home_currency)

    pairs = list(zip(invoices, decisions, strict=True))
    for invoice, decision in pairs:
        invoice.decision = decision.outcome.value
        invoice.reason = decision.reason.value
        invoice.days_late = decision.days_late
        invoice.evaluated_on = today
    session.flush()
    return pairs


def sweep(
    session: Session,
    creditor_id: int,
    today: date,
    *,
    who: str = "system:sweep",
    base_url: str = "",
) -> SweepResult:
    """Evaluate, refer, escalate and queue notes for one creditor on `today`."""
    creditor = _creditor(session, creditor_id)
    rules = rules_of(creditor)
    pairs = evaluate_creditor(session, creditor, today, rules)
    result = SweepResult(creditor_id=creditor_id, today=today, evaluated=len(pairs))
    result.outcomes.update(d.outcome.value for _, d in pairs)

    referred_ids = _referred_invoice_ids(session, creditor_id)
    to_refer = [
        inv
        for inv, d in pairs
        if d.outcome is Outcome.REFER and inv.id not in referred_ids
    ]
    if to_refer:
        touched = refer_invoices(
            session,
            creditor,
            to_refer,
            who=who,
            why="in the referral window under the creditor's rules",
            today=today,
            rules=rules,
            base_url=base_url,
        )
        result.cases = [c.id for c in touched]
        result.referred = [inv.id for inv in to_refer]

    past = {inv.id for inv, d in pairs if d.outcome is Outcome.ESCALATE}
    result.escalated_cases = _escalate(session, creditor_id, past, who)
    logger.info(
        "sweep done creditor=%s today=%s evaluated=%s referred=%s escalated=%s",
        creditor_id,
        today,
        result.evaluated,
        len(result.referred),
        len(result.escalated_cases),
    )
    return result


def refer(
    session: Session,
    creditor_id: int,
    invoice_ids: Iterable[int],
    *,
    who: str,
    why: str,
    today: date,
    base_url: str = "",
) -> list[ReferralCase]:
    """Refer these invoices now (the Refer button, bulk refer, the deep link)."""
    creditor = _creditor(session, creditor_id)
    ids = list(invoice_ids)
    invoices = list(
        scoped(session, Invoice, creditor_id).where(Invoice.id.in_(ids)).all()
    )
    missing = set(ids) - {inv.id for inv in invoices}
    if missing:
        raise ReferralError(f"creditor {creditor_id} has no invoice {sorted(missing)}")
    return refer_invoices(
        session,
        creditor,
        invoices,
        who=who,
        why=why,
        today=today,
        rules=rules_of(creditor),
        base_url=base_url,
    )


def refer_invoices(
    session: Session,
    creditor: Creditor,
    invoices: list[Invoice],
    *,
    who: str,
    why: str,
    today: date,
    rules: Rules,
    base_url: str = "",
) -> list[ReferralCase]:
    """Open or extend each debtor's case, plan its outreach, queue the notes."""
    by_debtor: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_debtor[invoice.debtor_id].append(invoice)

    touched = []
    for debtor_id, group in sorted(by_debtor.items()):
        debtor = session.get(Debtor, debtor_id)
        if debtor is None or debtor.creditor_id != creditor.id:
            raise ReferralError(f"debtor {debtor_id} is not creditor {creditor.id}'s")
        case = cases.refer(
            session,
            creditor,
            debtor,
            group,
            who,
            why,
            approval_first=not rules.auto_refer,
            tier=rules.tier.value,
        )
        if case.state in WORKING_STATES:
            plan_outreach(session, case, debtor, creditor, rules, today)
        for invoice in group:
            queue_note(
                session, case, invoice, referral_note(case, invoice, today, base_url)
            )
        touched.append(case)
    session.flush()
    return touched


def approve(session: Session, case_id: int, *, who: str, today: date) -> ReferralCase:
    """The creditor approves a proposed referral: the case starts its outreach."""
    case = session.get(ReferralCase, case_id)
    if case is None:
        raise ReferralError(f"no case {case_id}")
    creditor = _creditor(session, case.creditor_id)
    cases.transition(session, case, "active", who, "referral approved by the creditor")
    debtor = session.get(Debtor, case.debtor_id)
    assert debtor is not None
    plan_outreach(session, case, debtor, creditor, rules_of(creditor), today)
    return case


def plan_outreach(
    session: Session,
    case: ReferralCase,
    debtor: Debtor,
    creditor: Creditor,
    rules: Rules,
    start: date,
) -> list[OutreachStep]:
    """Plan the tier's cadence for `case` from `start`, once: existing steps stay."""
    if session.scalar(
        sa.select(OutreachStep.id).where(OutreachStep.case_id == case.id)
    ):
        return []
    place = contact_windows.place_of(debtor, creditor)
    zone = ZoneInfo(place.timezone if place else debtor.timezone or creditor.timezone)
    steps = []
    number = 0
    for cadence_step in rules.cadence_for():
        local = datetime.combine(
            start + timedelta(days=cadence_step.day), SEND_HOUR, zone
        )
        for channel in cadence_step.channels:
            number += 1
            due = local.astimezone(UTC)
            if channel.value in TIMED_CHANNELS and place is not None:
                # Planned into the debtor's hours now (a Saturday step goes on
                # Monday), so the step does not start a job only to be put off.
                due = contact_windows.next_allowed(due, place, rules.contact_window)
            steps.append(
                OutreachStep(
                    creditor_id=case.creditor_id,
                    case_id=case.id,
                    step_number=number,
                    channel=channel.value,
                    due_at=due,
                    state="scheduled",
                    subject=_stage(cadence_step),
                )
            )
    try:
        with session.begin_nested():
            session.add_all(steps)
            session.flush()
    except IntegrityError:
        # Another sweep planned this case a moment ago (unique case + step number).
        logger.info(
            "outreach already planned creditor=%s case=%s", case.creditor_id, case.id
        )
        return []
    logger.info(
        "outreach planned creditor=%s case=%s steps=%s",
        case.creditor_id,
        case.id,
        len(steps),
    )
    return steps


def _stage(cadence_step: Any) -> str | None:
    """first (day 0: the letter and the e-mail carrying it), final, or None."""
    if cadence_step.final:
        return "final"
    return "first" if cadence_step.day == 0 else None


def referral_note(
    case: ReferralCase, invoice: Invoice, today: date, base_url: str
) -> str:
    """The status line CARE writes on the invoice in the ledger."""
    text = (
        f"CARE: referred to pre-collections on {today.isoformat()} (case C-{case.id})."
    )
    if base_url:
        connection = invoice.connection_id
        text += f" Follow it at {base_url.rstrip('/')}/cases/{case.id}?c={connection}"
    return text


def queue_note(
    session: Session,
    case: ReferralCase,
    invoice: Invoice,
    text: str,
    event: str = "referred",
) -> LedgerWrite | None:
    """Queue a status note (`event`: referred, closed) for `invoice` once."""
    key = f"note:{invoice.connection_id}:{invoice.ledger_id}:{event}:{case.id}"
    if session.scalar(
        sa.select(LedgerWrite.id).where(LedgerWrite.idempotency_key == key)
    ):
        return None
    write = LedgerWrite(
        creditor_id=case.creditor_id,
        connection_id=invoice.connection_id,
        kind="note",
        target=invoice.ledger_id,
        idempotency_key=key,
        payload={"text": text, "case_id": case.id, "invoice_id": invoice.id},
        state="pending",
    )
    try:
        with session.begin_nested():
            session.add(write)
            session.flush()
    except IntegrityError:
        return None
    return write


def _escalate(
    session: Session, creditor_id: int, past: set[int], who: str
) -> list[int]:
    if not past:
        return []
    # A subquery rather than DISTINCT: PostgreSQL cannot compare the JSON columns.
    holding = (
        sa.select(CaseInvoice.case_id)
        .where(
            CaseInvoice.invoice_id.in_(past),
            CaseInvoice.removed_at.is_(None),
        )
        .scalar_subquery()
    )
    rows = session.scalars(
        sa.select(ReferralCase).where(
            ReferralCase.creditor_id == creditor_id,
            ReferralCase.state.in_(WORKING_STATES),
            ReferralCase.id.in_(holding),
        )
    ).all()
    escalated = []
    for case in rows:
        cases.transition(
            session,
            case,
            "escalated",
            who,
            "an invoice passed the end of the referral window: third-party placement"
            " recommended",
        )
        cases.cancel_steps(session, case.id, "escalated")
        escalated.append(case.id)
    return escalated


def _creditor(session: Session, creditor_id: int) -> Creditor:
    creditor = session.get(Creditor, creditor_id)
    if creditor is None:
        raise ReferralError(f"no creditor {creditor_id}")
    return creditor


def _referred_invoice_ids(session: Session, creditor_id: int) -> set[int]:
    """Invoices already in an open case: a sweep leaves them be."""
    return set(
        session.scalars(
            sa.select(CaseInvoice.invoice_id)
            .join(ReferralCase, ReferralCase.id == CaseInvoice.case_id)
            .where(
                CaseInvoice.creditor_id == creditor_id,
                CaseInvoice.removed_at.is_(None),
                ReferralCase.state.notin_(
                    ("resolved_paid", "withdrawn", "written_off")
                ),
            )
        )
    )


def _unapplied_credit(
    session: Session, creditor_id: int
) -> dict[tuple[int, str], Decimal]:
    """Money on each debtor's account not applied to any invoice, per currency."""
    totals: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    payments = session.execute(
        sa.select(Payment.debtor_id, Payment.currency, sa.func.sum(Payment.unapplied))
        .where(Payment.creditor_id == creditor_id, Payment.deleted.is_(False))
        .group_by(Payment.debtor_id, Payment.currency)
    )
    credits = session.execute(
        sa.select(Credit.debtor_id, Credit.currency, sa.func.sum(Credit.remaining))
        .where(Credit.creditor_id == creditor_id, Credit.deleted.is_(False))
        .group_by(Credit.debtor_id, Credit.currency)
    )
    for debtor_id, currency, amount in [*payments, *credits]:
        totals[(debtor_id, currency)] += Decimal(amount or 0)
    return totals


def _case_holds(session: Session, creditor_id: int) -> tuple[dict[int, date], set[int]]:
    """Debtors with an open promise (and its date) and debtors on a payment plan."""
    promised: dict[int, date] = dict(
        session.execute(
            sa.select(ReferralCase.debtor_id, sa.func.max(Promise.due_on))
            .join(Promise, Promise.case_id == ReferralCase.id)
            .where(ReferralCase.creditor_id == creditor_id, Promise.state == "open")
            .group_by(ReferralCase.debtor_id)
        ).all()  # type: ignore[arg-type]
    )
    on_plan = set(
        session.scalars(
            sa.select(ReferralCase.debtor_id).where(
                ReferralCase.creditor_id == creditor_id, ReferralCase.state == "on_plan"
            )
        )
    )
    return promised, on_plan


def _facts(
    invoice: Invoice,
    debtor: Debtor | None,
    credit: dict[tuple[int, str], Decimal],
    promised: dict[int, date],
    on_plan: set[int],
    excluded: frozenset[str],
) -> InvoiceFacts:
    # The creditor excludes customers by their ledger id or their name.
    is_excluded = debtor is not None and bool(
        {debtor.ledger_id, debtor.name} & excluded
    )
    return InvoiceFacts(
        invoice_id=str(invoice.id),
        customer_id=str(invoice.debtor_id),
        number=invoice.number,
        currency=invoice.currency,
        amount_due=invoice.amount_due,
        home_amount_due=invoice.home_amount_due,
        due_date=invoice.due_date,
        status=invoice.status,
        total=invoice.total,
        disputed=invoice.disputed,
        promised_until=promised.get(invoice.debtor_id),
        on_plan=invoice.debtor_id in on_plan,
        customer_tags=tuple(debtor.tags) if debtor else (),
        customer_credit=credit.get((invoice.debtor_id, invoice.currency), Decimal(0)),
        customer_excluded=is_excluded,
    )


def connection_of(session: Session, invoice: Invoice) -> LedgerConnection:
    connection = session.get(LedgerConnection, invoice.connection_id)
    if connection is None:
        raise ReferralError(f"invoice {invoice.id} has no connection")
    return connection
