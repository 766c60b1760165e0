"""Creates, updates, payments, credits, voids and deletes, through python-quickbooks."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from quickbooks.exceptions import QuickbooksException, UnsupportedException
from quickbooks.objects.base import Ref
from quickbooks.objects.bill import Bill
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
)
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment
from quickbooks.objects.vendor import Vendor


def _pay(qb, customer_id: str, total: str, links: list[tuple[str, str, str]]) -> dict:
    body = {
        "CustomerRef": {"value": customer_id},
        "TotalAmt": total,
        "Line": [
            {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": kind}]}
            for kind, txn_id, amount in links
        ],
    }
    return qb.create_object("Payment", json.dumps(body))["Payment"]


def test_created_invoice_gets_id_synctoken_totals_and_local_timestamps(
    sandbox, company, connect
) -> None:
    qb = connect(company)
    invoice = Invoice()
    invoice.CustomerRef = Ref()
    invoice.CustomerRef.value = "58"
    line = SalesItemLine()
    line.Amount = 40
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.Qty = 2
    line.SalesItemLineDetail.UnitPrice = 20
    invoice.Line = [line]
    invoice.DueDate = "2025-05-31"

    saved = invoice.save(qb=qb)

    assert saved.Id == "1004" and saved.SyncToken == "0"
    assert (saved.TotalAmt, saved.Balance) == (40, 40)
    assert saved.TxnDate == "2025-05-01"  # 12:00 UTC is 05:00 in Los Angeles
    assert saved.MetaData.CreateTime == "2025-05-01T05:00:00-07:00"
    assert saved.CurrencyRef.value == "USD"
    assert [ln.DetailType for ln in saved.Line] == [
        "SalesItemLineDetail",
        "SubTotalLineDetail",
    ]


def test_sparse_update_keeps_other_fields_and_bumps_synctoken(
    sandbox, company, connect, clock
) -> None:
    qb = connect(company)
    clock.advance(timedelta(minutes=5))

    answer = qb.update_object(
        "Invoice",
        json.dumps(
            {
                "Id": "1002",
                "SyncToken": "0",
                "sparse": True,
                "PrivateNote": "CARE: referred",
            }
        ),
    )["Invoice"]

    assert answer["SyncToken"] == "1"
    assert answer["PrivateNote"] == "CARE: referred"
    assert answer["Balance"] == 250.5 and answer["DueDate"] == "2025-03-20"
    assert answer["MetaData"]["LastUpdatedTime"] == "2025-05-01T05:05:00-07:00"


def test_stale_synctoken_answers_fault_5010(sandbox, company, connect) -> None:
    qb = connect(company)
    note = {"Id": "1002", "SyncToken": "0", "sparse": True, "PrivateNote": "first"}
    qb.update_object("Invoice", json.dumps(note))

    with pytest.raises(QuickbooksException) as caught:
        qb.update_object("Invoice", json.dumps({**note, "PrivateNote": "second"}))

    assert caught.value.error_code == 5010
    assert caught.value.message == "Stale Object Error"
    assert sandbox.get(company, "Invoice", "1002")["PrivateNote"] == "first"


def test_full_update_through_the_sdk_round_trips(sandbox, company, connect) -> None:
    qb = connect(company)
    invoice = Invoice.get("1003", qb=qb)
    invoice.PrivateNote = "kept"

    saved = invoice.save(qb=qb)

    assert saved.SyncToken == "1" and saved.PrivateNote == "kept"
    assert saved.Balance == 75.25 and saved.TotalAmt == 75.25


def test_partial_payment_lowers_balance_and_links_both_ways(
    sandbox, company, connect
) -> None:
    qb = connect(company)

    payment = _pay(qb, "64", "100.00", [("Invoice", "1002", "100.00")])

    invoice = Invoice.get("1002", qb=qb)
    assert invoice.Balance == 150.5  # 250.50 - 100.00
    assert invoice.SyncToken == "1"
    assert [(lt.TxnId, lt.TxnType) for lt in invoice.LinkedTxn] == [
        (payment["Id"], "Payment")
    ]
    assert payment["UnappliedAmt"] == 0
    assert sandbox.get(company, "Customer", "64")["Balance"] == Decimal("225.75")


def test_overpayment_keeps_the_rest_unapplied_and_customer_goes_negative(
    sandbox, company, connect
) -> None:
    qb = connect(company)

    payment = _pay(qb, "58", "500.00", [("Invoice", "1001", "100.00")])

    assert payment["UnappliedAmt"] == 400
    assert Invoice.get("1001", qb=qb).Balance == 0
    assert Customer.get("58", qb=qb).Balance == -400  # case C17's net balance


def test_payment_over_the_invoice_balance_is_refused(sandbox, company, connect) -> None:
    qb = connect(company)

    with pytest.raises(QuickbooksException):
        _pay(qb, "58", "150.00", [("Invoice", "1001", "150.00")])

    assert sandbox.get(company, "Invoice", "1001")["Balance"] == Decimal("100.00")


def test_credit_memo_applied_through_a_zero_payment(sandbox, company, connect) -> None:
    qb = connect(company)
    memo = qb.create_object(
        "CreditMemo",
        json.dumps(
            {
                "CustomerRef": {"value": "64"},
                "Line": [
                    {
                        "Amount": "30.00",
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                    }
                ],
            }
        ),
    )["CreditMemo"]

    _pay(
        qb,
        "64",
        "0",
        [("Invoice", "1003", "30.00"), ("CreditMemo", memo["Id"], "30.00")],
    )

    assert Invoice.get("1003", qb=qb).Balance == 45.25
    stored = sandbox.get(company, "CreditMemo", memo["Id"])
    assert stored["RemainingCredit"] == Decimal("0.00")
    assert sandbox.get(company, "Customer", "64")["Balance"] == Decimal("295.75")


def test_void_zeroes_the_invoice_and_frees_its_payment(
    sandbox, company, connect
) -> None:
    qb = connect(company)
    payment = _pay(qb, "64", "50.00", [("Invoice", "1002", "50.00")])
    invoice = Invoice.get("1002", qb=qb)

    invoice.void(qb=qb)

    voided = sandbox.get(company, "Invoice", "1002")
    assert (voided["TotalAmt"], voided["Balance"]) == (0, 0)
    assert voided["PrivateNote"] == "Voided"
    assert voided["LinkedTxn"] == []
    assert sandbox.get(company, "Payment", payment["Id"])["UnappliedAmt"] == Decimal(
        "50.00"
    )


def test_void_payment_restores_the_invoice_balance(sandbox, company, connect) -> None:
    qb = connect(company)
    created = _pay(qb, "64", "50.00", [("Invoice", "1002", "50.00")])
    payment = Payment.get(created["Id"], qb=qb)

    payment.void(qb=qb)

    assert sandbox.get(company, "Invoice", "1002")["Balance"] == Decimal("250.50")
    assert sandbox.get(company, "Payment", created["Id"])["TotalAmt"] == 0


def test_delete_leaves_a_tombstone_and_reads_answer_610(
    sandbox, company, connect
) -> None:
    qb = connect(company)
    invoice = Invoice.get("1003", qb=qb)

    answer = invoice.delete(qb=qb)

    assert answer["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": "1003"}
    with pytest.raises(QuickbooksException) as caught:
        Invoice.get("1003", qb=qb)
    assert caught.value.error_code == 610


def test_customers_cannot_be_deleted(sandbox, company, connect) -> None:
    qb = connect(company)
    customer = Customer.get("64", qb=qb)
    body = json.dumps({"Id": customer.Id, "SyncToken": customer.SyncToken})

    with pytest.raises(UnsupportedException):  # QBO makes names inactive instead
        qb.delete_object("Customer", body)


def test_duplicate_display_name_is_6240_across_customers_and_vendors(
    sandbox, company, connect
) -> None:
    qb = connect(company)
    vendor = Vendor()
    vendor.DisplayName = "delgado-whitfield events"

    with pytest.raises(QuickbooksException) as caught:
        vendor.save(qb=qb)

    assert caught.value.error_code == 6240


def test_fee_bill_is_created_once_per_docnumber(sandbox, company, connect) -> None:
    qb = connect(company)
    vendor = Vendor()
    vendor.DisplayName = "CARE Pre-Collections"
    vendor = vendor.save(qb=qb)

    def bill() -> Bill:
        new = Bill()
        new.VendorRef = vendor.to_ref()
        new.DocNumber = "CARE-FEE-2025-05-USD"
        line = AccountBasedExpenseLine()
        line.Amount = 37.5
        line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
        line.AccountBasedExpenseLineDetail.AccountRef = Ref()
        line.AccountBasedExpenseLineDetail.AccountRef.value = "5"
        new.Line = [line]
        return new

    saved = bill().save(qb=qb)
    with pytest.raises(QuickbooksException) as caught:
        bill().save(qb=qb)

    assert (saved.TotalAmt, saved.Balance) == (37.5, 37.5)
    assert caught.value.error_code == 6140
    assert len(Bill.filter(DocNumber="CARE-FEE-2025-05-USD", qb=qb)) == 1
    assert Vendor.get(vendor.Id, qb=qb).Balance == 37.5


def test_batch_runs_items_and_reports_item_faults_inside_a_200(
    sandbox, company, connect
) -> None:
    qb = connect(company)
    body = {
        "BatchItemRequest": [
            {"bId": "1", "Query": "SELECT * FROM Invoice WHERE Id = '1001'"},
            {
                "bId": "2",
                "operation": "update",
                "Invoice": {
                    "Id": "1002",
                    "SyncToken": "0",
                    "sparse": True,
                    "PrivateNote": "b",
                },
            },
            {
                "bId": "3",
                "operation": "update",
                "Invoice": {
                    "Id": "1003",
                    "SyncToken": "9",
                    "sparse": True,
                    "PrivateNote": "c",
                },
            },
        ]
    }

    answer = qb.batch_operation(json.dumps(body))["BatchItemResponse"]

    assert answer[0]["QueryResponse"]["Invoice"][0]["Id"] == "1001"
    assert answer[1]["Invoice"]["PrivateNote"] == "b"
    assert answer[2]["Fault"]["Error"][0]["code"] == "5010"


def test_minorversion_is_accepted_whatever_its_value(sandbox, company, server) -> None:
    import requests

    token = sandbox.issue_tokens(company)["access_token"]
    for version in ("4", "75", "999"):
        answer = requests.get(
            f"{server.url}/v3/company/{company}/invoice/1001",
            params={"minorversion": version},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=5,
        )
        assert answer.status_code == 200


def test_repeated_requestid_answers_the_first_write_again(
    sandbox, company, connect
) -> None:
    qb = connect(company)
    body = json.dumps(
        {
            "CustomerRef": {"value": "64"},
            "TotalAmt": "20.00",
            "Line": [
                {
                    "Amount": "20.00",
                    "LinkedTxn": [{"TxnId": "1003", "TxnType": "Invoice"}],
                }
            ],
        }
    )

    first = qb.create_object("Payment", body, request_id="care-pay-1003-1")
    again = qb.create_object("Payment", body, request_id="care-pay-1003-1")

    assert again["Payment"]["Id"] == first["Payment"]["Id"]
    assert len(sandbox.realm(company).all("Payment")) == 1
    assert sandbox.get(company, "Invoice", "1003")["Balance"] == Decimal("55.25")


def test_batch_of_more_than_30_items_is_refused(sandbox, company, connect) -> None:
    qb = connect(company)
    items = [
        {"bId": str(n), "Query": "SELECT * FROM Invoice MAXRESULTS 1"}
        for n in range(31)
    ]

    with pytest.raises(QuickbooksException) as caught:
        qb.batch_operation(json.dumps({"BatchItemRequest": items}))

    assert "exceeds the limit of 30" in caught.value.detail


def test_concurrent_updates_with_one_synctoken_let_exactly_one_win(
    sandbox, company, server
) -> None:
    import threading

    import requests

    token = sandbox.issue_tokens(company)["access_token"]
    statuses: list[int] = []

    def update(n: int) -> None:
        body = {"Id": "1002", "SyncToken": "0", "sparse": True, "PrivateNote": f"w{n}"}
        answer = requests.post(
            f"{server.url}/v3/company/{company}/invoice",
            data=json.dumps(body),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            },
            timeout=10,
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=update, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [400] * 7
    assert sandbox.get(company, "Invoice", "1002")["SyncToken"] == "1"
