"""What a representative (or the creditor) does on a case, as domain functions.

Log a call, record a promise or a payment plan, open or resolve a dispute, withdraw,
escalate to a third party, add a note. Each state change goes through
`app.cases.transition` (so it is checked and audited); everything else is audited
with `app.audit.record`. Nothing here commits: the caller's transaction does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit, cases, clock
from app.models import (
    CaseInvoice,
    Instalment,
    Invoice,
    OutreachStep,
    PaymentPlan,
    Promise,
    ReferralCase,
)
from app.money import quantize

logger = logging.getLogger(__name__)

CALL_OUTCOMES = ("reached", "voicemail", "promise", "dispute", "wrong_number")
MAX_PROMISE_DAYS = 60  # a promise further out is a plan, not a promise
MAX_INSTALMENTS = 24
DISPUTE_RESOLUTIONS = ("debt_stands", "creditor_agrees")


class ActionError(ValueError):
    """An action with bad input; `field` names the form field at fault."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PlannedInstalment:
    due_on: date
    amount: Decimal


def parse_amount(raw: str | Decimal, currency: str, field: str = "amount") -> Decimal:
    """A positive money amount in `currency`, rounded half-up to its minor unit."""
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ActionError(f"{raw!r} is not an amount", field) from exc
    if not value.is_finite() or value <= 0:
        raise ActionError("the amount must be more than zero", field)
    return quantize(value, currency)


def log_call(
    session: Session,
    case: ReferralCase,
    *,
    who: str,
    outcome: str,
    note: str = "",
    today: date,
    promise_amount: Decimal | None = None,
    promise_due: date | None = None,
    dispute_reason: str = "",
) -> None:
    """Record a call and its outcome; a promise or a dispute takes effect at once."""
    if outcome not in CALL_OUTCOMES:
        raise ActionError(
            f"the outcome must be one of {', '.join(CALL_OUTCOMES)}", "outcome"
        )
    _require_open(case)
    step = _due_call_step(session, case)
    if step is not None:
        step.state = "sent"
        step.outcome = outcome
        step.done_at = clock.now()
        step.body = note or step.body
    audit.record(
        session,
        who=who,
        creditor_id=case.creditor_id,
        entity="case",
        entity_id=case.id,
        action="call",
        why=note.strip() or f"call: {outcome.replace('_', ' ')}",
        detail={"outcome": outcome, "step_id": step.id if step else None},
    )
    if outcome == "promise":
        if promise_amount is None or promise_due is None:
            raise ActionError("a promise needs an amount and a date", "promise_amount")
        record_promise(
            session,
            case,
            who=who,
            amount=promise_amount,
            due_on=promise_due,
            today=today,
        )
    elif outcome == "dispute":
        open_dispute(session, case, who=who, reason=dispute_reason or note)
    logger.info(
        "call logged creditor=%s case=%s outcome=%s", case.creditor_id, case.id, outcome
    )


def record_promise(
    session: Session,
    case: ReferralCase,
    *,
    who: str,
    amount: Decimal,
    due_on: date,
    today: date,
) -> Promise:
    """The debtor promises `amount` by `due_on`: outreach pauses until that date."""
    _require_open(case)
    amount = parse_amount(amount, case.currency, "promise_amount")
    if amount > case.amount_due:
        raise ActionError(
            f"the promise ({amount}) is more than the {case.amount_due} owed",
            "promise_amount",
        )
    if due_on < today:
        raise ActionError("the promised date is in the past", "promise_due")
    if due_on > today + timedelta(days=MAX_PROMISE_DAYS):
        raise ActionError(
            f"a promise more than {MAX_PROMISE_DAYS} days out should be a plan",
            "promise_due",
        )
    promise = Promise(
        creditor_id=case.creditor_id,
        case_id=case.id,
        promised_on=today,
        due_on=due_on,
        currency=case.currency,
        amount=amount,
        state="open",
        recorded_by_id=_user_id(who),
    )
    session.add(promise)
    session.flush()
    detail = {
        "promise_id": promise.id,
        "amount": str(amount),
        "due_on": due_on.isoformat(),
    }
    if case.state != "promised":
        cases.transition(
            session,
            case,
            "promised",
            who,
            f"promise to pay {amount} {case.currency} by {due_on.isoformat()}",
            detail=detail,
        )
    else:
        audit.record(
            session,
            who=who,
            creditor_id=case.creditor_id,
            entity="case",
            entity_id=case.id,
            action="promise",
            why=f"another promise: {amount} {case.currency} by {due_on.isoformat()}",
            detail=detail,
        )
    return promise


def record_plan(
    session: Session,
    case: ReferralCase,
    *,
    who: str,
    instalments: Sequence[PlannedInstalment],
    today: date,
) -> PaymentPlan:
    """Agree a plan whose instalments add up to what the case owes, in date order."""
    _require_open(case)
    if not instalments:
        raise ActionError("a plan needs at least one instalment", "instalments")
    if len(instalments) > MAX_INSTALMENTS:
        raise ActionError(f"at most {MAX_INSTALMENTS} instalments", "instalments")
    amounts = [
        parse_amount(i.amount, case.currency, "instalments") for i in instalments
    ]
    dates = [i.due_on for i in instalments]
    if dates[0] < today:
        raise ActionError("the first instalment is in the past", "instalments")
    if any(later <= earlier for earlier, later in zip(dates, dates[1:], strict=False)):
        raise ActionError("instalment dates must go forward", "instalments")
    total = quantize(sum(amounts, Decimal(0)), case.currency)
    owed = quantize(case.amount_due, case.currency)
    if total != owed:
        raise ActionError(
            f"the instalments add up to {total}, but the case owes {owed}",
            "instalments",
        )
    plan = PaymentPlan(
        creditor_id=case.creditor_id,
        case_id=case.id,
        currency=case.currency,
        total=total,
        state="active",
        created_by_id=_user_id(who),
    )
    session.add(plan)
    session.flush()
    for number, (due_on, amount) in enumerate(zip(dates, amounts, strict=True), 1):
        session.add(
            Instalment(
                creditor_id=case.creditor_id,
                plan_id=plan.id,
                number=number,
                due_on=due_on,
                currency=case.currency,
                amount=amount,
                state="due",
            )
        )
    _cancel_open_promises(session, case)
    cases.transition(
        session,
        case,
        "on_plan",
        who,
        f"payment plan of {len(amounts)} instalment(s), {total} {case.currency}",
        detail={"plan_id": plan.id},
    )
    return plan


def open_dispute(
    session: Session,
    case: ReferralCase,
    *,
    who: str,
    reason: str,
    invoice_ids: Sequence[int] | None = None,
) -> None:
    """The debtor disputes the debt: outreach stops until the dispute is resolved."""
    reason = reason.strip()
    if not reason:
        raise ActionError("say what the debtor disputes", "reason")
    invoices = _case_invoices(session, case, invoice_ids)
    for invoice in invoices:
        invoice.disputed = True
        invoice.dispute_reason = reason
    cases.transition(
        session,
        case,
        "disputed",
        who,
        f"dispute: {reason}",
        detail={"invoice_ids": [i.id for i in invoices]},
    )


def resolve_dispute(
    session: Session, case: ReferralCase, *, who: str, resolution: str, note: str
) -> None:
    """End a dispute: the debt stands (work resumes) or the creditor agrees."""
    if resolution not in DISPUTE_RESOLUTIONS:
        raise ActionError(
            f"the resolution must be one of {', '.join(DISPUTE_RESOLUTIONS)}",
            "resolution",
        )
    if case.state != "disputed":
        raise ActionError("this case is not disputed", "resolution")
    note = note.strip() or resolution.replace("_", " ")
    for invoice in _case_invoices(session, case, None):
        invoice.disputed = False
    target = "active" if resolution == "debt_stands" else "withdrawn"
    cases.transition(
        session,
        case,
        target,
        who,
        f"dispute resolved ({resolution.replace('_', ' ')}): {note}",
        detail={"resolution": resolution},
    )
    if target == "withdrawn":
        cases.cancel_steps(session, case.id, "withdrawn after dispute")


def withdraw(session: Session, case: ReferralCase, *, who: str, why: str) -> None:
    """Take the case out of the program; scheduled outreach is cancelled."""
    if not why.strip():
        raise ActionError("say why the case is withdrawn", "why")
    cases.transition(session, case, "withdrawn", who, why)
    _cancel_open_promises(session, case)
    cases.cancel_steps(session, case.id, "withdrawn")


def escalate(session: Session, case: ReferralCase, *, who: str, why: str) -> None:
    """Recommend third-party placement; the program's own outreach stops."""
    if not why.strip():
        raise ActionError("say why the case goes to a third party", "why")
    cases.transition(session, case, "escalated", who, why)
    cases.cancel_steps(session, case.id, "escalated")


def add_note(session: Session, case: ReferralCase, *, who: str, text: str) -> None:
    """A free-text note on the case timeline."""
    text = text.strip()
    if not text:
        raise ActionError("the note is empty", "text")
    if len(text) > 4000:
        raise ActionError("a note holds at most 4,000 characters", "text")
    audit.record(
        session,
        who=who,
        creditor_id=case.creditor_id,
        entity="case",
        entity_id=case.id,
        action="note",
        why=text,
    )


def _require_open(case: ReferralCase) -> None:
    if case.state not in ("active", "promised", "on_plan"):
        raise ActionError(
            f"the case is {case.state.replace('_', ' ')}: nothing to record on it"
        )


def _due_call_step(session: Session, case: ReferralCase) -> OutreachStep | None:
    """The earliest scheduled call task that is due now, if any."""
    return session.scalar(
        sa.select(OutreachStep)
        .where(
            OutreachStep.case_id == case.id,
            OutreachStep.channel == "call",
            OutreachStep.state == "scheduled",
            OutreachStep.due_at <= clock.now(),
        )
        .order_by(OutreachStep.due_at)
        .limit(1)
    )


def _case_invoices(
    session: Session, case: ReferralCase, invoice_ids: Sequence[int] | None
) -> list[Invoice]:
    statement = (
        sa.select(Invoice)
        .join(CaseInvoice, CaseInvoice.invoice_id == Invoice.id)
        .where(
            CaseInvoice.case_id == case.id,
            CaseInvoice.removed_at.is_(None),
            Invoice.creditor_id == case.creditor_id,
        )
    )
    if invoice_ids:
        statement = statement.where(Invoice.id.in_(list(invoice_ids)))
    found = list(session.scalars(statement))
    if invoice_ids and len(found) != len(set(invoice_ids)):
        raise ActionError("an invoice named is not in this case", "invoice_ids")
    return found


def _cancel_open_promises(session: Session, case: ReferralCase) -> None:
    session.execute(
        sa.update(Promise)
        .where(Promise.case_id == case.id, Promise.state == "open")
        .values(state="cancelled", resolved_at=clock.now())
    )


def _user_id(who: str) -> int | None:
    kind, _, value = who.partition(":")
    return int(value) if kind == "user" and value.isdigit() else None
