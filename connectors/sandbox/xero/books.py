"""The Xero sandbox's bookkeeping: create and update documents, pay, allocate, note.

Each method checks a request body the way Xero does, gathers every problem into one
ValidationError, and only then writes, so a refused document leaves nothing behind.
Each write is recorded in `changes` for the webhook sender.
"""

from __future__ import annotations

import copy
import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.money import quantize
from connectors.sandbox.xero import documents as docs
from connectors.sandbox.xero.errors import NotFound, ValidationError
from connectors.sandbox.xero.state import ID_KEYS, Ids, Tenant
from connectors.sandbox.xero.zones import iana_zone

logger = logging.getLogger(__name__)

INVOICE_TYPES = ("ACCREC", "ACCPAY")
CREDIT_TYPES = ("ACCRECCREDIT", "ACCPAYCREDIT")
_NEW_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
_MOVES = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
    "PAID": {"PAID"},
    "VOIDED": {"VOIDED"},
    "DELETED": {"DELETED"},
}
# Allocation sources: collection -> (id key, number key, nested list on the invoice).
_SOURCES = {
    "CreditNotes": ("CreditNoteID", "CreditNoteNumber", "CreditNotes"),
    "Overpayments": ("OverpaymentID", None, "Overpayments"),
    "Prepayments": ("PrepaymentID", None, "Prepayments"),
}


class Books:
    """Writes to one tenant at one instant; `changes` lists (collection, id, event)."""

    def __init__(
        self,
        tenant: Tenant,
        now: datetime,
        ids: Ids,
        user: str = "CARE",
        unitdp: int = 2,
    ) -> None:
        self.tenant = tenant
        self.now = now
        self.ids = ids
        self.user = user
        self.unitdp = unitdp
        self.changes: list[tuple[str, str, str]] = []
        # (collection, id, object before this request or None), first touch only;
        # rollback() restores them when a batch fails as a whole.
        self._undo: list[tuple[str, str, dict[str, Any] | None]] = []
        self._touched: set[tuple[str, str]] = set()
        self._history_lengths: dict[str, int] = {}

    def rollback(self) -> None:
        """Undo every write this Books made (a batch refused with summarizeErrors)."""
        for collection, key, before in reversed(self._undo):
            objects = self.tenant.collection(collection)
            if before is None:
                objects.pop(key, None)
            else:
                objects[key] = before
        for object_id, length in self._history_lengths.items():
            del self.tenant.history.setdefault(object_id, [])[length:]
        self._undo.clear()
        self._touched.clear()
        self.changes.clear()

    def _touch(self, collection: str, doc: dict[str, Any]) -> None:
        """Remember `doc` as it was before this request changes it in place."""
        key = doc[ID_KEYS[collection]]
        if (collection, key) not in self._touched:
            self._touched.add((collection, key))
            self._undo.append((collection, key, copy.deepcopy(doc)))

    # --- invoices -------------------------------------------------------------

    def save_invoice(self, body: dict[str, Any], update: bool) -> dict[str, Any]:
        """Create an invoice or bill, or (when `update`) change an existing one."""
        existing = self._find_invoice(body) if update else None
        if existing is None and update and body.get("InvoiceID"):
            raise NotFound(f"invoice {body['InvoiceID']}")
        doc = self._build_invoice(body, existing)
        self._store("Invoices", doc, created=existing is None)
        if existing is None:
            self._history("Invoices", doc["InvoiceID"], "Created", self._summary(doc))
        elif existing.get("Status") != doc["Status"]:
            self._history("Invoices", doc["InvoiceID"], doc["Status"].title(), "")
        return doc

    def _find_invoice(self, body: dict[str, Any]) -> dict[str, Any] | None:
        invoices = self.tenant.collection("Invoices")
        if body.get("InvoiceID"):
            return invoices.get(str(body["InvoiceID"]).lower())
        number = body.get("InvoiceNumber")
        if number:
            for doc in invoices.values():
                if doc.get("InvoiceNumber") == number and doc.get("Type") != "ACCPAY":
                    return doc
        return None

    def _build_invoice(
        self, body: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        problems = docs.Problems()
        old = existing or {}
        kind = str(body.get("Type") or old.get("Type") or "")
        if kind not in INVOICE_TYPES:
            problems.append("Invoice Type must be ACCREC or ACCPAY")
        status = str(body.get("Status") or old.get("Status") or "DRAFT").upper()
        self._check_status(old.get("Status"), status, old, problems)
        contact = self._contact_for(body.get("Contact"), old.get("Contact"), problems)
        currency = str(body.get("CurrencyCode") or old.get("CurrencyCode") or "")
        currency = (currency or self.tenant.base_currency).upper()
        issue = docs.day_of(body.get("Date"), problems, "Date")
        due = docs.day_of(body.get("DueDate"), problems, "Due Date")
        if issue is None:
            issue = _old_day(old, "Date") or self.today()
        if due is None:
            due = _old_day(old, "DueDate")
        if due is None and status in ("SUBMITTED", "AUTHORISED"):
            problems.append("Due Date is required")
        amount_types = str(
            body.get("LineAmountTypes") or old.get("LineAmountTypes") or "Exclusive"
        )
        if amount_types not in docs.LINE_AMOUNT_TYPES:
            problems.append("LineAmountTypes must be Exclusive, Inclusive or NoTax")
        raw_lines = body.get("LineItems", old.get("LineItems"))
        if old.get("Status") in ("PAID",) or old.get("Payments"):
            if "LineItems" in body:
                problems.append(
                    "This document cannot be edited as it has a payment or credit"
                    " note allocated to it."
                )
        lines, subtotal, tax, total = docs.line_items(
            raw_lines, currency, amount_types, self.unitdp, self.ids.new, problems
        )
        if status == "AUTHORISED" and not lines:
            problems.append("At least one line item is required to approve")
        number = body.get("InvoiceNumber", old.get("InvoiceNumber"))
        if not number and kind == "ACCREC":
            number = self.tenant.next_number("INV-")
        invoice_id = old.get("InvoiceID") or self.ids.new()
        if number and kind == "ACCREC":
            self._check_unique_number(str(number), invoice_id, problems)
        currency_rate = self._rate(body.get("CurrencyRate"), old, currency, problems)
        paid = Decimal(old.get("AmountPaid", 0))
        credited = Decimal(old.get("AmountCredited", 0))
        due_amount = quantize(total - paid - credited, currency)
        if due_amount < 0:
            problems.append("The document total cannot be less than the amount paid")
        if problems:
            raise ValidationError(list(problems))

        doc: dict[str, Any] = {
            "Type": kind,
            "InvoiceID": invoice_id,
            "InvoiceNumber": str(number or ""),
            "Reference": str(body.get("Reference", old.get("Reference", ""))),
            "Payments": old.get("Payments", []),
            "CreditNotes": old.get("CreditNotes", []),
            "Prepayments": old.get("Prepayments", []),
            "Overpayments": old.get("Overpayments", []),
            # A voided or deleted document owes nothing (the recorded fixture shows
            # AmountDue 0.00 on a VOIDED bill).
            "AmountDue": Decimal(0).quantize(due_amount)
            if status in ("VOIDED", "DELETED")
            else due_amount,
            "AmountPaid": quantize(paid, currency),
            "AmountCredited": quantize(credited, currency),
            "CurrencyRate": currency_rate,
            "IsDiscounted": False,
            "HasAttachments": bool(old.get("HasAttachments", False)),
            "HasErrors": False,
            "Contact": contact,
        }
        docs.put_date(doc, "Date", issue)
        docs.put_date(doc, "DueDate", due)
        doc["Status"] = status
        doc["LineAmountTypes"] = amount_types
        doc["LineItems"] = lines
        doc["SubTotal"] = subtotal
        doc["TotalTax"] = tax
        doc["Total"] = total
        doc["UpdatedDateUTC"] = docs.stamp(self.now)
        doc["CurrencyCode"] = currency
        if old.get("FullyPaidOnDate"):
            doc["FullyPaidOnDate"] = old["FullyPaidOnDate"]
        return doc

    def _check_status(
        self,
        before: str | None,
        after: str,
        old: dict[str, Any],
        problems: docs.Problems,
    ) -> None:
        if before is None:
            if after not in _NEW_STATUSES:
                problems.append(
                    f"Invoice status {after} is not valid for a new document"
                )
            return
        if after not in _MOVES.get(before, set()):
            problems.append(
                f"Invoice not of valid status for modification ({before} to {after})"
            )
        if after == "VOIDED" and (old.get("Payments") or old.get("AmountCredited")):
            problems.append(
                "Payment must be removed before voiding (the invoice has payments"
                " or credits allocated)"
            )

    def _check_unique_number(
        self, number: str, invoice_id: str, problems: docs.Problems
    ) -> None:
        for doc in self.tenant.collection("Invoices").values():
            if (
                doc.get("InvoiceNumber") == number
                and doc.get("Type") == "ACCREC"
                and doc["InvoiceID"] != invoice_id
                and doc.get("Status") != "DELETED"
            ):
                problems.append("Invoice # must be unique.")
                return

    def _rate(
        self,
        given: Any,
        old: dict[str, Any],
        currency: str,
        problems: docs.Problems,
    ) -> Decimal:
        value = docs.number_of(given, problems, "CurrencyRate")
        if value is not None and value > 0:
            return docs.rate(value)
        if old.get("CurrencyRate") is not None:
            return docs.rate(Decimal(old["CurrencyRate"]))
        if currency == self.tenant.base_currency:
            return docs.rate(Decimal(1))
        known = self.tenant.rates.get(currency)
        if known is None:
            # NOTE: real Xero looks the rate up at XE.com; the sandbox only knows the
            # rates set on it (XeroSandbox.set_rate) and says so instead of guessing.
            problems.append(
                f"No exchange rate is set for {currency}; send CurrencyRate"
            )
            return Decimal(0)
        return docs.rate(Decimal(known))

    def _contact_for(
        self, given: Any, old: dict[str, Any] | None, problems: docs.Problems
    ) -> dict[str, Any]:
        if not given:
            if old:
                return old
            problems.append("A Contact must be specified for this type of transaction")
            return {}
        contacts = self.tenant.collection("Contacts")
        if not isinstance(given, dict):
            problems.append("Contact must be an object")
            return {}
        if given.get("ContactID"):
            found = contacts.get(str(given["ContactID"]).lower())
            if found is None:
                if old and old.get("ContactID") == given["ContactID"]:
                    return old
                problems.append(f"The contact {given['ContactID']} could not be found")
                return {}
            return docs.contact_summary(found)
        name = str(given.get("Name") or "").strip()
        if not name:
            problems.append("A Contact must have a ContactID or a Name")
            return {}
        for contact in contacts.values():
            if contact.get("Name", "").strip().lower() == name.lower():
                return docs.contact_summary(contact)
        # Xero creates a contact named in a document that does not exist yet.
        created = self.save_contact({"Name": name}, update=False)
        return docs.contact_summary(created)

    def _summary(self, doc: dict[str, Any]) -> str:
        name = doc.get("Contact", {}).get("Name", "")
        return f"{doc.get('InvoiceNumber', '')} to {name} for {doc.get('Total')}."

    # --- contacts -------------------------------------------------------------

    def save_contact(self, body: dict[str, Any], update: bool) -> dict[str, Any]:
        """Create a contact, or (when `update`) change one found by id or name."""
        contacts = self.tenant.collection("Contacts")
        old = None
        if update and body.get("ContactID"):
            old = contacts.get(str(body["ContactID"]).lower())
            if old is None:
                raise NotFound(f"contact {body['ContactID']}")
        old = old or {}
        name = str(body.get("Name", old.get("Name", ""))).strip()
        problems = docs.Problems()
        if not name:
            problems.append("The contact name must be specified")
        contact_id = old.get("ContactID") or self.ids.new()
        for other in contacts.values():
            if (
                other["ContactID"] != contact_id
                and other.get("ContactStatus", "ACTIVE") == "ACTIVE"
                and other.get("Name", "").lower() == name.lower()
            ):
                problems.append(
                    f"The contact name {name} is already assigned to another contact."
                    " The contact name must be unique across all active contacts."
                )
                break
        if problems:
            raise ValidationError(list(problems))
        contact: dict[str, Any] = {"ContactID": contact_id}
        contact["ContactStatus"] = str(
            body.get("ContactStatus", old.get("ContactStatus", "ACTIVE"))
        )
        contact["Name"] = name
        for key in ("FirstName", "LastName", "EmailAddress", "AccountNumber"):
            if key in body or key in old:
                contact[key] = body.get(key, old.get(key))
        contact["Addresses"] = list(body.get("Addresses", old.get("Addresses", [])))
        contact["Phones"] = list(body.get("Phones", old.get("Phones", [])))
        contact["UpdatedDateUTC"] = docs.stamp(self.now)
        contact["ContactGroups"] = list(old.get("ContactGroups", []))
        contact["IsSupplier"] = bool(
            body.get("IsSupplier", old.get("IsSupplier", False))
        )
        contact["IsCustomer"] = bool(
            body.get("IsCustomer", old.get("IsCustomer", False))
        )
        if body.get("DefaultCurrency") or old.get("DefaultCurrency"):
            contact["DefaultCurrency"] = body.get("DefaultCurrency") or old.get(
                "DefaultCurrency"
            )
        contact["ContactPersons"] = list(
            body.get("ContactPersons", old.get("ContactPersons", []))
        )
        contact["HasAttachments"] = False
        contact["HasValidationErrors"] = False
        self._store("Contacts", contact, created=not old)
        if old and old.get("Name") != name:
            self._rename_in_documents(contact_id, name)
        return contact

    def _rename_in_documents(self, contact_id: str, name: str) -> None:
        for collection in ("Invoices", "CreditNotes", "Overpayments", "Prepayments"):
            for doc in self.tenant.collection(collection).values():
                embedded = doc.get("Contact") or {}
                if embedded.get("ContactID") == contact_id:
                    self._touch(collection, doc)
                    doc["Contact"] = {**embedded, "Name": name}

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
            "Date": _ms(day),
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
            invoice["FullyPaidOnDate"] = _ms(day)
        elif due > 0 and invoice.get("Status") == "PAID":
            invoice["Status"] = "AUTHORISED"
            invoice.pop("FullyPaidOnDate", None)
        invoice["UpdatedDateUTC"] = docs.stamp(self.now)
        self._store("Invoices", invoice, created=False)

    # --- credit notes and allocations ----------------------------------------

    def save_credit_note(self, body: dict[str, Any], update: bool) -> dict[str, Any]:
        """Create a credit note (ACCRECCREDIT or ACCPAYCREDIT) with RemainingCredit."""
        notes = self.tenant.collection("CreditNotes")
        old: dict[str, Any] = {}
        if update and body.get("CreditNoteID"):
            old = notes.get(str(body["CreditNoteID"]).lower()) or {}
            if not old:
                raise NotFound(f"credit note {body['CreditNoteID']}")
        problems = docs.Problems()
        kind = str(body.get("Type") or old.get("Type") or "")
        if kind not in CREDIT_TYPES:
            problems.append("Credit note Type must be ACCRECCREDIT or ACCPAYCREDIT")
        status = str(body.get("Status") or old.get("Status") or "DRAFT").upper()
        self._check_status(old.get("Status"), status, old, problems)
        contact = self._contact_for(body.get("Contact"), old.get("Contact"), problems)
        currency = str(body.get("CurrencyCode") or old.get("CurrencyCode") or "")
        currency = (currency or self.tenant.base_currency).upper()
        day = docs.day_of(body.get("Date"), problems, "Date") or _old_day(old, "Date")
        amount_types = str(
            body.get("LineAmountTypes") or old.get("LineAmountTypes") or "Exclusive"
        )
        lines, subtotal, tax, total = docs.line_items(
            body.get("LineItems", old.get("LineItems")),
            currency,
            amount_types,
            self.unitdp,
            self.ids.new,
            problems,
        )
        number = body.get("CreditNoteNumber", old.get("CreditNoteNumber"))
        if not number and kind == "ACCRECCREDIT":
            number = self.tenant.next_number("CN-")
        currency_rate = self._rate(body.get("CurrencyRate"), old, currency, problems)
        applied = Decimal(old.get("AppliedAmount", 0) or 0)
        if problems:
            raise ValidationError(list(problems))
        note: dict[str, Any] = {
            "CreditNoteID": old.get("CreditNoteID") or self.ids.new(),
            "CreditNoteNumber": str(number or ""),
            "Payments": old.get("Payments", []),
            "ID": old.get("CreditNoteID") or "",
            "CurrencyRate": currency_rate,
            "Type": kind,
            "Reference": str(body.get("Reference", old.get("Reference", ""))),
            "RemainingCredit": quantize(total - applied, currency),
            "Allocations": old.get("Allocations", []),
            "HasAttachments": False,
            "HasErrors": False,
            "Contact": contact,
        }
        note["ID"] = note["CreditNoteID"]
        docs.put_date(note, "Date", day or self.today())
        note["Status"] = status
        note["LineAmountTypes"] = amount_types
        note["LineItems"] = lines
        note["SubTotal"] = subtotal
        note["TotalTax"] = tax
        note["Total"] = total
        note["UpdatedDateUTC"] = docs.stamp(self.now)
        note["CurrencyCode"] = currency
        self._store("CreditNotes", note, created=not old)
        return note

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
                "Date": _ms(day),
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
                    "Date": _ms(day),
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

    # --- history ---------------------------------------------------------------

    def add_note(self, collection: str, object_id: str, details: str) -> dict[str, Any]:
        """Add a note to an object's history, as `PUT .../History` does."""
        if object_id.lower() not in self.tenant.collection(collection):
            raise NotFound(f"{collection} {object_id}")
        if not details.strip():
            raise ValidationError(["The Details field is required"])
        if len(details) > 2500:
            raise ValidationError(["Details must be 2500 characters or fewer"])
        return self._history(collection, object_id.lower(), "Note", details)

    def _history(
        self, collection: str, object_id: str, changes: str, details: str
    ) -> dict[str, Any]:
        record = {
            "Changes": changes,
            "DateUTCString": self.now.strftime("%Y-%m-%dT%H:%M:%S"),
            "DateUTC": docs.stamp(self.now),
            "User": self.user,
            "Details": details,
        }
        records = self.tenant.history.setdefault(object_id, [])
        self._history_lengths.setdefault(object_id, len(records))
        records.append(record)
        return record

    # --- shared ----------------------------------------------------------------

    def today(self) -> date:
        """Today in the organisation's time zone (Xero's default document date)."""
        zone = iana_zone(self.tenant.organisation.get("Timezone"))
        return self.now.astimezone(ZoneInfo(zone)).date()

    def _store(self, collection: str, doc: dict[str, Any], created: bool) -> None:
        key = ID_KEYS[collection]
        objects = self.tenant.collection(collection)
        if (collection, doc[key]) not in self._touched:
            self._touched.add((collection, doc[key]))
            self._undo.append((collection, doc[key], objects.get(doc[key])))
        objects[doc[key]] = doc
        event = "CREATE" if created else "UPDATE"
        if (collection, doc[key], "CREATE") not in self.changes:
            self.changes.append((collection, doc[key], event))
        logger.info(
            "xero sandbox %s tenant=%s %s=%s",
            event.lower(),
            self.tenant.id,
            key,
            doc[key],
        )


def _old_day(old: dict[str, Any], key: str) -> date | None:
    value = old.get(key)
    return docs.parse_date(value) if value else None


def _ms(day: date) -> str:
    return docs.to_ms_date(day)


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
