"""Neutral records (the generator's books) to Xero's own JSON, as its API returns it.

Xero has no payment spanning two invoices (outside batch payments), so a neutral
payment applied to several invoices becomes one Xero Payment per invoice; the first
keeps the record's id. Overpayments and prepayments become Overpayment and Prepayment
objects with their allocations; credits become ACCRECCREDIT credit notes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime
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
    PaymentKind,
)
from connectors.sandbox.xero.dates import to_date_string, to_ms_date
from connectors.sandbox.xero.documents import contact_summary, rate
from connectors.sandbox.xero.parties import contact

_STATUS = {
    InvoiceStatus.OPEN: "AUTHORISED",
    InvoiceStatus.PAID: "PAID",
    InvoiceStatus.VOIDED: "VOIDED",
    InvoiceStatus.DELETED: "DELETED",
}
_SALES_ACCOUNT = "200"
_BANK_ACCOUNT = "090"


class Converter:
    """Turns one generated company's records into Xero objects, cross-linked."""

    def __init__(self, company: Company, now: datetime) -> None:
        self.company = company
        self.now = now
        self.contacts: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.payments: list[dict[str, Any]] = []
        self.credit_notes: list[dict[str, Any]] = []
        self.overpayments: list[dict[str, Any]] = []
        self.prepayments: list[dict[str, Any]] = []
        self._nested: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._paid: dict[str, Decimal] = defaultdict(Decimal)
        self._credited: dict[str, Decimal] = defaultdict(Decimal)
        self._rates: dict[str, Decimal] = {}

    def convert(
        self,
        customers: list[Customer],
        invoices: list[Invoice],
        payments: list[Payment],
        credits: list[Credit],
    ) -> dict[str, list[dict[str, Any]]]:
        """All objects by collection, ready for `XeroSandbox.load`."""
        self._rates = self.rates(invoices)
        for customer in customers:
            self.contacts[customer.ledger_id] = contact(customer, self.now)
        by_id = {invoice.ledger_id: invoice for invoice in invoices}
        for payment in payments:
            self._payment(payment, by_id)
        for credit in credits:
            self._credit(credit, by_id)
        docs = [self._invoice(invoice) for invoice in invoices]
        return {
            "Contacts": list(self.contacts.values()),
            "Invoices": docs,
            "Payments": self.payments,
            "CreditNotes": self.credit_notes,
            "Overpayments": self.overpayments,
            "Prepayments": self.prepayments,
        }

    def rates(self, invoices: list[Invoice]) -> dict[str, Decimal]:
        """Xero CurrencyRates by foreign currency, from the newest invoice in each."""
        found: dict[str, Decimal] = {}
        for invoice in invoices:
            if invoice.currency != self.company.home_currency and invoice.exchange_rate:
                found[invoice.currency] = _xero_rate(invoice.exchange_rate)
        return found

    def _invoice(self, invoice: Invoice) -> dict[str, Any]:
        currency = invoice.currency
        status = _STATUS[invoice.status]
        nested = self._nested[invoice.ledger_id]
        due = invoice.amount_due if status in ("AUTHORISED", "PAID") else Decimal(0)
        doc: dict[str, Any] = {
            "Type": "ACCREC",
            "InvoiceID": invoice.ledger_id,
            "InvoiceNumber": invoice.number or "",
            "Reference": "",
            "Payments": nested["Payments"],
            "CreditNotes": nested["CreditNotes"],
            "Prepayments": nested["Prepayments"],
            "Overpayments": nested["Overpayments"],
            "AmountDue": quantize(due, currency),
            "AmountPaid": quantize(self._paid[invoice.ledger_id], currency),
            "AmountCredited": quantize(self._credited[invoice.ledger_id], currency),
            "CurrencyRate": _xero_rate(invoice.exchange_rate),
            "IsDiscounted": False,
            "HasAttachments": False,
            "HasErrors": False,
            "Contact": self._summary(invoice.customer_id),
        }
        if invoice.issue_date is not None:
            doc["DateString"] = to_date_string(invoice.issue_date)
            doc["Date"] = to_ms_date(invoice.issue_date)
        if invoice.due_date is not None:
            doc["DueDateString"] = to_date_string(invoice.due_date)
            doc["DueDate"] = to_ms_date(invoice.due_date)
        doc["Status"] = status
        doc["LineAmountTypes"] = "NoTax"
        doc["LineItems"] = [
            _line(invoice.ledger_id, "Services", invoice.total, currency)
        ]
        doc["SubTotal"] = quantize(invoice.total, currency)
        doc["TotalTax"] = quantize(0, currency)
        doc["Total"] = quantize(invoice.total, currency)
        doc["UpdatedDateUTC"] = to_ms_date(invoice.last_modified or self.now)
        doc["CurrencyCode"] = currency
        if status == "PAID" and invoice.paid_on is not None:
            doc["FullyPaidOnDate"] = to_ms_date(invoice.paid_on)
        return doc

    def _summary(self, customer_id: str) -> dict[str, Any]:
        found = self.contacts.get(customer_id)
        if found is None:
            raise ValueError(f"invoice names customer {customer_id}, not in the books")
        return contact_summary(found)

    def _payment(self, payment: Payment, invoices: dict[str, Invoice]) -> None:
        if payment.kind is PaymentKind.PAYMENT:
            for i, application in enumerate(payment.applied):
                pay_id = payment.ledger_id if i == 0 else _derived(payment.ledger_id, i)
                invoice = invoices[application.invoice_id]
                self._one_payment(pay_id, payment, invoice, application.amount)
            if payment.unapplied > 0:
                # Xero holds unapplied money as an overpayment, never on a payment.
                self._credit_doc(
                    "Overpayments", _derived(payment.ledger_id, 99), payment
                )
            return
        collection = (
            "Overpayments" if payment.kind is PaymentKind.OVERPAYMENT else "Prepayments"
        )
        self._credit_doc(collection, payment.ledger_id, payment)

    def _one_payment(
        self, pay_id: str, payment: Payment, invoice: Invoice, amount: Decimal
    ) -> None:
        currency = payment.currency
        value = quantize(amount, currency)
        currency_rate = _xero_rate(invoice.exchange_rate)
        on = to_ms_date(payment.date)
        self.payments.append(
            {
                "PaymentID": pay_id,
                "Date": on,
                "BankAmount": value,
                "Amount": value,
                "Reference": "",
                "CurrencyRate": currency_rate,
                "PaymentType": "ACCRECPAYMENT",
                "Status": "DELETED" if payment.deleted else "AUTHORISED",
                "UpdatedDateUTC": to_ms_date(payment.last_modified or self.now),
                "HasAccount": True,
                "IsReconciled": False,
                "Account": {
                    "AccountID": _derived(self.company.id, 90),
                    "Code": _BANK_ACCOUNT,
                },
                "Invoice": _invoice_ref(invoice, self._summary(invoice.customer_id)),
                "HasValidationErrors": False,
            }
        )
        if payment.deleted:
            return
        self._nested[invoice.ledger_id]["Payments"].append(
            {
                "PaymentID": pay_id,
                "Date": on,
                "Amount": value,
                "Reference": "",
                "CurrencyRate": currency_rate,
                "HasAccount": False,
                "HasValidationErrors": False,
            }
        )
        self._paid[invoice.ledger_id] += value

    def _credit_doc(self, collection: str, doc_id: str, payment: Payment) -> None:
        kind = (
            "RECEIVE-OVERPAYMENT"
            if collection == "Overpayments"
            else "RECEIVE-PREPAYMENT"
        )
        key = "OverpaymentID" if collection == "Overpayments" else "PrepaymentID"
        total = (
            payment.amount
            if payment.kind is not PaymentKind.PAYMENT
            else payment.unapplied
        )
        applied = payment.applied if payment.kind is not PaymentKind.PAYMENT else ()
        doc = self._credit_like(
            key,
            doc_id,
            kind,
            payment.customer_id,
            payment.currency,
            payment.date,
            total,
        )
        doc["RemainingCredit"] = quantize(payment.unapplied, payment.currency)
        self._allocate(
            doc, key, None, applied, payment.date, payment.currency, collection
        )
        doc["Status"] = _credit_status(payment.deleted, payment.unapplied)
        doc["UpdatedDateUTC"] = to_ms_date(payment.last_modified or self.now)
        (
            self.overpayments if collection == "Overpayments" else self.prepayments
        ).append(doc)

    def _credit(self, credit: Credit, invoices: dict[str, Invoice]) -> None:
        doc = self._credit_like(
            "CreditNoteID",
            credit.ledger_id,
            "ACCRECCREDIT",
            credit.customer_id,
            credit.currency,
            credit.date,
            credit.total,
        )
        doc["CreditNoteNumber"] = credit.number or ""
        doc["RemainingCredit"] = quantize(credit.remaining, credit.currency)
        self._allocate(
            doc,
            "CreditNoteID",
            credit.number or "",
            credit.applied,
            credit.date,
            credit.currency,
            "CreditNotes",
        )
        doc["Status"] = _credit_status(credit.deleted, credit.remaining)
        doc["UpdatedDateUTC"] = to_ms_date(credit.last_modified or self.now)
        self.credit_notes.append(doc)

    def _credit_like(
        self,
        key: str,
        doc_id: str,
        kind: str,
        customer_id: str,
        currency: str,
        on: date,
        total: Decimal,
    ) -> dict[str, Any]:
        value = quantize(total, currency)
        doc: dict[str, Any] = {
            key: doc_id,
            "Type": kind,
            "Contact": self._summary(customer_id),
            "DateString": to_date_string(on),
            "Date": to_ms_date(on),
            "Status": "AUTHORISED",
            "LineAmountTypes": "NoTax",
            "LineItems": [_line(doc_id, "Credit", total, currency)],
            "SubTotal": value,
            "TotalTax": quantize(0, currency),
            "Total": value,
            "UpdatedDateUTC": to_ms_date(self.now),
            "CurrencyCode": currency,
            "CurrencyRate": self._rates.get(currency, rate(Decimal(1))),
            "RemainingCredit": value,
            "Allocations": [],
            "HasAttachments": False,
        }
        return doc

    def _allocate(
        self,
        doc: dict[str, Any],
        key: str,
        number: str | None,
        applied: tuple[Any, ...],
        on: date,
        currency: str,
        nested: str,
    ) -> None:
        for i, application in enumerate(applied):
            value = quantize(application.amount, currency)
            doc["Allocations"].append(
                {
                    "AllocationID": _derived(doc[key], 1000 + i),
                    "Amount": value,
                    "Date": to_ms_date(on),
                    "Invoice": {"InvoiceID": application.invoice_id},
                    "IsDeleted": False,
                }
            )
            entry: dict[str, Any] = {key: doc[key]}
            if number is not None:
                entry["CreditNoteNumber"] = number
            entry.update(
                {
                    "ID": doc[key],
                    "HasErrors": False,
                    "AppliedAmount": value,
                    "DateString": to_date_string(on),
                    "Date": to_ms_date(on),
                    "LineItems": [],
                    "Total": doc["Total"],
                }
            )
            self._nested[application.invoice_id][nested].append(entry)
            self._credited[application.invoice_id] += value
        doc["AppliedAmount"] = quantize(
            sum((Decimal(a["Amount"]) for a in doc["Allocations"]), Decimal(0)),
            currency,
        )


def _credit_status(deleted: bool, remaining: Decimal) -> str:
    if deleted:
        return "DELETED"
    return "PAID" if remaining == 0 else "AUTHORISED"


def _xero_rate(exchange_rate: Decimal | None) -> Decimal:
    # NOTE: records hold home units per invoice unit; Xero's CurrencyRate is the
    # other way round (invoice units per home unit), written to six places.
    if not exchange_rate:
        return rate(Decimal(1))
    return rate(Decimal(1) / exchange_rate)


def _line(
    owner: str, description: str, total: Decimal, currency: str
) -> dict[str, Any]:
    value = quantize(total, currency)
    return {
        "Description": description,
        "UnitAmount": value,
        "TaxType": "NONE",
        "TaxAmount": quantize(0, currency),
        "LineAmount": value,
        "AccountCode": _SALES_ACCOUNT,
        "Tracking": [],
        "Quantity": Decimal("1.0000"),
        "LineItemID": _derived(owner, 1),
    }


def _invoice_ref(invoice: Invoice, summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "InvoiceID": invoice.ledger_id,
        "InvoiceNumber": invoice.number or "",
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "IsDiscounted": False,
        "HasErrors": False,
        "Contact": summary,
        "CurrencyCode": invoice.currency,
    }


def _derived(base: str, n: int) -> str:
    """A stable id derived from another (a split payment's second part, say)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero:{base}:{n}"))
