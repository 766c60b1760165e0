"""Ledger-neutral records (the shared generator's books) turned into QBO's JSON.

What QBO itself would hold for those books: a voided invoice has zeroed amounts and
"Voided" in PrivateNote; a deleted one is only a tombstone; a credit note applied to
an invoice is a CreditMemo plus a zero-total Payment linking both (that is how QBO
applies credits); foreign-currency documents carry ExchangeRate and Home* amounts.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from app.money import quantize
from connectors.records import (
    Company,
    Credit,
    Customer,
    Invoice,
    InvoiceStatus,
    Payment,
)
from connectors.sandbox.quickbooks.entities import currency_ref, subtotal_line
from connectors.sandbox.quickbooks.wire import local_stamp

SERVICES_ITEM = {"value": "1", "name": "Services"}


def default_chart(home_currency: str) -> dict[str, list[dict[str, Any]]]:
    """The accounts and the one item a new QBO company starts with."""
    accounts = [
        ("1", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
        ("2", "Services", "Income", "ServiceFeeIncome"),
        ("3", "Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
        ("4", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
        ("5", "Legal & Professional Fees", "Expense", "LegalProfessionalFees"),
        ("6", "Checking", "Bank", "Checking"),
    ]
    classification = {
        "Accounts Receivable": "Asset",
        "Income": "Revenue",
        "Other Current Asset": "Asset",
        "Accounts Payable": "Liability",
        "Expense": "Expense",
        "Bank": "Asset",
    }
    return {
        "Account": [
            {
                "Id": account_id,
                "Name": name,
                "FullyQualifiedName": name,
                "AccountType": kind,
                "AccountSubType": sub,
                "Classification": classification[kind],
                "CurrentBalance": Decimal(0),
                "Active": True,
                "CurrencyRef": currency_ref(home_currency),
            }
            for account_id, name, kind, sub in accounts
        ],
        "Item": [
            {
                "Id": "1",
                "Name": "Services",
                "FullyQualifiedName": "Services",
                "Type": "Service",
                "Active": True,
                "IncomeAccountRef": {"value": "2", "name": "Services"},
            }
        ],
    }


def company_documents(company: Company) -> tuple[dict[str, Any], dict[str, Any]]:
    """CompanyInfo and Preferences for a neutral `Company`."""
    info = {
        "CompanyName": company.name,
        "LegalName": company.name,
        "Country": company.country or "US",
        "DefaultTimeZone": company.timezone,
        "SupportedLanguages": "en",
        "FiscalYearStartMonth": "January",
        "Email": {"Address": "accounts@sandbox-company.example"},
    }
    preferences = {
        "CurrencyPrefs": {
            "MultiCurrencyEnabled": company.multi_currency,
            "HomeCurrency": {"value": company.home_currency},
        },
        "SalesFormsPrefs": {"CustomTxnNumbers": True},
    }
    return info, preferences


def to_qbo(books: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, list]]:
    """CompanyInfo, Preferences and the objects to load, from `GeneratedBooks`."""
    company: Company = books.company
    home = company.home_currency
    info, preferences = company_documents(company)
    tz = company.timezone
    names = {c.ledger_id: c.name for c in books.customers}
    emails = {c.ledger_id: c.emails[0] for c in books.customers if c.emails}
    table = _rate_table(books.invoices, home)
    links: dict[str, list[dict[str, str]]] = defaultdict(list)
    payments = [_payment(p, names, table, home, tz) for p in books.payments]
    for payment in books.payments:
        if not payment.deleted:
            for application in payment.applied:
                links[application.invoice_id].append(
                    {"TxnId": payment.ledger_id, "TxnType": "Payment"}
                )
    next_payment = 1 + max((int(p.ledger_id) for p in books.payments), default=0)
    for credit in books.credits:
        if credit.applied and not credit.deleted:
            payments.append(_credit_payment(str(next_payment), credit, names, tz))
            for application in credit.applied:
                links[application.invoice_id].append(
                    {"TxnId": str(next_payment), "TxnType": "Payment"}
                )
            next_payment += 1
    data: dict[str, list[dict[str, Any]]] = {
        "ExchangeRate": [
            {"SourceCurrencyCode": ccy, "AsOfDate": day.isoformat(), "Rate": rate}
            for ccy, days in sorted(table.items())
            for day, rate in days
        ],
        "Customer": [_customer(c, home, tz) for c in books.customers],
        "Invoice": [
            _invoice(i, names, links[i.ledger_id], home, tz, emails.get(i.customer_id))
            for i in books.invoices
        ],
        "CreditMemo": [_credit(c, names, tz) for c in books.credits],
        "Payment": payments,
    }
    return info, preferences, data


def _meta(
    created: datetime | None, modified: datetime | None, tz: str
) -> dict[str, str]:
    """MetaData in the company's UTC offset, as QBO writes it."""
    first = created or modified or datetime(2000, 1, 1, tzinfo=UTC)
    last = max(modified or first, first)
    return {
        "CreateTime": local_stamp(first, tz),
        "LastUpdatedTime": local_stamp(last, tz),
    }


def _at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def _ref(customer_id: str, names: dict[str, str]) -> dict[str, str]:
    return {"value": customer_id, "name": names.get(customer_id, "")}


def _customer(customer: Customer, home: str, tz: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "Id": customer.ledger_id,
        "DisplayName": customer.name,
        "CompanyName": customer.name,
        "FullyQualifiedName": customer.name,
        "PrintOnCheckName": customer.name,
        "Active": customer.active and not customer.deleted,
        "Job": False,
        "BillWithParent": False,
        "Balance": customer.balance if customer.balance is not None else Decimal(0),
        "BalanceWithJobs": customer.balance
        if customer.balance is not None
        else Decimal(0),
        "CurrencyRef": currency_ref(customer.currency or home),
        "MetaData": _meta(customer.created, customer.last_modified, tz),
    }
    if customer.contact_name:
        given, _, family = customer.contact_name.partition(" ")
        obj["GivenName"] = given
        if family:
            obj["FamilyName"] = family
    if customer.emails:
        # NOTE: QBO keeps several addresses comma-separated in one field (case C29).
        obj["PrimaryEmailAddr"] = {"Address": ", ".join(customer.emails)}
    if customer.phones:
        obj["PrimaryPhone"] = {"FreeFormNumber": customer.phones[0]}
    if customer.address is not None:
        address: dict[str, Any] = {}
        for number, line in enumerate(customer.address.lines[:5], start=1):
            address[f"Line{number}"] = line
        for key, value in (
            ("City", customer.address.city),
            ("CountrySubDivisionCode", customer.address.region),
            ("PostalCode", customer.address.postal_code),
            ("Country", customer.address.country),
        ):
            if value:
                address[key] = value
        obj["BillAddr"] = address
    return obj


def _invoice(
    invoice: Invoice,
    names: dict[str, str],
    links: list[dict[str, str]],
    home: str,
    tz: str,
    email: str | None = None,
) -> dict[str, Any]:
    if invoice.status == InvoiceStatus.DELETED:
        return {"Id": invoice.ledger_id, "status": "Deleted"}
    issued = invoice.issue_date or invoice.due_date
    if issued is None:
        raise ValueError(f"invoice {invoice.ledger_id} has neither issue nor due date")
    voided = invoice.status == InvoiceStatus.VOIDED
    total = Decimal(0) if voided else invoice.total
    balance = Decimal(0) if voided else invoice.amount_due
    obj: dict[str, Any] = {
        "Id": invoice.ledger_id,
        "SyncToken": invoice.version or "0",
        "DocNumber": invoice.number,
        "TxnDate": issued.isoformat(),
        "CustomerRef": _ref(invoice.customer_id, names),
        "CurrencyRef": currency_ref(invoice.currency),
        "Line": [
            {
                "Id": "1",
                "LineNum": 1,
                "Description": "Services",
                "Amount": total,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": dict(SERVICES_ITEM),
                    "Qty": Decimal(0) if voided else Decimal(1),
                    "UnitPrice": invoice.total,
                    "TaxCodeRef": {"value": "NON"},
                },
            },
            subtotal_line(total),
        ],
        "TxnTaxDetail": {"TotalTax": Decimal(0)},
        "TotalAmt": total,
        "Balance": balance,
        "LinkedTxn": [] if voided else links,
        "EmailStatus": "NotSet",
        "PrintStatus": "NotSet",
        "AllowIPNPayment": False,
        "AllowOnlinePayment": False,
        "AllowOnlineCreditCardPayment": False,
        "AllowOnlineACHPayment": False,
        "MetaData": _meta(_at_noon(issued), invoice.last_modified, tz),
    }
    if invoice.due_date is not None:
        obj["DueDate"] = invoice.due_date.isoformat()
    if voided:
        obj["PrivateNote"] = "Voided"
    if email:
        obj["BillEmail"] = {"Address": email}
    if invoice.currency != home and invoice.exchange_rate is not None:
        rate = invoice.exchange_rate
        obj["ExchangeRate"] = rate
        obj["HomeTotalAmt"] = quantize(total * rate, home)
        obj["HomeBalance"] = quantize(balance * rate, home)
    return obj


def _payment(
    payment: Payment,
    names: dict[str, str],
    table: dict[str, list[tuple[date, Decimal]]],
    home: str,
    tz: str,
) -> dict[str, Any]:
    if payment.deleted:
        return {"Id": payment.ledger_id, "status": "Deleted"}
    obj: dict[str, Any] = {
        "Id": payment.ledger_id,
        "TxnDate": payment.date.isoformat(),
        "CustomerRef": _ref(payment.customer_id, names),
        "CurrencyRef": currency_ref(payment.currency),
        "TotalAmt": payment.amount,
        "UnappliedAmt": payment.unapplied,
        "ProcessPayment": False,
        "Line": [
            {
                "Amount": a.amount,
                "LinkedTxn": [{"TxnId": a.invoice_id, "TxnType": "Invoice"}],
            }
            for a in payment.applied
        ],
        "MetaData": _meta(_at_noon(payment.date), payment.last_modified, tz),
    }
    if payment.currency != home:
        rate = _rate_on(table, payment.currency, payment.date)
        if rate is not None:
            obj["ExchangeRate"] = rate
    return obj


def _credit(credit: Credit, names: dict[str, str], tz: str) -> dict[str, Any]:
    if credit.deleted:
        return {"Id": credit.ledger_id, "status": "Deleted"}
    obj: dict[str, Any] = {
        "Id": credit.ledger_id,
        "TxnDate": credit.date.isoformat(),
        "CustomerRef": _ref(credit.customer_id, names),
        "CurrencyRef": currency_ref(credit.currency),
        "Line": [
            {
                "Id": "1",
                "LineNum": 1,
                "Description": "Credit",
                "Amount": credit.total,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": dict(SERVICES_ITEM),
                    "Qty": Decimal(1),
                    "UnitPrice": credit.total,
                },
            },
            subtotal_line(credit.total),
        ],
        "TotalAmt": credit.total,
        "RemainingCredit": credit.remaining,
        "Balance": credit.remaining,
        "MetaData": _meta(_at_noon(credit.date), credit.last_modified, tz),
    }
    if credit.number:
        obj["DocNumber"] = credit.number
    return obj


def _credit_payment(
    payment_id: str, credit: Credit, names: dict[str, str], tz: str
) -> dict[str, Any]:
    """The zero-total Payment through which QBO applies a credit memo to invoices."""
    lines: list[dict[str, Any]] = [
        {
            "Amount": a.amount,
            "LinkedTxn": [{"TxnId": a.invoice_id, "TxnType": "Invoice"}],
        }
        for a in credit.applied
    ]
    lines.append(
        {
            "Amount": sum((a.amount for a in credit.applied), Decimal(0)),
            "LinkedTxn": [{"TxnId": credit.ledger_id, "TxnType": "CreditMemo"}],
        }
    )
    return {
        "Id": payment_id,
        "TxnDate": credit.date.isoformat(),
        "CustomerRef": _ref(credit.customer_id, names),
        "CurrencyRef": currency_ref(credit.currency),
        "TotalAmt": quantize(Decimal(0), credit.currency),
        "UnappliedAmt": quantize(Decimal(0), credit.currency),
        "ProcessPayment": False,
        "Line": lines,
        "MetaData": _meta(_at_noon(credit.date), credit.last_modified, tz),
    }


def _rate_table(
    invoices: list[Invoice], home: str
) -> dict[str, list[tuple[date, Decimal]]]:
    """The rates the invoices were booked at: currency -> [(day, rate)] by day."""
    seen: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for invoice in invoices:
        if invoice.currency != home and invoice.exchange_rate and invoice.issue_date:
            seen[invoice.currency][invoice.issue_date] = invoice.exchange_rate
    return {ccy: sorted(days.items()) for ccy, days in seen.items()}


def _rate_on(
    table: dict[str, list[tuple[date, Decimal]]], currency: str, on: date
) -> Decimal | None:
    """The latest booked rate on or before `on` (else the earliest one)."""
    days = table.get(currency)
    if not days:
        return None
    at = bisect.bisect_right(days, (on, Decimal("Infinity")))
    return days[at - 1][1] if at else days[0][1]
