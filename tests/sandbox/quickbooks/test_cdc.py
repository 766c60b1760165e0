"""ChangeDataCapture: window, cap, deleted objects, and the SDK reading it."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from connectors.sandbox.quickbooks.cdc import change_feed
from connectors.sandbox.quickbooks.wire import QboFault
from tests.sandbox.quickbooks.conftest import invoice_json


def test_sdk_reads_updates_and_deletions_since_a_local_time(
    sandbox, company, connect, clock
) -> None:
    qb = connect(company)
    clock.advance(timedelta(minutes=50))  # 05:50 in Los Angeles
    qb.update_object(
        "Invoice",
        json.dumps(
            {"Id": "1001", "SyncToken": "0", "sparse": True, "PrivateNote": "x"}
        ),
    )
    invoice = Invoice.get("1003", qb=qb)
    invoice.delete(qb=qb)

    feed = change_data_capture([Invoice, Customer], "2025-05-01T05:30:00", qb=qb)

    changed = {i.Id: i for i in feed.Invoice}
    assert set(changed) == {"1001", "1003"}
    assert changed["1003"].status == "Deleted"
    assert changed["1001"].PrivateNote == "x"
    assert not hasattr(feed, "Customer")  # nothing changed: no attribute


def test_deleted_object_is_only_id_status_domain_and_metadata(
    sandbox, company, clock
) -> None:
    realm = sandbox.realm(company)
    clock.advance(timedelta(minutes=1))
    sandbox.load(company, {"Invoice": [{"Id": "1002", "status": "Deleted"}]})

    body = change_feed(realm, "Invoice", "2025-05-01T05:00:30-07:00")

    rows = body["CDCResponse"][0]["QueryResponse"][0]["Invoice"]
    assert rows == [
        {
            "domain": "QBO",
            "status": "Deleted",
            "Id": "1002",
            "MetaData": {"LastUpdatedTime": "2025-05-01T05:01:00-07:00"},
        }
    ]


def test_changed_since_older_than_30_days_is_refused(sandbox, company, connect) -> None:
    qb = connect(company)

    with pytest.raises(QuickbooksException) as caught:
        change_data_capture([Invoice], "2025-03-31T00:00:00-07:00", qb=qb)

    assert "older than fixed days is not supported" in caught.value.detail
    change_data_capture([Invoice], "2025-04-02T00:00:00-07:00", qb=qb)  # inside: fine


def test_one_answer_holds_at_most_1000_objects_across_entities(
    sandbox, company, clock
) -> None:
    clock.advance(timedelta(minutes=1))
    sandbox.load(
        company,
        {
            "Invoice": [
                invoice_json(str(n), "64", "5.00", date(2025, 4, 1))
                for n in range(2000, 2900)
            ],
            "Customer": [
                {"Id": str(n), "DisplayName": f"C{n}"} for n in range(100, 300)
            ],
        },
        notify=False,
    )

    body = change_feed(
        sandbox.realm(company), "Invoice,Customer", "2025-05-01T05:00:30-07:00"
    )

    invoices, customers = body["CDCResponse"][0]["QueryResponse"]
    assert len(invoices["Invoice"]) == 900
    assert (
        len(customers["Customer"]) == 100
    )  # 1,000 in all: the rest needs a new window


def test_unknown_entity_is_a_fault(sandbox, company) -> None:
    with pytest.raises(QboFault):
        change_feed(sandbox.realm(company), "Invoice,Widget", "2025-05-01T00:00:00")
