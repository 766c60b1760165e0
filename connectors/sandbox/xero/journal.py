"""The base of the Xero sandbox's bookkeeping: one request's writes to one tenant.

A Journal records each object it stores (for the webhook sender, in `changes`) and
what it looked like before, so a batch Xero refuses as a whole can be rolled back.
Contacts and history notes live here; documents and settlements build on it.
"""

from __future__ import annotations

import copy
import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.sandbox.xero import documents as docs
from connectors.sandbox.xero.errors import NotFound, ValidationError
from connectors.sandbox.xero.state import ID_KEYS, Ids, Tenant
from connectors.sandbox.xero.zones import iana_zone

logger = logging.getLogger(__name__)


class Journal:
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
        self.tenant.revision += 1
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
        self.tenant.revision += 1
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


def old_day(old: dict[str, Any], key: str) -> date | None:
    value = old.get(key)
    return docs.parse_date(value) if value else None


def ms(day: date) -> str:
    return docs.to_ms_date(day)
