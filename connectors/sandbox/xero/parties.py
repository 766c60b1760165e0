"""Neutral company and customer records as Xero's Organisation and Contact objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.records import Company, Customer
from connectors.sandbox.xero.dates import to_ms_date
from connectors.sandbox.xero.zones import xero_zone


def organisation(company: Company, created: datetime) -> dict[str, Any]:
    """The Organisation object for a generated company."""
    country = (company.country or "").upper()
    return {
        "Name": company.name,
        "LegalName": company.name,
        "PaysTax": True,
        "Version": country if country in ("AU", "NZ", "UK", "US") else "GLOBAL",
        "OrganisationType": "COMPANY",
        "BaseCurrency": company.home_currency,
        "CountryCode": country or "US",
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 12,
        "SalesTaxBasis": "ACCRUALS",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": to_ms_date(created, offset=False),
        "OrganisationEntityType": "COMPANY",
        "Timezone": xero_zone(company.timezone),
        "ShortCode": "!" + company.id.replace("-", "")[:5],
        "OrganisationID": company.id,
        "Edition": "BUSINESS",
        "Class": "STANDARD",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def contact(customer: Customer, now: datetime) -> dict[str, Any]:
    """A Contact for a customer; extra e-mail addresses become contact persons."""
    first, _, last = (customer.contact_name or "").partition(" ")
    doc: dict[str, Any] = {
        "ContactID": customer.ledger_id,
        "ContactStatus": "ACTIVE"
        if customer.active and not customer.deleted
        else "ARCHIVED",
        "Name": customer.name,
        "FirstName": first,
        "LastName": last,
        "EmailAddress": customer.emails[0] if customer.emails else "",
        "Addresses": _addresses(customer),
        "Phones": [
            {"PhoneType": "DEFAULT", "PhoneNumber": phone}
            for phone in customer.phones[:1]
        ]
        + [
            {"PhoneType": "MOBILE", "PhoneNumber": phone}
            for phone in customer.phones[1:2]
        ],
        "UpdatedDateUTC": to_ms_date(customer.last_modified or now),
        "ContactGroups": [],
        "IsSupplier": False,
        "IsCustomer": True,
        "ContactPersons": [
            {
                "FirstName": "",
                "LastName": "",
                "EmailAddress": e,
                "IncludeInEmails": True,
            }
            for e in customer.emails[1:]
        ],
        "HasAttachments": False,
        "HasValidationErrors": False,
    }
    if customer.currency:
        doc["DefaultCurrency"] = customer.currency
    # TODO: no Balances block (AccountsReceivable Outstanding/Overdue) on contacts;
    # a client reading a customer's balance from the contact gets nothing.
    return doc


def _addresses(customer: Customer) -> list[dict[str, Any]]:
    address = customer.address
    if address is None:
        return []
    row: dict[str, Any] = {"AddressType": "POBOX"}
    for i, line in enumerate(address.lines[:4], start=1):
        row[f"AddressLine{i}"] = line
    row.update(
        {
            "City": address.city or "",
            "Region": address.region or "",
            "PostalCode": address.postal_code or "",
            "Country": address.country or "",
        }
    )
    return [row]
