"""Scenario files: each bad field named by its path; good ones load with their facts."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app.cli import main
from app.replay.scenario import ScenarioError, load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

GOOD: dict[str, Any] = {
    "ledger": "quickbooks",
    "today": "2025-05-01",
    "company": {"CompanyName": "Acme Ltd", "DefaultTimeZone": "America/Los_Angeles"},
    "data": {
        "Customer": [{"Id": "71", "DisplayName": "Ashgrove Clinic"}],
        "Invoice": [
            {
                "Id": "1501",
                "TotalAmt": 1200.0,
                "Balance": 450.0,
                "DueDate": "2025-03-17",
                "CustomerRef": {"value": "71"},
            }
        ],
    },
    "rules": {},
    "then": [{"days": 3}, {"data": {"Invoice": [{"Id": "1501", "status": "Deleted"}]}}],
}


def errors_of(change: dict[str, Any] | None = None, **top: Any) -> dict[str, str]:
    raw = copy.deepcopy(GOOD)
    raw.update(top)
    for path, value in (change or {}).items():
        raw[path] = value
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(raw)
    return caught.value.errors


def test_good_scenario_loads_with_zone_and_home_currency() -> None:
    scenario = parse_scenario(copy.deepcopy(GOOD), name="x")
    assert scenario.today == date(2025, 5, 1)
    assert scenario.timezone == "America/Los_Angeles"
    assert scenario.home_currency == "USD"  # no Preferences, no CurrencyRef: USD
    assert [s.days for s in scenario.then] == [3, 0]
    assert scenario.then[1].data["Invoice"][0]["status"] == "Deleted"
    assert scenario.then[1].webhooks is True


def test_without_company_the_zone_is_utc_and_home_is_the_invoices_currency() -> None:
    raw = copy.deepcopy(GOOD)
    del raw["company"]
    raw["data"]["Invoice"][0]["CurrencyRef"] = {"value": "CAD"}
    scenario = parse_scenario(raw)
    assert (scenario.timezone, scenario.home_currency) == ("UTC", "CAD")


def test_quickbooks_preferences_name_the_home_currency() -> None:
    raw = copy.deepcopy(GOOD)
    raw["data"]["Preferences"] = {"CurrencyPrefs": {"HomeCurrency": {"value": "GBP"}}}
    raw["data"]["Invoice"][0]["CurrencyRef"] = {"value": "EUR"}
    assert parse_scenario(raw).home_currency == "GBP"


def test_xero_windows_zone_names_map_to_iana() -> None:
    scenario = parse_scenario(
        {
            "ledger": "xero",
            "today": "2025-05-01",
            "company": {
                "Name": "Kauri Ltd",
                "BaseCurrency": "NZD",
                "Timezone": "NEWZEALANDSTANDARDTIME",
            },
            "data": {"Contacts": [{"ContactID": "c-1", "Name": "Tui"}]},
        }
    )
    assert (scenario.timezone, scenario.home_currency) == ("Pacific/Auckland", "NZD")
    assert scenario.rules == {} and scenario.then == ()


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (0, "must be a positive integer, got 0"),
        (-2, "must be a positive integer, got -2"),
        ("3", "must be a positive integer, got '3'"),
        (True, "must be a positive integer, got True"),
        (1.5, "must be a positive integer, got 1.5"),
        (401, "must be at most 400, got 401"),
    ],
)
def test_a_bad_days_step_is_named_by_its_index(days: Any, message: str) -> None:
    errors = errors_of(then=[{"days": 1}, {"days": 2}, {"days": days}])
    assert errors == {"then[2].days": message}


def test_a_step_needs_exactly_one_of_days_or_data() -> None:
    errors = errors_of(then=[{"days": 1, "data": {}}, {}, "tomorrow"])
    assert errors == {
        "then[0]": 'must have exactly one of "days" or "data"',
        "then[1]": 'must have exactly one of "days" or "data"',
        "then[2]": 'must be an object: {"days": N} or {"data": {...}}',
    }


def test_webhooks_flag_only_on_data_steps_and_only_boolean() -> None:
    errors = errors_of(
        then=[
            {"days": 1, "webhooks": False},
            {"data": {"Invoice": [{"Id": "1", "status": "Deleted"}]}, "webhooks": "no"},
        ]
    )
    assert errors == {
        "then[0].webhooks": "only a data step has webhooks",
        "then[1].webhooks": "must be true or false, got 'no'",
    }


def test_empty_data_step_and_preferences_mid_run_are_refused() -> None:
    errors = errors_of(
        then=[
            {"data": {}},
            {"data": {"Preferences": [{"CurrencyPrefs": {}}]}},
        ]
    )
    assert errors["then[0].data"] == "must hold at least one object"
    assert errors["then[1].data.Preferences"] == "company settings load once, at start"


def test_objects_without_ids_or_customer_are_named() -> None:
    errors = errors_of(
        data={
            "Customer": [{"DisplayName": "No Id"}],
            "Invoice": [
                {"Id": "9", "Balance": "lots", "CustomerRef": {"value": "71"}},
                {"Id": "10", "Balance": 5},
            ],
            "Invoices": [],
        }
    )
    assert errors == {
        "data.Customer[0].Id": "required",
        "data.Invoice[0].Balance": "must be a number, got 'lots'",
        "data.Invoice[1].CustomerRef": "required: {'value': customer Id}",
        "data.Invoices": (
            "not a quickbooks collection; use CreditMemo, Customer, ExchangeRate, "
            "Invoice, Payment, Preferences"
        ),
    }


def test_xero_invoice_needs_its_contact_id() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(
            {
                "ledger": "xero",
                "today": "2025-05-01",
                "data": {"Invoices": [{"InvoiceID": "i-1", "Contact": {"Name": "T"}}]},
                "then": [{"data": {"Payments": [{"Amount": 3}]}}],
            }
        )
    assert caught.value.errors == {
        "data.Invoices[0].Contact.ContactID": "required",
        "then[0].data.Payments[0].PaymentID": "required",
    }


def test_rules_errors_carry_the_rules_prefix() -> None:
    errors = errors_of(rules={"fee_rate": 0.025, "window_start_days": 0, "colour": 1})
    assert errors == {
        "rules.fee_rate": "must be a decimal string such as '0.01', got 0.025",
        "rules.window_start_days": "must be between 1 and 3650, got 0",
        "rules.colour": "unknown field",
    }


def test_company_zone_and_currency_are_checked() -> None:
    assert errors_of(company={"DefaultTimeZone": "Pacific/Atlantis"}) == {
        "company.DefaultTimeZone": "not an IANA time zone: 'Pacific/Atlantis'"
    }
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(
            {
                "ledger": "xero",
                "today": "2025-05-01",
                "company": {"Name": "K", "BaseCurrency": "KIWI", "Timezone": "MARS"},
            }
        )
    assert caught.value.errors == {
        "company.Timezone": (
            "not a Xero time zone (a Windows id such as NEWZEALANDSTANDARDTIME): 'MARS'"
        ),
        "company.BaseCurrency": "not an ISO 4217 currency code: 'KIWI'",
    }


def test_top_level_fields_ledger_and_today() -> None:
    assert errors_of(today="2025-02-30", extra=1) == {
        "extra": "unknown field",
        "today": "must be a date YYYY-MM-DD, got '2025-02-30'",
    }
    assert errors_of(ledger="sage") == {
        "ledger": "must be one of quickbooks, xero, got 'sage'"
    }
    with pytest.raises(ScenarioError) as caught:
        parse_scenario([GOOD])
    assert caught.value.errors == {"": "a scenario is a JSON object"}


def test_a_file_that_is_not_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"ledger": "xero",\n "today": 2025-05-01}\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.errors == {
        "file": "not JSON: Expecting ',' delimiter at line 2 column 15"
    }
    with pytest.raises(ScenarioError) as missing:
        load_scenario(tmp_path / "absent.json")
    assert list(missing.value.errors) == ["file"]
    assert "No such file or directory" in missing.value.errors["file"]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_scenario_is_valid(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name.startswith(path.stem.split("-")[0])  # C29-xero: "C29 ..."


def test_care_replay_exits_2_naming_the_bad_field(tmp_path: Path) -> None:
    raw = copy.deepcopy(GOOD)
    raw["then"] = [{"days": 1}, {"days": 1}, {"days": 0}]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    result = CliRunner().invoke(
        main, ["replay", str(path), "--data", str(tmp_path / "d")]
    )
    assert result.exit_code == 2
    assert "then[2].days: must be a positive integer, got 0" in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "d").exists()  # nothing was started
