"""`care sandbox xero`: its options and defaults, and loading a file of Xero JSON."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from connectors.sandbox.xero import XeroSandbox
from connectors.sandbox.xero.cli import load_xero_json, xero
from tests.sandbox.xero.conftest import ORG_ID, data_json


def test_help_documents_every_option_default() -> None:
    result = CliRunner().invoke(xero, ["--help"], terminal_width=200)

    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for option, default in [
        ("--port", "8102"),
        ("--seed", "0"),
        ("--invoices", "200"),
        ("--today", "today, by the clock"),
        ("--load", "none"),
        ("--client-id", "care-sandbox-xero"),
        ("--client-secret", "care-sandbox-xero-secret"),
        ("--redirect-uri", "http://127.0.0.1:5000/connect/xero/callback"),
        ("--webhook-url", "none (off)"),
        ("--webhook-key", "care-sandbox-xero-webhook-key"),
        ("--rate-limits", "on"),
        ("--refresh-grace", "off"),
    ]:
        assert option in text
        assert f"default: {default}" in text, option


def test_a_support_case_file_loads_as_the_api_returns_it(make_sandbox: Any) -> None:
    sandbox: XeroSandbox = make_sandbox()
    organisation = data_json("organisation_get_demo_company_nz.json")
    invoices = data_json("invoices_get_page1_demo_company_nz.json")

    tenants = load_xero_json(
        sandbox, {**organisation, "Invoices": invoices["Invoices"]}
    )

    assert tenants == [ORG_ID]
    assert len(sandbox.objects(ORG_ID, "Invoices")) == 79
    assert sandbox.tenants[ORG_ID].name == "Demo Company (NZ)"


def test_the_group_command_is_registered() -> None:
    from connectors.sandbox.cli import sandbox

    assert "xero" in sandbox.commands
