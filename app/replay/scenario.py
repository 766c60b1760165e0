"""A replay scenario: a company, its books in the ledger's own JSON, rules and steps.

    {"ledger": "quickbooks" | "xero",
     "today": "2025-05-01",                 # the company's local date of the sweep
     "company": {...},                      # CompanyInfo, or a Xero Organisation
     "data": {"Invoice": [...], ...},       # lists in the ledger's own names
     "rules": {...},                        # the creditor's rules (app.rules)
     "then": [{"days": 3}, {"data": {...}}, {"data": {...}, "webhooks": false}]}

`parse_scenario` checks all of it and names every bad field by its path
(`then[2].days: must be a positive integer`), so a support engineer fixes the file
instead of reading a traceback from deep inside a sync. `"webhooks": false` on a data
step stores the change without the ledger's webhook: a delivery that never arrives.
"""

# TODO: steps can only change the books or let days pass. What the program does on
# its own initiative (a representative recording a payment that CARE then writes to
# the ledger, C18 and C33's write-back halves), a webhook that arrives hours late
# rather than never, and a scheduler outage (C27 b) have no step yet, so those parts
# of the public cases are covered by the job and connector tests, not by a replay.

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import list_currencies

from app.rules import RulesError, parse_rules
from connectors.timezones import UnknownTimezoneError, iana_from_xero

logger = logging.getLogger(__name__)

LEDGERS = ("quickbooks", "xero")
# The collections each ledger's `data` may hold, with the key naming each object.
ID_KEYS: dict[str, dict[str, str]] = {
    "quickbooks": {
        "Customer": "Id",
        "Invoice": "Id",
        "Payment": "Id",
        "CreditMemo": "Id",
        "Preferences": "",  # one object per company, no id of its own
        "ExchangeRate": "",  # rate-table rows (SourceCurrencyCode, Rate, AsOfDate)
    },
    "xero": {
        "Contacts": "ContactID",
        "Invoices": "InvoiceID",
        "Payments": "PaymentID",
        "CreditNotes": "CreditNoteID",
        "Overpayments": "OverpaymentID",
        "Prepayments": "PrepaymentID",
    },
}
TOP_LEVEL = {"ledger", "today", "company", "data", "rules", "then", "name", "notes"}
MAX_DAYS = 400  # one step; a longer run is a mistake, and each day costs seconds
_CURRENCIES = frozenset(list_currencies())


class ScenarioError(ValueError):
    """A scenario that does not validate; `errors` maps each bad field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        listed = "; ".join(
            f"{path}: {message}" for path, message in self.errors.items()
        )
        super().__init__(f"bad scenario: {listed}")


@dataclass(frozen=True)
class Step:
    """One `then` step: days to run, or ledger objects to store."""

    days: int = 0
    data: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    webhooks: bool = True  # False: the change happens but its webhook never comes

    @property
    def label(self) -> str:
        if self.days:
            return f"{self.days} day{'s' if self.days != 1 else ''}"
        counts = ", ".join(f"{len(v)} {k}" for k, v in self.data.items())
        return f"data ({counts})" + ("" if self.webhooks else " without webhooks")


@dataclass(frozen=True)
class Scenario:
    """A validated scenario; `timezone` and `home_currency` are worked out from it."""

    ledger: str
    today: date
    company: dict[str, Any]
    data: dict[str, list[dict[str, Any]]]
    rules: dict[str, Any]
    then: tuple[Step, ...]
    timezone: str
    home_currency: str
    name: str = ""


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; a ScenarioError names what is wrong."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError({"file": f"cannot read {source}: {exc.strerror}"}) from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            {"file": f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"}
        ) from exc
    return parse_scenario(raw, name=source.stem)


def parse_scenario(raw: Any, name: str = "") -> Scenario:
    """Validate a scenario's JSON (already parsed) and return it as a Scenario."""
    errors: dict[str, str] = {}
    if not isinstance(raw, Mapping):
        raise ScenarioError({"": "a scenario is a JSON object"})
    for key in sorted(set(raw) - TOP_LEVEL):
        errors[key] = "unknown field"

    ledger = raw.get("ledger")
    if ledger not in LEDGERS:
        errors["ledger"] = f"must be one of {', '.join(LEDGERS)}, got {ledger!r}"
        raise ScenarioError(errors)  # nothing else can be checked without it

    today = _date(raw.get("today"), "today", errors)
    company = raw.get("company", {})
    if not isinstance(company, Mapping):
        errors["company"] = "must be an object (CompanyInfo or Organisation)"
        company = {}
    data = _data(raw.get("data", {}), "data", ledger, errors)
    rules = raw.get("rules", {})
    if not isinstance(rules, Mapping):
        errors["rules"] = "must be an object"
        rules = {}
    else:
        try:
            parse_rules(rules)
        except RulesError as exc:
            for path, message in exc.errors.items():
                errors[f"rules.{path}" if path else "rules"] = message
    then = _steps(raw.get("then", []), ledger, errors)
    timezone = _timezone(ledger, company, errors)
    home = _home_currency(ledger, company, data, then, errors)
    if raw.get("name") is not None and not isinstance(raw.get("name"), str):
        errors["name"] = "must be a string"
    if errors:
        raise ScenarioError(errors)
    assert today is not None
    return Scenario(
        ledger=ledger,
        today=today,
        company=dict(company),
        data=data,
        rules=dict(rules),
        then=then,
        timezone=timezone,
        home_currency=home,
        name=str(raw.get("name") or name),
    )


def _date(value: Any, path: str, errors: dict[str, str]) -> date | None:
    if not isinstance(value, str):
        errors[path] = f"must be a date YYYY-MM-DD, got {value!r}"
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[path] = f"must be a date YYYY-MM-DD, got {value!r}"
        return None


def _data(
    value: Any, path: str, ledger: str, errors: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    allowed = ID_KEYS[ledger]
    if not isinstance(value, Mapping):
        errors[path] = "must map collection names to lists of objects"
        return {}
    parsed: dict[str, list[dict[str, Any]]] = {}
    for collection, items in value.items():
        where = f"{path}.{collection}"
        if collection not in allowed:
            errors[where] = (
                f"not a {ledger} collection; use {', '.join(sorted(allowed))}"
            )
            continue
        if collection == "Preferences" and isinstance(items, Mapping):
            items = [items]  # one object per company: a bare object is fine too
        if not isinstance(items, list):
            errors[where] = "must be a list of objects"
            continue
        id_key = allowed[collection]
        good = []
        for index, item in enumerate(items):
            at = f"{where}[{index}]"
            if not isinstance(item, Mapping):
                errors[at] = "must be an object"
                continue
            if id_key and not str(item.get(id_key) or "").strip():
                errors[f"{at}.{id_key}"] = "required"
                continue
            _check_object(ledger, collection, item, at, errors)
            good.append(dict(item))
        parsed[collection] = good
    return parsed


def _check_object(
    ledger: str, collection: str, item: Mapping[str, Any], at: str, errors: dict
) -> None:
    """The few fields a sync cannot do without, checked here with their path."""
    deleted = item.get("status") == "Deleted" or item.get("Status") == "DELETED"
    if deleted:
        return
    if ledger == "quickbooks" and collection in ("Invoice", "Payment", "CreditMemo"):
        customer = item.get("CustomerRef")
        if not isinstance(customer, Mapping) or not str(customer.get("value") or ""):
            errors[f"{at}.CustomerRef"] = "required: {'value': customer Id}"
    if ledger == "quickbooks" and collection == "ExchangeRate":
        for key in ("SourceCurrencyCode", "Rate"):
            if key not in item:
                errors[f"{at}.{key}"] = "required"
    if ledger == "quickbooks" and collection == "Invoice":
        for key in ("TotalAmt", "Balance"):
            if key in item and not _number(item[key]):
                errors[f"{at}.{key}"] = f"must be a number, got {item[key]!r}"
    if ledger == "xero" and collection in ("Invoices", "CreditNotes"):
        contact = item.get("Contact")
        if not isinstance(contact, Mapping) or not str(contact.get("ContactID") or ""):
            errors[f"{at}.Contact.ContactID"] = "required"
    if ledger == "xero" and collection == "Invoices":
        for key in ("Total", "AmountDue", "AmountPaid", "AmountCredited"):
            if key in item and not _number(item[key]):
                errors[f"{at}.{key}"] = f"must be a number, got {item[key]!r}"


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _steps(value: Any, ledger: str, errors: dict[str, str]) -> tuple[Step, ...]:
    if not isinstance(value, list):
        errors["then"] = "must be a list of steps"
        return ()
    steps = []
    for index, raw in enumerate(value):
        where = f"then[{index}]"
        if not isinstance(raw, Mapping):
            errors[where] = 'must be an object: {"days": N} or {"data": {...}}'
            continue
        unknown = set(raw) - {"days", "data", "webhooks"}
        for key in sorted(unknown):
            errors[f"{where}.{key}"] = "unknown field"
        if ("days" in raw) == ("data" in raw):
            errors[where] = 'must have exactly one of "days" or "data"'
            continue
        if "days" in raw:
            days = raw["days"]
            if isinstance(days, bool) or not isinstance(days, int) or days < 1:
                errors[f"{where}.days"] = f"must be a positive integer, got {days!r}"
            elif days > MAX_DAYS:
                errors[f"{where}.days"] = f"must be at most {MAX_DAYS}, got {days}"
            elif "webhooks" in raw:
                errors[f"{where}.webhooks"] = "only a data step has webhooks"
            else:
                steps.append(Step(days=days))
            continue
        webhooks = raw.get("webhooks", True)
        if not isinstance(webhooks, bool):
            errors[f"{where}.webhooks"] = f"must be true or false, got {webhooks!r}"
        data = _data(raw["data"], f"{where}.data", ledger, errors)
        named = any(key.startswith(f"{where}.data") for key in errors)
        if not any(data.values()) and not named:
            errors[f"{where}.data"] = "must hold at least one object"
        if "Preferences" in data:
            errors[f"{where}.data.Preferences"] = "company settings load once, at start"
        steps.append(Step(data=data, webhooks=bool(webhooks)))
    return tuple(steps)


def _timezone(ledger: str, company: Mapping[str, Any], errors: dict[str, str]) -> str:
    """The company's IANA zone; UTC when the scenario gives none."""
    if ledger == "quickbooks":
        zone = company.get("DefaultTimeZone")
        if zone is None:
            return "UTC"
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            errors["company.DefaultTimeZone"] = f"not an IANA time zone: {zone!r}"
            return "UTC"
        return str(zone)
    name = company.get("Timezone")
    if name is None:
        return "UTC"
    try:
        return iana_from_xero(str(name))
    except UnknownTimezoneError:
        errors["company.Timezone"] = (
            "not a Xero time zone (a Windows id such as NEWZEALANDSTANDARDTIME): "
            f"{name!r}"
        )
        return "UTC"


def _home_currency(
    ledger: str,
    company: Mapping[str, Any],
    data: Mapping[str, list[dict[str, Any]]],
    then: tuple[Step, ...],
    errors: dict[str, str],
) -> str:
    """The company's home currency: its settings, else its invoices' currency."""
    if ledger == "quickbooks":
        prefs = (data.get("Preferences") or [{}])[0]
        home = ((prefs.get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get(
            "value"
        )
        where = "data.Preferences[0].CurrencyPrefs.HomeCurrency.value"
        invoices = [i for i in data.get("Invoice", [])] + [
            i for s in then for i in s.data.get("Invoice", [])
        ]
        found = [(i.get("CurrencyRef") or {}).get("value") for i in invoices]
    else:
        home = company.get("BaseCurrency")
        where = "company.BaseCurrency"
        invoices = [i for i in data.get("Invoices", [])] + [
            i for s in then for i in s.data.get("Invoices", [])
        ]
        found = [i.get("CurrencyCode") for i in invoices]
    if home is None:
        # Without company settings, the invoices' currency is the home one.
        home = next((c for c in found if c), "USD")
        where = "data: invoice currency"
    if not isinstance(home, str) or home.upper() not in _CURRENCIES:
        errors[where] = f"not an ISO 4217 currency code: {home!r}"
        return "USD"
    return home.upper()
