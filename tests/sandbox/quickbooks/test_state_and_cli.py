"""Dump and restore, loading support-case files, and `care sandbox quickbooks`."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError

from connectors.sandbox.quickbooks import QuickBooksSandbox, wire
from connectors.sandbox.quickbooks.cli import _from_file, quickbooks
from tests.sandbox.quickbooks.conftest import REDIRECT


def test_dump_restore_keeps_objects_tombstones_and_grants(
    sandbox, company, clock
) -> None:
    tokens = sandbox.issue_tokens(company)
    sandbox.pay_invoice(company, "1002", Decimal("50.00"))
    clock.advance(timedelta(minutes=1))
    sandbox.load(company, {"Invoice": [{"Id": "1003", "status": "Deleted"}]})

    text = wire.dumps(sandbox.dump())
    again = QuickBooksSandbox.restore(wire.loads(text), clock=clock)

    assert again.get(company, "Invoice", "1002") == sandbox.get(
        company, "Invoice", "1002"
    )
    assert again.get(company, "Invoice", "1003") is None
    assert again.realm(company).tombstones["Invoice"]["1003"]["status"] == "Deleted"
    grant, _ = again.tokens.check_access(tokens["access_token"], clock.now())
    assert grant is not None and grant.realm_id == company
    fresh = again.issue_tokens(company)
    assert fresh["refresh_token"] != tokens["refresh_token"]


def test_loaded_change_replaces_by_id_and_keeps_given_synctoken(
    sandbox, company
) -> None:
    changes = sandbox.load(
        company,
        {"Customer": [{"Id": "64", "SyncToken": "7", "DisplayName": "Delgado Events"}]},
        notify=False,
    )

    stored = sandbox.get(company, "Customer", "64")
    assert (stored["DisplayName"], stored["SyncToken"]) == ("Delgado Events", "7")
    assert [(c.entity, c.object_id, c.operation) for c in changes] == [
        ("Customer", "64", "Update")
    ]


def test_bad_inputs_get_clear_errors(sandbox, company) -> None:
    with pytest.raises(ValueError, match="realm id"):
        sandbox.add_company({"CompanyName": "X"}, realm_id="not-digits")
    with pytest.raises(ValueError, match="need an Id"):
        sandbox.load(company, {"Invoice": [{"DocNumber": "1"}]})
    with pytest.raises(ValueError, match="no invoice"):
        sandbox.pay_invoice(company, "99999", "1.00")
    with pytest.raises(ValueError, match="cloudevents or legacy"):
        QuickBooksSandbox(webhook_format="xml")


def test_help_documents_every_option_default() -> None:
    result = CliRunner().invoke(quickbooks, ["--help"])

    assert result.exit_code == 0
    for option in (
        "--port",
        "--seed",
        "--invoices",
        "--today",
        "--load",
        "--client-id",
        "--client-secret",
        "--redirect-uri",
        "--webhook-url",
        "--verifier-token",
        "--rate-limits",
    ):
        assert option in result.output
    assert result.output.lower().count("default") == 12  # one per option


def test_load_file_in_qbo_json_builds_the_company(tmp_path, clock) -> None:
    case = {
        "realm_id": "9130354426181920",
        "CompanyInfo": {
            "CompanyName": "Support Case Ltd",
            "DefaultTimeZone": "Pacific/Auckland",
        },
        "Customer": [{"Id": "7", "DisplayName": "Tuatara Tiling"}],
        "Invoice": [
            {
                "Id": "70",
                "CustomerRef": {"value": "7"},
                "TotalAmt": 1500.0,
                "Balance": 1500.0,
                "DueDate": "2025-03-01",
            }
        ],
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))

    sandbox = _from_file(path, {"clock": clock, "rate_limits": False})

    realm = sandbox.realm("9130354426181920")
    assert realm.timezone == "Pacific/Auckland"
    assert sandbox.get(realm.realm_id, "Invoice", "70")["Balance"] == Decimal("1500.0")
    assert sandbox.faults.rate_limits is False


def test_browser_flow_realm_can_be_chosen(sandbox, company, server) -> None:
    other = sandbox.add_company({"CompanyName": "Second"})
    sandbox.consent_realm_id = other
    auth = AuthClient(
        sandbox.client_id,
        sandbox.client_secret,
        REDIRECT,
        environment=server.url + "/.well-known/openid_configuration",
    )

    with pytest.raises(AuthClientError):
        auth.get_bearer_token("AB11-never-issued")

    import requests
    from intuitlib.enums import Scopes

    location = requests.get(
        auth.get_authorization_url([Scopes.ACCOUNTING]),
        allow_redirects=False,
        timeout=5,
    ).headers["Location"]
    assert f"realmId={other}" in location


def test_cli_serves_a_generated_company_the_sdk_can_read(tmp_path) -> None:
    import os
    import socket
    import subprocess
    import sys

    from quickbooks import QuickBooks
    from quickbooks.cdc import change_data_capture
    from quickbooks.objects.invoice import Invoice

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "CARE_CLOCK"}
    env["CARE_DATA_DIR"] = str(tmp_path)
    command = [sys.executable, "-c", "from app.cli import main; main()", "sandbox"]
    command += ["quickbooks", "--port", str(port), "--invoices", "60"]
    command += ["--today", "2025-05-01", "--rate-limits", "off"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)
    try:
        first = json.loads(process.stdout.readline())  # type: ignore[union-attr]
        auth = AuthClient(
            "care-sandbox-qbo",
            "TESTONLY-qbo-client-secret",
            REDIRECT,
            environment=first["discovery"],
        )
        qb = QuickBooks(
            auth_client=auth,
            refresh_token=first["refresh_token"],
            company_id=first["realm_id"],
            minorversion=75,
        )
        qb.api_url_v3 = first["api_base"]

        count = Invoice.count(qb=qb)
        feed = change_data_capture([Invoice], "2025-04-20T00:00:00", qb=qb)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert first["api_base"] == f"http://127.0.0.1:{port}/v3"
    assert 50 <= count <= 60  # deleted invoices are not counted
    assert len(feed.Invoice) > 0  # the sandbox's clock starts at --today


def test_saved_api_answers_load_as_a_support_case(tmp_path, clock) -> None:
    saved = {
        "realm_id": "9130354426181920",
        "responses": [
            {
                "QueryResponse": {
                    "CompanyInfo": [{"Id": "1", "CompanyName": "Case 4411 Ltd"}]
                },
                "time": "2025-05-01T05:00:00.000-07:00",
            },
            {
                "QueryResponse": {
                    "Customer": [
                        {"Id": "64", "DisplayName": "Delgado-Whitfield Events"}
                    ],
                    "startPosition": 1,
                    "maxResults": 1,
                }
            },
            {
                "Invoice": {
                    "Id": "1780",
                    "CustomerRef": {"value": "64"},
                    "TotalAmt": 100.0,
                    "Balance": 100.0,
                    "DueDate": "2025-03-02",
                },
                "time": "2025-05-01T05:00:00.000-07:00",
            },
            {
                "CDCResponse": [
                    {
                        "QueryResponse": [
                            {"Invoice": [{"Id": "1779", "status": "Deleted"}]},
                            {},
                        ]
                    }
                ]
            },
        ],
    }
    path = tmp_path / "case-4411.json"
    path.write_text(json.dumps(saved))

    sandbox = _from_file(path, {"clock": clock})

    realm = sandbox.realm("9130354426181920")
    assert realm.company_info["CompanyName"] == "Case 4411 Ltd"
    assert sandbox.get(realm.realm_id, "Invoice", "1780")["Balance"] == Decimal("100.0")
    assert sandbox.get(realm.realm_id, "Customer", "64") is not None
    assert realm.tombstones["Invoice"]["1779"]["status"] == "Deleted"


def test_a_file_that_is_not_qbo_json_is_a_clear_error(tmp_path) -> None:
    import click

    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"Invoice": "not objects"}))

    with pytest.raises(click.BadParameter, match="not QBO objects"):
        _from_file(path, {})


def test_loading_company_info_moves_the_company_clock_zone(sandbox, company) -> None:
    sandbox.load(
        company,
        {
            "CompanyInfo": [
                {
                    "CompanyName": "Harbour Joinery",
                    "DefaultTimeZone": "Pacific/Auckland",
                }
            ]
        },
        notify=False,
    )

    assert sandbox.realm(company).time() == "2025-05-02T00:00:00.000+12:00"
