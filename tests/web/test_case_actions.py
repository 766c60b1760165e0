"""Case actions through the case page's forms, checked in the database and timeline.

The clock fixture stands at 2025-05-01 12:00 UTC (08:00 in the creditor's New York).
World A's case holds one invoice of 410.00 USD due 2025-03-20.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app import case_actions
from app.models import (
    AuditEntry,
    Instalment,
    Invoice,
    OutreachStep,
    PaymentPlan,
    Promise,
    ReferralCase,
)
from tests.web.conftest import choose_creditor, csrf_token, sign_in


@pytest.fixture
def rep(app, world):
    client = sign_in(app.test_client(), world.rep)
    choose_creditor(client, world.a.creditor_id)
    return client


def act(client, world, action: str, **form: str):
    token = csrf_token(client, f"/cases/{world.a.case_id}")
    return client.post(
        f"/cases/{world.a.case_id}/{action}", data={**form, "csrf_token": token}
    )


def case_of(sessions, world) -> ReferralCase:
    with sessions() as session:
        case = session.get(ReferralCase, world.a.case_id)
        assert case is not None
        return case


def test_voicemail_call_completes_the_due_call_task(rep, world, sessions) -> None:
    with sessions.begin() as session:
        session.add(
            OutreachStep(
                creditor_id=world.a.creditor_id,
                case_id=world.a.case_id,
                step_number=2,
                channel="call",
                due_at=datetime(2025, 5, 1, 9, 0, tzinfo=UTC),
                state="scheduled",
            )
        )
    response = act(rep, world, "call", outcome="voicemail", note="left a message")
    assert response.status_code == 302
    with sessions() as session:
        step = session.scalar(
            sa.select(OutreachStep).where(OutreachStep.step_number == 2)
        )
        assert step is not None and (step.state, step.outcome) == ("sent", "voicemail")
        entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "call"))
        assert entry is not None and entry.who == f"user:{world.rep_id}"
        assert entry.detail["outcome"] == "voicemail" and entry.why == "left a message"
    page = rep.get(f"/cases/{world.a.case_id}").get_data(as_text=True)
    assert "Call logged: voicemail" in page and "left a message" in page


def test_promise_on_a_call_pauses_the_case(rep, world, sessions) -> None:
    response = act(
        rep,
        world,
        "call",
        outcome="promise",
        note="will pay on the 15th",
        promise_amount="410",
        promise_due="2025-05-15",
    )
    assert response.status_code == 302
    assert case_of(sessions, world).state == "promised"
    with sessions() as session:
        promise = session.scalar(sa.select(Promise))
        assert promise is not None
        assert (promise.amount, promise.due_on) == (
            Decimal("410.00"),
            date(2025, 5, 15),
        )
        assert promise.promised_on == date(2025, 5, 1)


@pytest.mark.parametrize(
    ("amount", "due", "message"),
    [
        ("410.01", "2025-05-15", "more than the 410.00"),
        ("100", "2025-04-30", "in the past"),
        ("100", "2025-07-01", "should be a plan"),
        ("-5", "2025-05-15", "more than zero"),
        ("ten", "2025-05-15", "is not an amount"),
    ],
)
def test_bad_promise_is_refused_with_its_reason(
    rep, world, sessions, amount, due, message
) -> None:
    response = act(rep, world, "promise", promise_amount=amount, promise_due=due)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert case_of(sessions, world).state == "active"
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Promise)) == 0


def test_plan_must_add_up_to_what_is_owed(rep, world, sessions) -> None:
    short = act(rep, world, "plan", instalments="2025-05-15 200.00\n2025-06-15 200.00")
    assert short.status_code == 422
    assert "add up to 400.00, but the case owes 410.00" in short.get_data(as_text=True)

    done = act(rep, world, "plan", instalments="2025-05-15 205.00\n2025-06-15 205.00")
    assert done.status_code == 302
    assert case_of(sessions, world).state == "on_plan"
    with sessions() as session:
        plan = session.scalar(sa.select(PaymentPlan))
        assert plan is not None and plan.total == Decimal("410.00")
        parts = session.scalars(sa.select(Instalment).order_by(Instalment.number)).all()
        assert [(i.due_on, i.amount) for i in parts] == [
            (date(2025, 5, 15), Decimal("205.00")),
            (date(2025, 6, 15), Decimal("205.00")),
        ]


def test_plan_dates_must_go_forward(rep, world) -> None:
    response = act(
        rep, world, "plan", instalments="2025-06-15 205.00\n2025-05-15 205.00"
    )
    assert response.status_code == 422
    assert "must go forward" in response.get_data(as_text=True)


def test_dispute_pauses_and_resolving_it_resumes(app, rep, world, sessions) -> None:
    assert act(rep, world, "dispute", reason="goods never arrived").status_code == 302
    assert case_of(sessions, world).state == "disputed"
    with sessions() as session:
        flagged = session.scalars(sa.select(Invoice).where(Invoice.disputed)).all()
        assert [i.dispute_reason for i in flagged] == ["goods never arrived"]

    admin = sign_in(app.test_client(), world.a.admin)
    resolved = act(
        admin, world, "dispute/resolve", resolution="debt_stands", note="POD"
    )
    assert resolved.status_code == 302
    assert case_of(sessions, world).state == "active"
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).where(Invoice.disputed)) == 0


def test_withdraw_cancels_scheduled_outreach(app, world, sessions) -> None:
    with sessions.begin() as session:
        session.add(
            OutreachStep(
                creditor_id=world.a.creditor_id,
                case_id=world.a.case_id,
                step_number=2,
                channel="email",
                due_at=datetime(2025, 5, 10, 13, 0, tzinfo=UTC),
                state="scheduled",
            )
        )
    admin = sign_in(app.test_client(), world.a.admin)
    assert (
        act(admin, world, "withdraw", why="settled with the customer").status_code
        == 302
    )
    assert case_of(sessions, world).state == "withdrawn"
    with sessions() as session:
        step = session.scalar(
            sa.select(OutreachStep).where(OutreachStep.step_number == 2)
        )
        assert step is not None and step.state == "cancelled"


def test_a_closed_case_refuses_further_moves(app, rep, world, sessions) -> None:
    assert (
        act(rep, world, "escalate", why="no answer after six calls").status_code == 302
    )
    assert case_of(sessions, world).state == "escalated"
    again = act(rep, world, "call", outcome="reached")
    assert again.status_code == 422
    assert "escalated: nothing to record" in again.get_data(as_text=True)


def test_empty_why_is_refused(app, world) -> None:
    admin = sign_in(app.test_client(), world.a.admin)
    response = act(admin, world, "withdraw", why="  ")
    assert response.status_code == 422
    assert "say why" in response.get_data(as_text=True)


def test_note_appears_on_the_timeline_with_its_author(app, world) -> None:
    admin = sign_in(app.test_client(), world.a.admin)
    assert (
        act(admin, world, "note", text="Customer asked for a copy").status_code == 302
    )
    fragment = admin.get(f"/cases/{world.a.case_id}/timeline").get_data(as_text=True)
    assert "Customer asked for a copy" in fragment and "alpha admin" in fragment
    # The referral itself and the sent letter (with its PDF) are on it too.
    assert "Referred to the program" in fragment
    assert f"/letters/{world.a.letter_step_id}.pdf" in fragment


def test_instalments_text_is_parsed_line_by_line() -> None:
    from app.web.cases import parse_instalments

    found = parse_instalments("2025-05-15 1,000.50\n\n2025-06-15 99")
    assert [(i.due_on, i.amount) for i in found] == [
        (date(2025, 5, 15), Decimal("1000.50")),
        (date(2025, 6, 15), Decimal("99")),
    ]
    with pytest.raises(case_actions.ActionError, match="line 1"):
        parse_instalments("15/05/2025 100")


def test_parse_amount_rounds_half_up_to_the_minor_unit() -> None:
    assert case_actions.parse_amount("10.005", "USD") == Decimal("10.01")
    assert case_actions.parse_amount("1500.5", "JPY") == Decimal("1501")
    assert case_actions.parse_amount(
        Decimal("0.004") + Decimal("0.001"), "USD"
    ) == Decimal("0.01")
    with pytest.raises(case_actions.ActionError):
        case_actions.parse_amount("0.00", "USD")


def test_promise_further_than_sixty_days_is_refused(sessions, world, clock) -> None:
    with sessions() as session:
        case = session.get(ReferralCase, world.a.case_id)
        assert case is not None
        today = date(2025, 5, 1)
        with pytest.raises(case_actions.ActionError, match="should be a plan"):
            case_actions.record_promise(
                session,
                case,
                who="user:1",
                amount=Decimal("10"),
                due_on=today + timedelta(days=61),
                today=today,
            )
        promise = case_actions.record_promise(
            session,
            case,
            who="user:1",
            amount=Decimal("10"),
            due_on=today + timedelta(days=60),
            today=today,
        )
        assert promise.due_on == date(2025, 6, 30)
