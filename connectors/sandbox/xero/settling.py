"""Settling invoices in the Xero sandbox: payments, and allocations of credit notes,
overpayments and prepayments. AmountDue falls with each; PAID when it reaches zero."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from app.money import quantize
from connectors.sandbox.xero import documents as docs
from connectors.sandbox.xero.errors import NotFound, ValidationError
from connectors.sandbox.xero.journal import Journal, ms

# Allocation sources: collection -> (id key, number key, nested list on the invoice).
_SOURCES = {
    "CreditNotes": ("CreditNoteID", "CreditNoteNumber", "CreditNotes"),
    "Overpayments": ("OverpaymentID", None, "Overpayments"),
    "Prepayments": ("PrepaymentID", None, "Prepayments"),
}


class Settling(Journal):
    """Pay invoices, delete payments, allocate credits."""

    # --- payments -------------------------------------------------------------

    def create_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply a payment to an invoice: AmountDue falls, PAID when it reaches 0."""
        problems = docs.Problems()
        invoice = self._payment_invoice(body.get("Invoice"), problems)
        # TODO: there is no chart of accounts; any Code or AccountID is taken, where
        # Xero refuses one that is not a bank account with payments enabled.
        account = body.get("Account") or {}
        if not (
            isinstance(account, dict)
            and (account.get("Code") or account.get("AccountID"))
        ):
            problems.append("Account Code or AccountID must be specified")
        currency = str((invoice or {}).get("CurrencyCode") or self.tenant.base_currency)
        paid = docs.amount(body.get("Amount"), currency, problems, "Amount")
        day = docs.day_of(body.get("Date"), problems, "Date") or self.today()
        if invoice is not None:
            if invoice.get("Status") != "AUTHORISED":
                problems.append(
                    "Payments can only be made against Authorised documents"
                )
            elif paid <= 0:
                problems.append("Payment amount must be greater than zero")
            elif paid > Decimal(invoice["AmountDue"]):
                problems.append(
                    "Payment amount exceeds the amount outstanding on this document"
                )
        if problems or invoice is None:
            raise ValidationError(list(problems))

        payment_id = self.ids.new()
        rate_value = docs.number_of(body.get("CurrencyRate"), problems, "CurrencyRate")
        currency_rate = docs.rate(rate_value or Decimal(invoice["CurrencyRate"]))
        reference = str(body.get("Reference") or "")
        kind = "ACCRECPAYMENT" if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT"
        payment: dict[str, Any] = {
            "PaymentID": payment_id,
            "Date": ms(day),
            "BankAmount": paid,
            "Amount": paid,
            "Reference": reference,
            "CurrencyRate": currency_rate,
            "PaymentType": kind,
            "Status": "AUTHORISED",
            "UpdatedDateUTC": docs.stamp(self.now),
            "HasAccount": True,
            "IsReconciled": bool(body.get("IsReconciled", False)),
            "Account": {
                "AccountID": str(account.get("AccountID") or self.ids.new()),
                "Code": str(account.get("Code") or ""),
            },
            "Invoice": _invoice_ref(invoice),
            "HasValidationErrors": False,
        }
        self._store("Payments", payment, created=True)
        self._touch("Invoices", invoice)
        invoice["Payments"] = [
            *invoice.get("Payments", []),
            {
                "PaymentID": payment_id,
                "Date": payment["Date"],
                "Amount": paid,
                "Reference": reference,
                "CurrencyRate": currency_rate,
                "HasAccount": False,
                "HasValidationErrors": False,
            },
        ]
        invoice["AmountPaid"] = quantize(
            Decimal(invoice["AmountPaid"]) + paid, currency
        )
        self._settle(invoice, currency, -paid, day)
        self._history(
            "Invoices", invoice["InvoiceID"], "Paid", f"Payment received of {paid}."
        )
        return payment

    def _payment_invoice(
        self, ref: Any, problems: docs.Problems
    ) -> dict[str, Any] | None:
        if not isinstance(ref, dict) or not (
            ref.get("InvoiceID") or ref.get("InvoiceNumber")
        ):
            problems.append("Invoice (InvoiceID or InvoiceNumber) must be specified")
            return None
        found = self._find_invoice(
            {
                "InvoiceID": ref.get("InvoiceID"),
                "InvoiceNumber": ref.get("InvoiceNumber"),
            }
        )
        if found is None:
            problems.append("Invoice could not be found")
        return found

    def delete_payment(self, payment_id: str) -> dict[str, Any]:
        """Delete a payment: its amount goes back onto the invoice's AmountDue."""
        payment = self.tenant.collection("Payments").get(payment_id.lower())
        if payment is None:
            raise NotFound(f"payment {payment_id}")
        if payment.get("Status") == "DELETED":
            raise ValidationError(["This payment has already been deleted"])
        self._touch("Payments", payment)
        payment["Status"] = "DELETED"
        payment["UpdatedDateUTC"] = docs.stamp(self.now)
        invoice_id = payment["Invoice"]["InvoiceID"]
        invoice = self.tenant.collection("Invoices").get(invoice_id)
        if invoice is not None:
            self._touch("Invoices", invoice)
            currency = str(invoice.get("CurrencyCode") or self.tenant.base_currency)
            paid = Decimal(payment["Amount"])
            invoice["Payments"] = [
                p for p in invoice.get("Payments", []) if p["PaymentID"] != payment_id
            ]
            invoice["AmountPaid"] = quantize(
                Decimal(invoice["AmountPaid"]) - paid, currency
            )
            self._settle(invoice, currency, paid, None)
        self._store("Payments", payment, created=False)
        return payment

    def _settle(
        self, invoice: dict[str, Any], currency: str, change: Decimal, day: date | None
    ) -> None:
        """Move AmountDue by `change`, flipping AUTHORISED and PAID as it crosses 0."""
        self._touch("Invoices", invoice)
        due = quantize(Decimal(invoice["AmountDue"]) + change, currency)
        invoice["AmountDue"] = due
        if due == 0 and day is not None:
            invoice["Status"] = "PAID"
            invoice["FullyPaidOnDate"] = ms(day)
        elif due > 0 and invoice.get("Status") == "PAID":
            invoice["Status"] = "AUTHORISED"
            invoice.pop("FullyPaidOnDate", None)
        invoice["UpdatedDateUTC"] = docs.stamp(self.now)
        self._store("Invoices", invoice, created=False)

    def allocate(
        self, collection: str, source_id: str, body: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Allocate a credit note, overpayment or prepayment to invoices."""
        id_key, number_key, nested = _SOURCES[collection]
        source = self.tenant.collection(collection).get(source_id.lower())
        if source is None:
            raise NotFound(f"{collection} {source_id}")
        raw = body.get("Allocations", [body]) if isinstance(body, dict) else body
        currency = str(source.get("CurrencyCode") or self.tenant.base_currency)
        problems = docs.Problems()
        plan: list[tuple[dict[str, Any], Decimal, date]] = []
        remaining = Decimal(source.get("RemainingCredit", 0))
        if source.get("Status") != "AUTHORISED":
            problems.append("Only an Authorised document can be allocated")
        for item in raw or []:
            invoice = self._payment_invoice(item.get("Invoice"), problems)
            value = docs.amount(item.get("Amount"), currency, problems, "Amount")
            day = docs.day_of(item.get("Date"), problems, "Date") or self.today()
            if invoice is None:
                continue
            if invoice.get("Status") != "AUTHORISED":
                problems.append("Allocations can only be made to Authorised invoices")
            elif value <= 0 or value > Decimal(invoice["AmountDue"]):
                problems.append(
                    "Amount must be greater than zero and no more than the invoice's"
                    " AmountDue"
                )
            elif (invoice.get("Contact") or {}).get("ContactID") != (
                source.get("Contact") or {}
            ).get("ContactID"):
                problems.append("The invoice and the credit must have the same contact")
            elif invoice.get("CurrencyCode") != currency:
                problems.append("The invoice and the credit must be in one currency")
            remaining -= value
            plan.append((invoice, value, day))
        if remaining < 0:
            problems.append("The amount allocated is more than the remaining credit")
        if problems:
            raise ValidationError(list(problems))

        made = []
        self._touch(collection, source)
        for invoice, value, day in plan:
            self._touch("Invoices", invoice)
            allocation = {
                "AllocationID": self.ids.new(),
                "Amount": value,
                "Date": ms(day),
                "Invoice": _invoice_ref(invoice),
                "IsDeleted": False,
            }
            source.setdefault("Allocations", []).append(allocation)
            entry: dict[str, Any] = {id_key: source[id_key]}
            if number_key:
                entry[number_key] = source.get(number_key, "")
            entry.update(
                {
                    "ID": source[id_key],
                    "HasErrors": False,
                    "AppliedAmount": value,
                    "DateString": docs.to_date_string(day),
                    "Date": ms(day),
                    "LineItems": [],
                    "Total": source.get("Total"),
                }
            )
            invoice[nested] = [*invoice.get(nested, []), entry]
            invoice["AmountCredited"] = quantize(
                Decimal(invoice["AmountCredited"]) + value, currency
            )
            self._settle(invoice, currency, -value, day)
            made.append(allocation)
        source["RemainingCredit"] = quantize(remaining, currency)
        if remaining == 0:
            source["Status"] = "PAID"
        source["AppliedAmount"] = quantize(
            Decimal(source.get("Total", 0)) - remaining, currency
        )
        source["UpdatedDateUTC"] = docs.stamp(self.now)
        self._store(collection, source, created=False)
        return made


def _invoice_ref(invoice: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": invoice["Type"],
        "InvoiceID": invoice["InvoiceID"],
        "InvoiceNumber": invoice.get("InvoiceNumber", ""),
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "IsDiscounted": False,
        "HasErrors": False,
        "Contact": dict(invoice.get("Contact") or {}),
        "CurrencyCode": invoice.get("CurrencyCode", ""),
    }
