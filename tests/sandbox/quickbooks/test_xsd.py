"""The Finance.xsd key check itself: extension chains, refs, and that it runs."""

from __future__ import annotations

from quickbooks.objects.invoice import Invoice


def test_keys_come_from_the_whole_extension_chain(schema) -> None:
    keys = schema.members("Invoice").keys

    assert "Deposit" in keys  # Invoice itself
    assert "CustomerRef" in keys  # SalesTransaction
    assert "TxnDate" in keys  # Transaction
    assert {"Id", "SyncToken", "MetaData", "domain", "sparse"} <= set(
        keys
    )  # IntuitEntity
    assert "DisplayName" not in keys


def test_references_and_nested_lines_are_checked_too(schema) -> None:
    invoice = {
        "Id": "1",
        "Colour": "red",
        "CustomerRef": {"value": "1", "name": "A", "label": "x"},
        "Line": [
            {
                "Amount": 1,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Colour": 2},
            }
        ],
    }

    assert schema.check_entity("Invoice", invoice) == [
        "Invoice.Colour",
        "Invoice.CustomerRef.label",
        "Invoice.Line[0].SalesItemLineDetail.Colour",
    ]


def test_responses_use_the_substitution_group_of_entities(schema) -> None:
    ok = {
        "QueryResponse": {
            "Invoice": [{"Id": "1"}],
            "startPosition": 1,
            "maxResults": 1,
        },
        "time": "2025-05-01T05:00:00.000-07:00",
    }
    fault = {"Fault": {"Error": [{"Message": "m", "Detail": "d", "code": "610"}]}}

    assert schema.check_response(ok) == []
    assert schema.check_response(fault) == []
    assert schema.check_response({"QueryResponse": {"Widget": []}}) == [
        "$.QueryResponse.Widget"
    ]


def test_every_api_body_in_a_test_goes_through_the_check(
    sandbox, company, connect, schema_watch
) -> None:
    qb = connect(company)

    Invoice.get("1001", qb=qb)
    Invoice.all(qb=qb)

    assert schema_watch.checked == 2
    assert schema_watch.problems == []
