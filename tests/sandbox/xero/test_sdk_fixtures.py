"""The recorded Xero bodies load into the sandbox and come back unchanged through
xero-python, configured by base URL alone."""

from __future__ import annotations

from typing import Any

from xero_python.accounting import Invoices, Organisations
from xero_python.identity import Connection

from connectors.sandbox.xero import XeroSandbox
from tests.sandbox.xero.conftest import ORG_ID, data_json


def _deserialize(client: Any, body: Any, kind: str) -> Any:
    """What xero-python makes of a recorded body (its own deserializer)."""
    from xero_python.api_client.deserializer import deserialize

    return deserialize(kind, body, client.accounting.get_model_finder())


def test_recorded_invoices_come_back_unchanged(
    sandbox: XeroSandbox, sdk_for: Any
) -> None:
    recorded = data_json("invoices_get_page1_demo_company_nz.json")
    sandbox.load(ORG_ID, {"Invoices": recorded["Invoices"]})
    client = sdk_for(sandbox)

    served = client.accounting.get_invoices(ORG_ID, page=1)

    expected = _deserialize(client, recorded, "Invoices")
    assert len(served.invoices) == 79
    assert served.invoices == expected.invoices
    assert served.pagination.item_count == 79
    assert served.pagination.page_count == 1


def test_recorded_invoices_keep_their_exact_json(
    sandbox: XeroSandbox, headers: dict
) -> None:
    recorded = data_json("invoices_get_page1_demo_company_nz.json")
    sandbox.load(ORG_ID, {"Invoices": recorded["Invoices"]})

    response = sandbox.app.test_client().get(
        "/api.xro/2.0/Invoices?page=1", headers=headers
    )

    from connectors.sandbox.xero import wire

    body = wire.loads(response.get_data())
    assert body["Invoices"] == recorded["Invoices"]
    # Amounts keep Xero's digits: 0.00 stays 0.00 and a rate keeps six places.
    text = response.get_data(as_text=True)
    assert '"AmountDue":0.00,' in text
    assert '"CurrencyRate":1.000000,' in text


def test_recorded_organisation_comes_back_unchanged(
    sandbox: XeroSandbox, sdk_for: Any
) -> None:
    client = sdk_for(sandbox)

    served = client.accounting.get_organisations(ORG_ID)

    recorded = data_json("organisation_get_demo_company_nz.json")
    assert isinstance(served, Organisations)
    assert (
        served.organisations
        == _deserialize(client, recorded, "Organisations").organisations
    )
    assert served.organisations[0].name == "Demo Company (NZ)"
    assert served.organisations[0].base_currency.value == "NZD"


def test_recorded_connection_comes_back_unchanged(
    sandbox: XeroSandbox, sdk_for: Any
) -> None:
    client = sdk_for(sandbox)  # consenting connects the tenant; then replace the row
    recorded = data_json("connections_get.json")
    sandbox.connect(ORG_ID, recorded[0])

    served = client.identity.get_connections()

    from xero_python.api_client.deserializer import deserialize

    expected = deserialize(
        "list[Connection]", recorded, client.identity.get_model_finder()
    )
    assert served == expected
    assert isinstance(served[0], Connection)
    assert served[0].tenant_id == ORG_ID
    assert served[0].id == "f4a87932-0878-4884-abcf-73191dd810ba"


def test_get_invoices_without_page_leaves_out_line_items(
    sandbox: XeroSandbox, sdk_for: Any
) -> None:
    recorded = data_json("invoices_get_page1_demo_company_nz.json")
    sandbox.load(ORG_ID, {"Invoices": recorded["Invoices"]})
    client = sdk_for(sandbox)

    served = client.accounting.get_invoices(ORG_ID)

    assert isinstance(served, Invoices)
    assert len(served.invoices) == 79
    assert all(not inv.line_items for inv in served.invoices)
    assert served.pagination is None


def test_responses_are_checked_against_the_spec(
    sandbox: XeroSandbox, headers: dict
) -> None:
    recorded = data_json("invoices_get_page1_demo_company_nz.json")
    sandbox.load(ORG_ID, {"Invoices": recorded["Invoices"]})
    client = sandbox.app.test_client()

    client.get("/api.xro/2.0/Invoices?page=1", headers=headers)
    client.get("/api.xro/2.0/Organisation", headers=headers)
    client.get("/connections", headers={"Authorization": headers["Authorization"]})

    check = sandbox.spec_check  # type: ignore[attr-defined]
    assert check.validated == 2  # /connections is outside the accounting spec
    assert check.failures == []


def test_spec_check_catches_a_status_outside_the_spec(
    sandbox: XeroSandbox, headers: dict
) -> None:
    # A self-test of the fixture: a value the spec's enum does not allow must fail.
    recorded = data_json("invoices_get_page1_demo_company_nz.json")
    bad = dict(recorded["Invoices"][0], Status="ARCHIVED")
    sandbox.load(ORG_ID, {"Invoices": [bad]})

    sandbox.app.test_client().get("/api.xro/2.0/Invoices?page=1", headers=headers)

    check = sandbox.spec_check  # type: ignore[attr-defined]
    assert len(check.failures) == 1
    check.failures.clear()  # expected here; the fixture asserts none remain


def test_answers_carry_the_correlation_id_of_their_body(
    sandbox: XeroSandbox, headers: dict
) -> None:
    response = sandbox.app.test_client().get(
        "/api.xro/2.0/Organisation", headers=headers
    )

    assert response.headers["Xero-Correlation-Id"] == response.get_json()["Id"]
