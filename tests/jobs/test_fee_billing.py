"""Fee bills through real parts: QuickBooks sandbox, SDK sync, RQ workers, bill writes.

A payment deleted in QuickBooks after its month was billed is credited on the next
month's bill, and every bill reaches the ledger once however often billing runs.
"""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from jobs import runtime as runtime_mod
from tests.jobs.conftest import REALM, connect_creditor


def _books(backend):
    # One invoice of 2,000.00, 45 days past due on 2025-05-01: referred that day.
    backend.sandbox.load(
        REALM,
        {
            "Customer": [
                {
                    "Id": "71",
                    "DisplayName": "Ashgrove Veterinary Clinic",
                    "Active": True,
                }
            ],
            "Invoice": [
                {
                    "Id": "1501",
                    "DocNumber": "1501",
                    "TxnDate": "2025-02-15",
                    "DueDate": "2025-03-17",
                    "TotalAmt": 2000.00,
                    "Balance": 2000.00,
                    "CustomerRef": {"value": "71"},
                    "Line": [
                        {
                            "Amount": 2000.00,
                            "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                        }
                    ],
                }
            ],
        },
        notify=False,
    )


def _advance_to(backend, day, sync):
    """Day by day to `day`, syncing each day (as the 15-minute syncs would)."""
    while backend.clock.now().date() < day:
        backend.advance(days=1)
        sync(backend.connection_id)


def _bills(backend):
    realm = backend.sandbox.realm(REALM)
    with realm.lock:
        return sorted(
            (
                b["DocNumber"],
                Decimal(str(b["TotalAmt"])),
                [Decimal(str(line["Amount"])) for line in b["Line"]],
            )
            for b in realm.values("Bill")
        )


def _fees(rt):
    from app.models import FeeAccrual

    with rt.sessions() as session:
        return session.execute(
            sa.select(FeeAccrual.fee_amount, FeeAccrual.accrued_on).order_by(
                FeeAccrual.id
            )
        ).all()


def test_deleted_payment_is_credited_on_the_next_bill_written_once(backend):
    from jobs.sweep import bill_month, sweep_creditor
    from jobs.sync import sync_connection

    _books(backend)
    connect_creditor(backend)
    rt = runtime_mod.runtime()
    sync_connection(backend.connection_id)
    assert sweep_creditor(backend.creditor_id)["referred"] == 1

    # 6 May: 450.00 paid, 1% = 4.50. May's bill is made on 1 June, twice over.
    _advance_to(backend, date(2025, 5, 6), sync_connection)
    payment = backend.sandbox.pay_invoice(REALM, "1501", "450.00", on=date(2025, 5, 6))
    _advance_to(backend, date(2025, 6, 1), sync_connection)
    may = f"CARE-{backend.creditor_id}-202505-USD"
    assert bill_month(backend.creditor_id, "2025-05") == [may]
    assert bill_month(backend.creditor_id, "2025-05") == []
    backend.run_workers()
    assert _bills(backend) == [(may, Decimal("4.50"), [Decimal("4.50")])]

    # 5 June: the payment is deleted in QuickBooks. CDC reports only its Id; the
    # reversal is 1% of 450.00 = -4.50, dated like the payment (6 May).
    backend.advance(days=4)
    paid = backend.sandbox.get(REALM, "Payment", payment)
    assert paid is not None
    backend.sandbox.write(
        REALM,
        "Payment",
        {"Id": payment, "SyncToken": paid["SyncToken"]},
        operation="delete",
    )
    sync_connection(backend.connection_id)
    assert _fees(rt) == [
        (Decimal("4.50"), date(2025, 5, 6)),
        (Decimal("-4.50"), date(2025, 5, 6)),
    ]
    # 12 June: 1,230.00 paid, 1% = 12.30.
    _advance_to(backend, date(2025, 6, 12), sync_connection)
    backend.sandbox.pay_invoice(REALM, "1501", "1230.00", on=date(2025, 6, 12))
    _advance_to(backend, date(2025, 7, 1), sync_connection)
    assert _fees(rt)[2:] == [(Decimal("12.30"), date(2025, 6, 12))]

    # June's bill: 12.30 - 4.50 = 7.80, the credit on a line of its own. Billing
    # both months again, and a second writes run, add nothing in the ledger.
    june = f"CARE-{backend.creditor_id}-202506-USD"
    assert bill_month(backend.creditor_id, "2025-06") == [june]
    assert bill_month(backend.creditor_id, "2025-06") == []
    assert bill_month(backend.creditor_id, "2025-05") == []
    backend.run_workers()
    backend.advance(hours=1)
    backend.run_workers()
    assert _bills(backend) == [
        (may, Decimal("4.50"), [Decimal("4.50")]),
        (june, Decimal("7.80"), [Decimal("12.30"), Decimal("-4.50")]),
    ]
