"""Promises and plans reviewed by the daily sweep: kept, broken, outreach resumed."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app import case_actions, commitments, referrals
from app.case_actions import PlannedInstalment
from app.models import FeeAccrual, Instalment, Promise, ReferralCase
from tests.domain import factories as f

TODAY = date(2025, 5, 1)


def _case(session):
    creditor = f.creditor(session)
    f.user(session, role="representative")
    conn = f.connection(session, creditor)
    debtor = f.debtor(session, conn)
    invoice = f.invoice(
        session, debtor, due_date=date(2025, 3, 17), amount_due=Decimal("450.00")
    )
    referrals.sweep(session, creditor.id, TODAY)
    case = session.scalars(sa.select(ReferralCase)).one()
    return creditor, invoice, case


def _collect(session, case, invoice, amount, on):
    session.add(
        FeeAccrual(
            creditor_id=case.creditor_id,
            invoice_id=invoice.id,
            case_id=case.id,
            currency="USD",
            collected_amount=Decimal(amount),
            fee_amount=Decimal("0.00"),
            rate=Decimal("0.01"),
            accrued_on=on,
            created_at=case.referred_at,
        )
    )
    session.flush()


def test_broken_promise_resumes_outreach(session):
    creditor, invoice, case = _case(session)
    case_actions.record_promise(
        session,
        case,
        who="user:1",
        amount=Decimal("450.00"),
        due_on=date(2025, 5, 9),
        today=TODAY,
    )
    assert case.state == "promised"

    # Not yet: the date plus three days' grace has not passed.
    assert commitments.review(session, creditor.id, date(2025, 5, 12)).broken == []
    result = commitments.review(session, creditor.id, date(2025, 5, 13))

    promise = session.scalars(sa.select(Promise)).one()
    assert (promise.state, result.resumed_cases) == ("broken", [case.id])
    assert case.state == "active"


def test_promise_kept_when_the_money_came(session):
    creditor, invoice, case = _case(session)
    case_actions.record_promise(
        session,
        case,
        who="user:1",
        amount=Decimal("200.00"),
        due_on=date(2025, 5, 9),
        today=TODAY,
    )
    _collect(session, case, invoice, "200.00", date(2025, 5, 8))

    result = commitments.review(session, creditor.id, date(2025, 5, 13))

    assert [session.get(Promise, i).state for i in result.kept] == ["kept"]
    assert case.state == "active"  # 250.00 is still owed: outreach goes on


def test_missed_instalment_breaks_the_plan(session):
    creditor, invoice, case = _case(session)
    case_actions.record_plan(
        session,
        case,
        who="user:1",
        today=TODAY,
        instalments=[
            PlannedInstalment(date(2025, 5, 10), Decimal("150.00")),
            PlannedInstalment(date(2025, 6, 10), Decimal("300.00")),
        ],
    )
    _collect(session, case, invoice, "150.00", date(2025, 5, 10))
    commitments.review(session, creditor.id, date(2025, 5, 20))
    first, second = session.scalars(sa.select(Instalment).order_by(Instalment.number))
    assert (first.state, second.state, case.state) == ("paid", "due", "on_plan")

    result = commitments.review(session, creditor.id, date(2025, 6, 20))

    assert (second.state, result.resumed_cases, case.state) == (
        "missed",
        [case.id],
        "active",
    )
