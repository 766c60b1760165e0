"""Referral cases: the state machine, opening or extending a case, and assignment.

A creditor's debtor has at most one open case; each newly referred invoice of that
debtor joins it. Every state change goes through :func:`transition`, which refuses
anything not in :data:`ALLOWED` and audits who, when and why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app import audit, clock
from app.db import scoped
from app.models import (
    CaseInvoice,
    Creditor,
    Debtor,
    Invoice,
    OutreachStep,
    ReferralCase,
    User,
)
from app.models.cases import CASE_STATES, OPEN_CASE_STATES, TIERS
from app.money import quantize

logger = logging.getLogger(__name__)

TERMINAL = frozenset({"resolved_paid", "withdrawn", "written_off"})
_WORKING = frozenset({"resolved_paid", "escalated", "withdrawn", "written_off"})

# Every legal move; anything else is refused. A case is paused while disputed and
# resumes (active) or ends from there; terminal states never reopen: a later
# referral of the same debtor opens a new case.
ALLOWED: dict[str, frozenset[str]] = {
    "proposed": frozenset({"active", "disputed", "resolved_paid", "withdrawn"}),
    "active": frozenset({"promised", "on_plan", "disputed"} | _WORKING),
    "promised": frozenset({"active", "on_plan", "disputed"} | _WORKING),
    "on_plan": frozenset({"active", "disputed"} | _WORKING),
    "disputed": frozenset({"active", "resolved_paid", "withdrawn", "written_off"}),
    "escalated": frozenset({"resolved_paid", "withdrawn", "written_off"}),
    "resolved_paid": frozenset(),
    "withdrawn": frozenset(),
    "written_off": frozenset(),
}


class CaseError(Exception):
    """A case operation that cannot be done as asked."""


class IllegalTransitionError(CaseError):
    """The state machine does not allow this move."""


class ConcurrentTransitionError(CaseError):
    """Another process moved the case first; re-read it and decide again."""


def can_transition(current: str, to: str) -> bool:
    """Whether the state machine allows `current` -> `to`."""
    return to in ALLOWED.get(current, frozenset())


def transition(
    session: Session,
    case: ReferralCase,
    to: str,
    who: str,
    why: str,
    *,
    detail: dict[str, object] | None = None,
) -> ReferralCase:
    """Move `case` to state `to`, auditing who, when and why; refuse illegal moves."""
    if to not in CASE_STATES:
        raise IllegalTransitionError(f"case {case.id}: {to!r} is not a case state")
    current = case.state
    if not can_transition(current, to):
        allowed = ", ".join(sorted(ALLOWED[current])) or "none: it is closed"
        raise IllegalTransitionError(
            f"case {case.id}: cannot go from {current} to {to} (allowed: {allowed})"
        )
    if not why or not why.strip():
        raise CaseError(f"case {case.id}: a transition to {to} needs a why")

    now = clock.now()
    values: dict[str, object] = {"state": to, "state_changed_at": now}
    if to in TERMINAL:
        values["closed_at"] = now
    # Compare-and-set on the old state: two workers cannot both move the same case.
    result = session.execute(
        sa.update(ReferralCase)
        .where(ReferralCase.id == case.id, ReferralCase.state == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(case)
        raise ConcurrentTransitionError(
            f"case {case.id}: expected state {current}, found {case.state}"
        )
    for name, value in values.items():
        set_committed_value(case, name, value)
    audit.record(
        session,
        who=who,
        creditor_id=case.creditor_id,
        entity="case",
        entity_id=case.id,
        action="transition",
        from_state=current,
        to_state=to,
        why=why,
        detail=detail,
        at=now,
    )
    logger.info(
        "case moved creditor=%s case=%s %s->%s", case.creditor_id, case.id, current, to
    )
    return case


def open_case(
    session: Session, creditor_id: int, debtor_id: int
) -> ReferralCase | None:
    """The debtor's case that new referrals would join, if there is one."""
    return (
        scoped(session, ReferralCase, creditor_id)
        .where(
            ReferralCase.debtor_id == debtor_id,
            ReferralCase.state.in_(OPEN_CASE_STATES),
        )
        .first()
    )


def refer(
    session: Session,
    creditor: Creditor,
    debtor: Debtor,
    invoices: Iterable[Invoice],
    who: str,
    why: str,
    *,
    approval_first: bool = False,
    tier: str = "first_party",
) -> ReferralCase:
    """Open a case for `debtor` or extend its open one with `invoices`.

    A new case starts `proposed` when the creditor approves referrals first, else
    `active`. Invoices already in the case are left as they are.
    """
    if tier not in TIERS:
        raise CaseError(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}")
    invoices = list(invoices)
    for invoice in invoices:
        _check_referable(creditor, debtor, invoice)

    now = clock.now()
    case = open_case(session, creditor.id, debtor.id)
    if case is None:
        case = _create(session, creditor, debtor, who, why, now, approval_first, tier)

    present = set(
        session.scalars(
            sa.select(CaseInvoice.invoice_id).where(CaseInvoice.case_id == case.id)
        )
    )
    added = []
    for invoice in invoices:
        if invoice.id in present:
            continue
        home = home_amount(invoice, creditor.home_currency)
        # A savepoint: a double-click (or two sweeps) may add this invoice at the
        # same moment; the unique (case, invoice) pair keeps one and we skip ours.
        try:
            with session.begin_nested():
                session.add(
                    CaseInvoice(
                        creditor_id=creditor.id,
                        case_id=case.id,
                        invoice_id=invoice.id,
                        referred_at=now,
                        currency=invoice.currency,
                        amount_at_referral=invoice.amount_due,
                        home_amount_at_referral=home,
                    )
                )
        except IntegrityError:
            logger.info(
                "invoice already in case creditor=%s case=%s invoice=%s",
                creditor.id,
                case.id,
                invoice.id,
            )
            continue
        case.amount_referred += home
        case.amount_due += home
        added.append(invoice.id)
    if added:
        audit.record(
            session,
            who=who,
            creditor_id=creditor.id,
            entity="case",
            entity_id=case.id,
            action="add_invoices",
            why=why,
            detail={"invoice_ids": added},
            at=now,
        )
    if case.representative_id is None:
        assign_representative(session, case, debtor, who)
    session.flush()
    return case


def _create(
    session: Session,
    creditor: Creditor,
    debtor: Debtor,
    who: str,
    why: str,
    now: datetime,
    approval_first: bool,
    tier: str,
) -> ReferralCase:
    state = "proposed" if approval_first else "active"
    case = ReferralCase(
        creditor_id=creditor.id,
        debtor_id=debtor.id,
        state=state,
        state_changed_at=now,
        referred_at=now,
        tier=tier,
        currency=creditor.home_currency,
        amount_referred=Decimal(0),
        amount_due=Decimal(0),
        amount_collected=Decimal(0),
    )
    # A savepoint: if another worker opened this debtor's case a moment ago, the
    # partial unique index refuses ours and we join theirs instead.
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:
        existing = open_case(session, creditor.id, debtor.id)
        if existing is None:
            raise
        logger.info("case race lost creditor=%s debtor=%s", creditor.id, debtor.id)
        return existing
    audit.record(
        session,
        who=who,
        creditor_id=creditor.id,
        entity="case",
        entity_id=case.id,
        action="open",
        to_state=state,
        why=why,
        detail={"debtor_id": debtor.id, "tier": tier},
        at=now,
    )
    return case


def _check_referable(creditor: Creditor, debtor: Debtor, invoice: Invoice) -> None:
    if invoice.creditor_id != creditor.id or debtor.creditor_id != creditor.id:
        raise CaseError(f"invoice {invoice.id} is not creditor {creditor.id}'s")
    if invoice.debtor_id != debtor.id:
        raise CaseError(f"invoice {invoice.id} belongs to debtor {invoice.debtor_id}")
    if invoice.status != "open" or invoice.amount_due <= 0:
        raise CaseError(
            f"invoice {invoice.id} is {invoice.status} with {invoice.amount_due}"
            f" {invoice.currency} due: nothing to refer"
        )


# TODO: a foreign-currency invoice is valued at the ledger's rate when it was last
# synced; with no home amount or rate it cannot be referred at all (CaseError),
# where a day rate from a rates service would let it through.
def home_amount(invoice: Invoice, home_currency: str) -> Decimal:
    """What `invoice` still owes in the home currency, at the ledger's own rate."""
    if invoice.currency == home_currency:
        return invoice.amount_due
    if invoice.home_amount_due is not None:
        return invoice.home_amount_due
    if invoice.exchange_rate is not None:
        return quantize(invoice.amount_due * invoice.exchange_rate, home_currency)
    raise CaseError(
        f"invoice {invoice.id} is in {invoice.currency} with no home amount or rate:"
        f" cannot value it in {home_currency}"
    )


def assign_representative(
    session: Session, case: ReferralCase, debtor: Debtor, who: str
) -> User | None:
    """Give `case` its debtor's representative, or the least-loaded one (sticky)."""
    rep = None
    if debtor.representative_id is not None:
        rep = session.get(User, debtor.representative_id)
        if rep is not None and not _can_represent(rep, case.creditor_id):
            rep = None
    if rep is None:
        rep = least_loaded_representative(session, case.creditor_id)
    if rep is None:
        logger.warning(
            "no representative creditor=%s case=%s", case.creditor_id, case.id
        )
        return None

    case.representative_id = rep.id
    debtor.representative_id = rep.id
    audit.record(
        session,
        who=who,
        creditor_id=case.creditor_id,
        entity="case",
        entity_id=case.id,
        action="assign",
        why="representative for this debtor",
        detail={"representative_id": rep.id, "debtor_id": debtor.id},
    )
    return rep


def _can_represent(user: User, creditor_id: int) -> bool:
    return (
        user.active
        and user.role == "representative"
        and user.creditor_id in (None, creditor_id)
    )


def least_loaded_representative(session: Session, creditor_id: int) -> User | None:
    """The active representative with the fewest open cases (lowest id on a tie)."""
    load = sa.func.count(ReferralCase.id)
    statement = (
        sa.select(User, load)
        .outerjoin(
            ReferralCase,
            sa.and_(
                ReferralCase.representative_id == User.id,
                ReferralCase.state.in_(OPEN_CASE_STATES),
            ),
        )
        .where(
            User.role == "representative",
            User.active.is_(True),
            sa.or_(User.creditor_id.is_(None), User.creditor_id == creditor_id),
        )
        .group_by(User.id)
        .order_by(load, User.id)
        .limit(1)
    )
    row = session.execute(statement).first()
    return row[0] if row else None


def open_load(session: Session) -> dict[int, int]:
    """Open cases per representative id (representatives with none are absent)."""
    rows = session.execute(
        sa.select(ReferralCase.representative_id, sa.func.count())
        .where(
            ReferralCase.representative_id.is_not(None),
            ReferralCase.state.in_(OPEN_CASE_STATES),
        )
        .group_by(ReferralCase.representative_id)
    )
    return {rep: int(count) for rep, count in rows if rep is not None}


def cancel_steps(session: Session, case_id: int, why: str) -> None:
    """Cancel every step of the case still scheduled, noting `why` on each."""
    session.execute(
        sa.update(OutreachStep)
        .where(OutreachStep.case_id == case_id, OutreachStep.state == "scheduled")
        .values(state="cancelled", outcome=why, done_at=clock.now())
    )
