"""The thin path end to end: sandbox ledger -> SDK sync -> sweep -> outreach on real
RQ workers -> note written back -> payment stops the next send -> fee accrued."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from jobs import runtime as runtime_mod
from tests.jobs.conftest import REALM, connect_creditor


def _books(backend):
    backend.sandbox.load(
        REALM,
        {
            "Customer": [
                {
                    "Id": "71",
                    "DisplayName": "Ashgrove Veterinary Clinic",
                    "Active": True,
                    "Balance": 450.00,
                    "PrimaryEmailAddr": {"Address": "accounts@ashgrove.example"},
                },
                {
                    "Id": "72",
                    "DisplayName": "Harlow & Finch Dental",
                    "Active": True,
                    "Balance": 90.00,
                },
            ],
            "Invoice": [
                {
                    "Id": "1501",
                    "DocNumber": "1501",
                    "TxnDate": "2025-02-15",
                    "DueDate": "2025-03-17",
                    "TotalAmt": 450.00,
                    "Balance": 450.00,
                    "CustomerRef": {"value": "71"},
                    "Line": [
                        {
                            "Amount": 450.00,
                            "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                        }
                    ],
                },
                {
                    "Id": "1502",
                    "DocNumber": "1502",
                    "TxnDate": "2025-04-10",
                    "DueDate": "2025-04-25",
                    "TotalAmt": 90.00,
                    "Balance": 90.00,
                    "CustomerRef": {"value": "72"},
                    "Line": [
                        {
                            "Amount": 90.00,
                            "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                        }
                    ],
                },
            ],
        },
        notify=False,
    )


def test_referral_outreach_and_payment_through_real_parts(backend):
    from app.models import Effect, FeeAccrual, Invoice, OutreachStep, ReferralCase
    from jobs.sweep import sweep_creditor
    from jobs.sync import sync_connection
    from jobs.tick import dispatch_due

    _books(backend)
    connect_creditor(backend)
    rt = runtime_mod.runtime()

    sync_connection(backend.connection_id)
    result = sweep_creditor(backend.creditor_id)
    assert result["referred"] == 1  # 1501 is 45 days late; 1502 only 6
    backend.advance(hours=2)  # 10:00 in New York: the day-0 steps are due
    dispatch_due()
    backend.run_workers()  # the note, the day-0 letter and e-mail
    print("\n".join(_timing(backend)))

    # Day 0: one letter on disk, one e-mail with it attached, one note in the ledger.
    assert len(list(backend.letters.rglob("*.pdf"))) == 1
    [mail] = backend.inbox.messages
    assert mail["To"] == "accounts@ashgrove.example"
    assert [p.get_content_type() for p in mail.walk()][-1] == "application/pdf"
    note = backend.sandbox.get(REALM, "Invoice", "1501")["PrivateNote"]
    assert "referred to pre-collections on 2025-05-01" in note

    # Running the same day's work again sends nothing more.
    sweep_creditor(backend.creditor_id)
    dispatch_due()
    backend.run_workers()
    assert len(backend.inbox.messages) == 1
    assert len(list(backend.letters.rglob("*.pdf"))) == 1

    # The debtor pays in the ledger on Tuesday 6 May; no webhook arrives. The call
    # task planned for Sunday waited for Monday's window; run now, it re-reads the
    # invoice first, finds it paid and closes the case instead.
    backend.advance(days=5)
    backend.sandbox.pay_invoice(REALM, "1501", Decimal("450.00"), on=date(2025, 5, 6))
    dispatch_due()
    backend.run_workers()
    assert len(backend.inbox.messages) == 1

    with rt.sessions() as session:
        case = session.scalars(sa.select(ReferralCase)).one()
        assert case.state == "resolved_paid"
        steps = session.scalars(
            sa.select(OutreachStep).order_by(OutreachStep.step_number)
        ).all()
        assert [s.state for s in steps] == [
            "sent",  # letter
            "sent",  # e-mail
            "skipped",  # the call task: paid
            "cancelled",
            "cancelled",
            "cancelled",
            "cancelled",
        ]
        assert steps[2].outcome == "skipped: paid"
        assert session.scalar(sa.select(sa.func.count()).select_from(Effect)) == 2
        invoice = session.scalars(
            sa.select(Invoice).where(Invoice.ledger_id == "1501")
        ).one()
        assert invoice.amount_due == Decimal("0.00")

    # The ledger is told, on the invoice, that CARE has stopped.
    note = backend.sandbox.get(REALM, "Invoice", "1501")["PrivateNote"]
    assert "case C-1 closed (nothing left to pay); no further reminders" in note

    # The next sync sees the payment itself and accrues 1% of 450.00 = 4.50.
    sync_connection(backend.connection_id)
    with rt.sessions() as session:
        accrual = session.scalars(sa.select(FeeAccrual)).one()
        assert (accrual.collected_amount, accrual.fee_amount) == (
            Decimal("450.00"),
            Decimal("4.50"),
        )


def _timing(backend):
    return [
        line
        for log in backend.extra.get("worker_logs", [])
        for line in log.splitlines()
        if "Successfully completed" in line
    ]
