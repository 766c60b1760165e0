"""A case's story in time order, gathered from the audit log and the work rows.

Referral, every letter, e-mail, SMS and call (with what was said), promises, plans,
payments, disputes, notes and fees: each becomes one `Event`. No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import (
    AuditEntry,
    CaseInvoice,
    FeeAccrual,
    Instalment,
    Invoice,
    OutreachStep,
    Payment,
    PaymentApplication,
    PaymentPlan,
    Promise,
    ReferralCase,
    User,
)

KINDS = (
    "referral",
    "letter",
    "email",
    "sms",
    "call",
    "promise",
    "plan",
    "payment",
    "dispute",
    "note",
    "fee",
    "state",
)


@dataclass
class Event:
    at: datetime
    kind: str  # one of KINDS
    title: str
    body: str = ""
    who: str = ""
    amount: Decimal | None = None
    currency: str = ""
    step_id: int | None = None  # letters: the step whose PDF opens
    has_pdf: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _midday(day: date) -> datetime:
    # Ledger dates have no time; noon UTC keeps them on their own day in most zones.
    return datetime.combine(day, time(12, 0), UTC)


def events(session: Session, case: ReferralCase) -> list[Event]:
    """Everything that happened on `case`, newest first."""
    names = _people(session, case)
    found: list[Event] = []
    found += _audit(session, case, names)
    found += _steps(session, case)
    found += _promises(session, case)
    found += _plans(session, case)
    found += _payments(session, case)
    found += _fees(session, case)
    # Newest first; events of the same instant keep the order they happened in,
    # reversed with the rest (the audit log's id order breaks the tie).
    order = {id(e): n for n, e in enumerate(found)}
    found.sort(key=lambda e: (e.at, order[id(e)]), reverse=True)
    return found


def _people(session: Session, case: ReferralCase) -> dict[str, str]:
    who = session.scalars(
        sa.select(AuditEntry.who)
        .where(AuditEntry.entity == "case", AuditEntry.entity_id == str(case.id))
        .distinct()
    ).all()
    ids = [int(w.split(":")[1]) for w in who if w.startswith("user:")]
    users = session.execute(
        sa.select(User.id, User.name, User.email).where(User.id.in_(ids))
    ).all()
    names = {f"user:{uid}": name or email for uid, name, email in users}
    for w in who:
        if w.startswith("system:"):
            names[w] = "CARE (" + w.split(":", 1)[1] + ")"
    return names


_AUDIT_KINDS = {
    "open": "referral",
    "add_invoices": "referral",
    "call": "call",
    "note": "note",
    "promise": "promise",
}


def _audit(session: Session, case: ReferralCase, names: dict[str, str]) -> list[Event]:
    rows = session.scalars(
        sa.select(AuditEntry)
        .where(
            AuditEntry.entity == "case",
            AuditEntry.entity_id == str(case.id),
            AuditEntry.creditor_id == case.creditor_id,
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    out = []
    for entry in rows:
        kind = _AUDIT_KINDS.get(entry.action, "state")
        if entry.action == "transition" and entry.to_state == "disputed":
            kind = "dispute"
        title = _audit_title(entry)
        if title is None:
            continue
        out.append(
            Event(
                at=entry.at,
                kind=kind,
                title=title,
                body=entry.why,
                who=names.get(entry.who, entry.who),
                extra={k: str(v) for k, v in (entry.detail or {}).items()},
            )
        )
    return out


def _audit_title(entry: AuditEntry) -> str | None:
    action = entry.action
    if action == "open":
        return "Referred to the program"
    if action == "add_invoices":
        count = len((entry.detail or {}).get("invoice_ids", []))
        return f"{count} invoice(s) added to the case"
    if action == "call":
        outcome = str((entry.detail or {}).get("outcome", "")).replace("_", " ")
        return f"Call logged: {outcome}"
    if action == "note":
        return "Note"
    if action == "assign":
        return "Representative assigned"
    if action == "promise":
        return "Promise to pay recorded"
    if action == "transition":
        return f"Case {entry.from_state} → {entry.to_state}".replace("_", " ")
    return action.replace("_", " ").capitalize()


def _steps(session: Session, case: ReferralCase) -> list[Event]:
    rows = session.scalars(
        sa.select(OutreachStep)
        .where(
            OutreachStep.case_id == case.id,
            OutreachStep.creditor_id == case.creditor_id,
            OutreachStep.state != "scheduled",
        )
        .order_by(OutreachStep.step_number)
    )
    out = []
    for step in rows:
        if step.channel == "call" and step.state == "sent":
            continue  # the call's audit entry already tells it, with its outcome
        label = {
            "letter": "Letter",
            "email": "E-mail",
            "sms": "SMS",
            "call": "Call task",
        }
        verb = {
            "sent": "sent",
            "skipped": "skipped",
            "failed": "failed",
            "cancelled": "cancelled",
        }[step.state]
        title = f"{label[step.channel]} {verb}"
        if step.subject and step.channel != "sms":
            title += f": {step.subject}"
        out.append(
            Event(
                at=step.done_at or step.due_at,
                kind=step.channel,
                title=title,
                body=(step.body or step.outcome or ""),
                step_id=step.id,
                has_pdf=step.channel == "letter"
                and step.state == "sent"
                and bool(step.content_path),
            )
        )
    return out


def _promises(session: Session, case: ReferralCase) -> list[Event]:
    rows = session.scalars(
        sa.select(Promise).where(
            Promise.case_id == case.id,
            Promise.creditor_id == case.creditor_id,
            Promise.state.in_(("kept", "broken")),
        )
    )
    return [
        Event(
            at=p.resolved_at or _midday(p.due_on),
            kind="promise",
            title=f"Promise {p.state} (due {p.due_on.isoformat()})",
            amount=p.amount,
            currency=p.currency,
        )
        for p in rows
    ]


def _plans(session: Session, case: ReferralCase) -> list[Event]:
    plans = session.scalars(
        sa.select(PaymentPlan).where(
            PaymentPlan.case_id == case.id,
            PaymentPlan.creditor_id == case.creditor_id,
        )
    ).all()
    out = []
    for plan in plans:
        parts = session.scalars(
            sa.select(Instalment)
            .where(Instalment.plan_id == plan.id)
            .order_by(Instalment.number)
        ).all()
        lines = [
            f"{i.number}. {i.due_on.isoformat()}: {i.amount} ({i.state})" for i in parts
        ]
        out.append(
            Event(
                at=plan.created_at,
                kind="plan",
                title=f"Payment plan ({plan.state}), {len(parts)} instalment(s)",
                body="\n".join(lines),
                amount=plan.total,
                currency=plan.currency,
            )
        )
    return out


def _payments(session: Session, case: ReferralCase) -> list[Event]:
    rows = session.execute(
        sa.select(
            Payment.paid_on,
            PaymentApplication.amount,
            PaymentApplication.currency,
            Invoice.number,
        )
        .join(Payment, Payment.id == PaymentApplication.payment_id)
        .join(Invoice, Invoice.id == PaymentApplication.invoice_id)
        .join(CaseInvoice, CaseInvoice.invoice_id == Invoice.id)
        .where(
            CaseInvoice.case_id == case.id,
            PaymentApplication.creditor_id == case.creditor_id,
            Payment.deleted.is_(False),
        )
    ).all()
    return [
        Event(
            at=_midday(paid_on),
            kind="payment",
            title=f"Payment on invoice {number or '—'}",
            amount=amount,
            currency=currency,
        )
        for paid_on, amount, currency, number in rows
    ]


def _fees(session: Session, case: ReferralCase) -> list[Event]:
    rows = session.scalars(
        sa.select(FeeAccrual).where(
            FeeAccrual.case_id == case.id, FeeAccrual.creditor_id == case.creditor_id
        )
    )
    return [
        Event(
            at=f.created_at,
            kind="fee",
            title=f"Fee at {f.rate * 100:.2f}% of {f.collected_amount} collected",
            amount=f.fee_amount,
            currency=f.currency,
        )
        for f in rows
    ]
