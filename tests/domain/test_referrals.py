"""The referral sweep and the Refer button, on a migrated database."""

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from app import referrals
from app.models import LedgerWrite, OutreachStep, Payment, ReferralCase
from tests.domain import factories as f

TODAY = date(2025, 5, 1)


def _books(session):
    creditor = f.creditor(session, timezone="America/New_York")
    f.user(session, role="representative", name="Ana Rep")
    conn = f.connection(session, creditor)
    a = f.debtor(session, conn, name="Ashgrove Clinic", timezone="America/New_York")
    b = f.debtor(session, conn, name="Bellbird Ltd")
    c = f.debtor(session, conn, name="Delgado-Whitfield Events")
    in_window = f.invoice(
        session, a, due_date=date(2025, 3, 17), amount_due=Decimal("450.00")
    )
    not_yet = f.invoice(session, a, due_date=date(2025, 4, 21))
    too_old = f.invoice(session, b, due_date=date(2024, 12, 27))  # 125 days
    covered = f.invoice(session, c, due_date=date(2025, 3, 2))
    session.add(
        Payment(
            creditor_id=creditor.id,
            connection_id=conn.id,
            debtor_id=c.id,
            ledger_id="905",
            paid_on=date(2025, 4, 1),
            currency="USD",
            amount=Decimal("500.00"),
            unapplied=Decimal("500.00"),
        )
    )
    session.flush()
    return creditor, in_window, not_yet, too_old, covered


def test_sweep_refers_what_is_in_the_window_and_says_why_for_the_rest(session):
    creditor, in_window, not_yet, too_old, covered = _books(session)

    result = referrals.sweep(session, creditor.id, TODAY)

    assert result.referred == [in_window.id]
    decided = {
        i.id: (i.decision, i.reason, i.days_late)
        for i in (in_window, not_yet, too_old, covered)
    }
    assert decided == {
        in_window.id: ("refer", "in_window", 45),
        not_yet.id: ("wait", "too_early", 10),
        too_old.id: ("escalate", "past_window", 125),
        covered.id: ("skip", "credit_covers_balance", 60),
    }
    case = session.scalars(sa.select(ReferralCase)).one()
    assert (case.state, case.amount_referred) == ("active", Decimal("450.00"))
    assert case.representative_id is not None


def test_outreach_is_planned_at_nine_in_the_debtors_zone(session):
    creditor, *_ = _books(session)
    referrals.sweep(session, creditor.id, TODAY)

    steps = session.scalars(
        sa.select(OutreachStep).order_by(OutreachStep.step_number)
    ).all()
    # Default cadence: day 0 letter + email, 3 call, 10 email, 17 sms, 24 call, 31
    # final letter, from Thursday 1 May 2025. Calls, e-mails and texts fall in the
    # debtor's hours (weekdays, US holidays off); days 3, 10, 17 and 24 are Sundays,
    # so they move to Monday, and Monday 26 May is Memorial Day, so day 24 goes on
    # Tuesday 27 May. A letter is posted on any day.
    assert [(s.channel, s.due_at) for s in steps] == [
        ("letter", datetime(2025, 5, 1, 13, tzinfo=UTC)),  # 09:00 EDT
        ("email", datetime(2025, 5, 1, 13, tzinfo=UTC)),
        ("call", datetime(2025, 5, 5, 13, tzinfo=UTC)),
        ("email", datetime(2025, 5, 12, 13, tzinfo=UTC)),
        ("sms", datetime(2025, 5, 19, 13, tzinfo=UTC)),
        ("call", datetime(2025, 5, 27, 13, tzinfo=UTC)),
        ("letter", datetime(2025, 6, 1, 13, tzinfo=UTC)),
    ]
    assert steps[-1].subject == "final"


def test_a_second_sweep_changes_nothing(session):
    creditor, *_ = _books(session)
    referrals.sweep(session, creditor.id, TODAY)
    counts = _counts(session)

    again = referrals.sweep(session, creditor.id, TODAY)

    assert again.referred == []
    assert _counts(session) == counts == (1, 7, 1)


def test_referral_note_is_queued_once_per_invoice(session):
    creditor, in_window, *_ = _books(session)
    referrals.sweep(session, creditor.id, TODAY, base_url="http://127.0.0.1:5000")

    write = session.scalars(sa.select(LedgerWrite)).one()
    assert (write.kind, write.target, write.state) == (
        "note",
        in_window.ledger_id,
        "pending",
    )
    assert write.payload["text"].startswith(
        "CARE: referred to pre-collections on 2025-05-01"
    )


def test_refer_button_refers_a_waiting_invoice_now(session):
    creditor, in_window, not_yet, *_ = _books(session)
    referrals.sweep(session, creditor.id, TODAY)

    [case] = referrals.refer(
        session,
        creditor.id,
        [not_yet.id],
        who="user:1",
        why="creditor asked",
        today=TODAY,
    )

    assert case.amount_referred == Decimal("550.00")
    assert _counts(session) == (1, 7, 2)


def test_refer_refuses_another_creditors_invoice(session):
    creditor, in_window, *_ = _books(session)
    other = f.creditor(session)
    try:
        referrals.refer(
            session, other.id, [in_window.id], who="user:1", why="w", today=TODAY
        )
    except referrals.ReferralError as exc:
        assert "has no invoice" in str(exc)
    else:
        raise AssertionError("referred another creditor's invoice")


def _counts(session):
    return tuple(
        session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (ReferralCase, OutreachStep, LedgerWrite)
    )
