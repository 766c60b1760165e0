"""QuickBooks Online v3 JSON (minorversion 75) turned into ledger-neutral records.

Field names are Finance.xsd's. Amounts arrive as Decimals (the client parses with
use_decimal) or strings and leave rounded to their currency's minor unit; dates are
the company's local dates as QBO prints them; instants are converted to UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.core import get_global

from app.money import quantize
from connectors.records import (
    Address,
    Application,
    Company,
    Credit,
    Customer,
    Deletion,
    Invoice,
    InvoiceStatus,
    Ledger,
    Payment,
)

# CDC and query entity names -> the neutral `Deletion.entity`.
ENTITY_KIND = {
    "Invoice": "invoice",
    "Customer": "customer",
    "Payment": "payment",
    "CreditMemo": "credit",
}
_TZ_NAMES = ("CompanyTimeZone", "TimeZone", "TimeZoneId")


class MappingError(ValueError):
    """A QBO object lacks something a record cannot do without."""


def amount(value: Any, currency: str) -> Decimal:
    """A QBO amount as a Decimal rounded to `currency`'s minor unit."""
    if value is None or value == "":
        return quantize(Decimal(0), currency)
    if isinstance(value, float):
        # NOTE: only reachable if a client parsed without use_decimal; repr keeps
        # the digits QBO sent (0.1 stays 0.1) instead of the binary expansion.
        value = repr(value)
    try:
        return quantize(Decimal(str(value)), currency)
    except InvalidOperation as exc:
        raise MappingError(f"not an amount: {value!r}") from exc


def local_date(value: Any) -> date | None:
    """A `YYYY-MM-DD` date as QBO prints it (the company's calendar)."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise MappingError(f"not a date: {value!r}") from exc


def instant(value: Any) -> datetime | None:
    """A QBO timestamp (local offset, e.g. -07:00) as an aware UTC datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise MappingError(f"not a timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        raise MappingError(f"timestamp without an offset: {value!r}")
    return parsed.astimezone(UTC)


def ref(obj: dict[str, Any], key: str) -> str | None:
    value = (obj.get(key) or {}).get("value")
    return str(value) if value not in (None, "") else None


def invoice_url(web_base: str, ledger_id: str) -> str:
    """The invoice's own screen in QuickBooks Online."""
    return f"{web_base.rstrip('/')}/app/invoice?txnId={ledger_id}"


def company(
    realm_id: str,
    info: dict[str, Any],
    preferences: dict[str, Any],
    timezone: str | None = None,
) -> Company:
    """The Company from CompanyInfo and Preferences."""
    currency_prefs = preferences.get("CurrencyPrefs") or {}
    home = ref(currency_prefs, "HomeCurrency") or "USD"
    country = _country(info.get("Country"))
    return Company(
        ledger=Ledger.QUICKBOOKS,
        id=realm_id,
        name=str(info.get("CompanyName") or info.get("LegalName") or realm_id),
        home_currency=home,
        timezone=timezone or company_timezone(info, country),
        country=country,
        multi_currency=bool(currency_prefs.get("MultiCurrencyEnabled")),
    )


def company_timezone(info: dict[str, Any], country: str | None) -> str:
    """The company's IANA zone: DefaultTimeZone if QBO gives one, else a guess."""
    # NOTE: Finance.xsd's CompanyInfo has DefaultTimeZone; Intuit does not say in what
    # form, so only a value that names an IANA zone is taken.
    if _valid_zone(info.get("DefaultTimeZone")):
        return str(info["DefaultTimeZone"])
    for pair in info.get("NameValue") or []:
        if pair.get("Name") in _TZ_NAMES and _valid_zone(pair.get("Value")):
            return str(pair["Value"])
    # TODO: without DefaultTimeZone the country's first zone is a guess
    # that is wrong for US companies outside the Eastern zone (a day of "days late"
    # around midnight). The connect flow should ask the creditor and pass `timezone`.
    zones = get_global("territory_zones").get(country or "", [])
    preferred = {
        "US": "America/New_York",
        "CA": "America/Toronto",
        "AU": "Australia/Sydney",
    }
    return preferred.get(country or "", zones[0] if zones else "UTC")


def customer(obj: dict[str, Any]) -> Customer:
    """A Customer record; e-mails split on commas and trimmed (C29)."""
    meta = obj.get("MetaData") or {}
    names = [obj.get("GivenName"), obj.get("FamilyName")]
    contact = " ".join(str(n).strip() for n in names if n and str(n).strip()) or None
    currency = ref(obj, "CurrencyRef")
    return Customer(
        ledger_id=str(obj["Id"]),
        name=str(obj.get("DisplayName") or obj.get("CompanyName") or obj["Id"]),
        contact_name=contact,
        emails=clean_emails((obj.get("PrimaryEmailAddr") or {}).get("Address")),
        phones=_phones(obj),
        address=_address(obj.get("BillAddr")),
        currency=currency,
        balance=amount(obj.get("Balance"), currency or "USD")
        if "Balance" in obj
        else None,
        active=bool(obj.get("Active", True)),
        created=instant(meta.get("CreateTime")),
        last_modified=instant(meta.get("LastUpdatedTime")),
    )


def clean_emails(raw: Any) -> tuple[str, ...]:
    """Addresses from one QBO e-mail field: split on , or ;, trimmed, no blanks."""
    if not raw:
        return ()
    seen: list[str] = []
    for part in re.split(r"[,;]", str(raw)):
        address = part.strip()
        if address and address.lower() not in (s.lower() for s in seen):
            seen.append(address)
    return tuple(seen)


def invoice(obj: dict[str, Any], home_currency: str, web_base: str) -> Invoice:
    """An Invoice record: status, amount due (Balance) and its home-currency value."""
    currency = ref(obj, "CurrencyRef") or home_currency
    total = amount(obj.get("TotalAmt"), currency)
    balance = amount(obj.get("Balance"), currency)
    rate = _rate(obj, currency, home_currency)
    meta = obj.get("MetaData") or {}
    customer_id = ref(obj, "CustomerRef")
    if customer_id is None:
        raise MappingError(f"invoice {obj.get('Id')} has no CustomerRef")
    return Invoice(
        ledger_id=str(obj["Id"]),
        number=obj.get("DocNumber") or None,
        customer_id=customer_id,
        issue_date=local_date(obj.get("TxnDate")),
        due_date=local_date(obj.get("DueDate")),
        currency=currency,
        total=total,
        amount_due=balance,
        home_amount_due=_home_balance(obj, balance, rate, home_currency),
        exchange_rate=rate,
        status=invoice_status(obj, balance),
        last_modified=instant(meta.get("LastUpdatedTime")),
        url=invoice_url(web_base, str(obj["Id"])),
        version=str(obj.get("SyncToken")) if obj.get("SyncToken") is not None else None,
        # TODO: paid_on needs the date of the last linked Payment, which the invoice
        # JSON does not carry; reading it costs one call per paid invoice, so the
        # caller derives it from the synced payments' applications instead.
        paid_on=None,
    )


def deleted_invoice(ledger_id: str, home_currency: str) -> Invoice:
    """What is left of an invoice QBO no longer has: its Id, nothing owed."""
    zero = quantize(Decimal(0), home_currency)
    return Invoice(
        ledger_id=ledger_id,
        number=None,
        customer_id="",
        issue_date=None,
        due_date=None,
        currency=home_currency,
        total=zero,
        amount_due=zero,
        home_amount_due=zero,
        exchange_rate=None,
        status=InvoiceStatus.DELETED,
    )


def invoice_status(obj: dict[str, Any], balance: Decimal) -> InvoiceStatus:
    """open / paid / voided / deleted, as QBO shows each."""
    if obj.get("status") == "Deleted":
        return InvoiceStatus.DELETED
    if balance > 0:
        return InvoiceStatus.OPEN
    # NOTE: QBO keeps a voided invoice with every amount zeroed and "Voided" put in
    # front of its PrivateNote (Intuit blog "Voiding invoice objects").
    note = str(obj.get("PrivateNote") or "")
    zero_total = Decimal(str(obj.get("TotalAmt") or 0)) == 0
    if zero_total and note.startswith("Voided"):
        return InvoiceStatus.VOIDED
    return InvoiceStatus.PAID


def payment(obj: dict[str, Any], home_currency: str) -> Payment:
    """A Payment record: what it applied to invoices and what it left unapplied."""
    currency = ref(obj, "CurrencyRef") or home_currency
    meta = obj.get("MetaData") or {}
    paid_on = local_date(obj.get("TxnDate"))
    if paid_on is None:
        raise MappingError(f"payment {obj.get('Id')} has no TxnDate")
    return Payment(
        ledger_id=str(obj["Id"]),
        customer_id=ref(obj, "CustomerRef") or "",
        date=paid_on,
        currency=currency,
        amount=amount(obj.get("TotalAmt"), currency),
        unapplied=amount(obj.get("UnappliedAmt"), currency),
        applied=_applications(obj, currency, "Invoice"),
        last_modified=instant(meta.get("LastUpdatedTime")),
    )


def credit(obj: dict[str, Any], home_currency: str) -> Credit:
    """A CreditMemo as a Credit; `remaining` is what is not yet applied."""
    currency = ref(obj, "CurrencyRef") or home_currency
    meta = obj.get("MetaData") or {}
    issued = local_date(obj.get("TxnDate"))
    if issued is None:
        raise MappingError(f"credit memo {obj.get('Id')} has no TxnDate")
    remaining = obj.get("RemainingCredit", obj.get("Balance"))
    return Credit(
        ledger_id=str(obj["Id"]),
        customer_id=ref(obj, "CustomerRef") or "",
        date=issued,
        currency=currency,
        total=amount(obj.get("TotalAmt"), currency),
        remaining=amount(remaining, currency),
        number=obj.get("DocNumber") or None,
        last_modified=instant(meta.get("LastUpdatedTime")),
    )


def deletion(entity: str, obj: dict[str, Any]) -> Deletion:
    """A CDC tombstone (`status: Deleted`, only Id and MetaData) as a Deletion."""
    return Deletion(entity=ENTITY_KIND[entity], ledger_id=str(obj["Id"]))


def credit_applications(obj: dict[str, Any], currency: str) -> tuple[Application, ...]:
    """Credit memos a Payment applies (lines linked to a CreditMemo)."""
    return _applications(obj, currency, "CreditMemo")


def _applications(
    obj: dict[str, Any], currency: str, txn_type: str
) -> tuple[Application, ...]:
    applied = []
    for line in obj.get("Line") or []:
        for link in line.get("LinkedTxn") or []:
            if link.get("TxnType") == txn_type and link.get("TxnId"):
                applied.append(
                    Application(
                        str(link["TxnId"]), amount(line.get("Amount"), currency)
                    )
                )
    return tuple(applied)


def _rate(obj: dict[str, Any], currency: str, home_currency: str) -> Decimal | None:
    if currency == home_currency:
        return Decimal(1)
    raw = obj.get("ExchangeRate")
    if raw in (None, ""):
        return None
    try:
        rate = Decimal(str(raw) if not isinstance(raw, float) else repr(raw))
    except InvalidOperation as exc:
        raise MappingError(f"not an exchange rate: {raw!r}") from exc
    return rate if rate > 0 else None


def _home_balance(
    obj: dict[str, Any], balance: Decimal, rate: Decimal | None, home: str
) -> Decimal | None:
    if obj.get("HomeBalance") not in (None, ""):
        return amount(obj["HomeBalance"], home)
    if rate is None:
        return None
    return quantize(balance * rate, home)


def _phones(obj: dict[str, Any]) -> tuple[str, ...]:
    phones: list[str] = []
    for key in ("PrimaryPhone", "Mobile", "AlternatePhone"):
        number = str((obj.get(key) or {}).get("FreeFormNumber") or "").strip()
        if number and number not in phones:
            phones.append(number)
    return tuple(phones)


def _address(raw: dict[str, Any] | None) -> Address | None:
    if not raw:
        return None
    lines = tuple(
        str(raw[k]).strip()
        for k in ("Line1", "Line2", "Line3", "Line4", "Line5")
        if raw.get(k) and str(raw[k]).strip()
    )
    return Address(
        lines=lines,
        city=raw.get("City") or None,
        region=raw.get("CountrySubDivisionCode") or None,
        postal_code=raw.get("PostalCode") or None,
        country=_country(raw.get("Country")),
    )


def _country(raw: Any) -> str | None:
    # QBO stores whatever the user typed ("US", "USA", "United States"): keep only
    # what maps to an ISO 3166 alpha-2 code.
    if not raw:
        return None
    text = str(raw).strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    aliases = {"USA": "US", "UNITED STATES": "US", "UK": "GB", "UNITED KINGDOM": "GB"}
    if text.upper() in aliases:
        return aliases[text.upper()]
    names = {v.upper(): k for k, v in _territories().items()}
    return names.get(text.upper())


@lru_cache(maxsize=1)
def _territories() -> dict[str, str]:
    return {k: v for k, v in Locale("en").territories.items() if len(k) == 2}


def _valid_zone(name: Any) -> bool:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
