"""Reading collections the way Xero's GET endpoints do: filters, order, paging.

Query parameters per the Xero Accounting OpenAPI (`IDs`, `Statuses`, `ContactIDs`,
`InvoiceNumbers`, `where`, `order`, `page`, `pageSize`, `searchTerm`,
`includeArchived`, `summaryOnly`) and the `If-Modified-Since` header, which Xero
expects as an ISO UTC timestamp (pyxero#261 quoting Xero's documentation).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.sandbox.xero.dates import DateFormatError, is_ms_date, parse_instant
from connectors.sandbox.xero.documents import strip_for_list
from connectors.sandbox.xero.errors import BadRequest
from connectors.sandbox.xero.where import compile_where

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Which csv query parameter filters which field, per collection.
_LIST_FILTERS: dict[str, dict[str, str]] = {
    "Invoices": {
        "IDs": "InvoiceID",
        "InvoiceNumbers": "InvoiceNumber",
        "ContactIDs": "Contact.ContactID",
        "Statuses": "Status",
    },
    "Contacts": {"IDs": "ContactID"},
    "CreditNotes": {},
    "Payments": {},
    "Overpayments": {},
    "Prepayments": {},
}
_SEARCHED = {
    "Invoices": ("InvoiceNumber", "Reference", "Contact.Name"),
    "Contacts": ("Name", "FirstName", "LastName", "EmailAddress", "AccountNumber"),
}


def truthy(value: str | None) -> bool:
    """A query boolean; the SDK sends Python's `True`/`False`, so ignore case."""
    return (value or "").strip().lower() == "true"


def modified_since(header: str | None) -> datetime | None:
    """The `If-Modified-Since` instant, or None when the header is absent."""
    if not header:
        return None
    try:
        return parse_instant(header)
    except DateFormatError as exc:
        raise BadRequest(
            f"If-Modified-Since must be an ISO UTC timestamp, got {header!r}"
        ) from exc


# Query parameters that choose and order objects (the rest only cut pages or trim).
SELECTING = (
    "IDs",
    "InvoiceNumbers",
    "ContactIDs",
    "Statuses",
    "includeArchived",
    "searchTerm",
    "where",
    "order",
)


def select(
    collection: str,
    objects: Iterable[dict[str, Any]],
    args: Mapping[str, str],
    since: datetime | None,
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The objects a list GET answers, and its `pagination` object when paged."""
    return paginate(collection, matching(collection, objects, args, since), args)


def matching(
    collection: str,
    objects: Iterable[dict[str, Any]],
    args: Mapping[str, str],
    since: datetime | None,
) -> list[dict[str, Any]]:
    """Every object a list GET selects, in its order (before paging)."""
    chosen = list(objects)
    for param, path in _LIST_FILTERS.get(collection, {}).items():
        wanted = _csv(args.get(param))
        if wanted:
            lowered = {w.lower() for w in wanted}
            chosen = [o for o in chosen if str(_get(o, path) or "").lower() in lowered]
    if collection == "Contacts" and not truthy(args.get("includeArchived")):
        chosen = [o for o in chosen if o.get("ContactStatus", "ACTIVE") != "ARCHIVED"]
    if since is not None:
        chosen = [o for o in chosen if _updated(o) > since]
    term = (args.get("searchTerm") or "").strip().lower()
    if term:
        fields = _SEARCHED.get(collection, ())
        chosen = [
            o
            for o in chosen
            if any(term in str(_get(o, f) or "").lower() for f in fields)
        ]
    if args.get("where"):
        keep = compile_where(args["where"])
        chosen = [o for o in chosen if keep(o)]
    if args.get("order"):
        chosen = _order(chosen, args["order"])
    # NOTE: without `order`, objects come in the order they were stored (Xero does
    # not document its default order); a client pages safely either way.
    return chosen


def paginate(
    collection: str, chosen: list[dict[str, Any]], args: Mapping[str, str]
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """One page of `chosen` when `page` is asked for, and the `pagination` object."""
    pagination = None
    if args.get("page"):
        page = _positive(args["page"], "page")
        size = _positive(args.get("pageSize") or str(DEFAULT_PAGE_SIZE), "pageSize")
        if size > MAX_PAGE_SIZE:
            # NOTE: Xero documents pageSize up to 1000 (LEDGER-APIS.md section 4); what
            # it does above that is unverified, so the sandbox refuses it loudly.
            raise BadRequest(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
        total = len(chosen)
        chosen = chosen[(page - 1) * size : page * size]
        pagination = {
            "page": page,
            "pageSize": size,
            "pageCount": math.ceil(total / size),
            "itemCount": total,
        }
    # TODO: createdByMyApp and includeArchived (on invoices) are accepted and
    # ignored; every document counts as created by the one app the sandbox knows.
    summary = truthy(args.get("summaryOnly"))
    if collection == "Invoices" and (pagination is None or summary):
        chosen = [strip_for_list(o, summary) for o in chosen]
    return chosen, pagination


def _csv(value: str | None) -> list[str]:
    if not value:
        return []
    return [v.strip().strip('"') for v in value.split(",") if v.strip()]


def _get(obj: dict[str, Any], path: str) -> Any:
    value: Any = obj
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _updated(obj: dict[str, Any]) -> datetime:
    stamp = obj.get("UpdatedDateUTC")
    return parse_instant(stamp) if stamp else datetime.min.replace(tzinfo=UTC)


def _positive(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise BadRequest(f"{name} must be a whole number") from exc
    if number < 1:
        raise BadRequest(f"{name} must be 1 or more")
    return number


def _order(objects: list[dict[str, Any]], spec: str) -> list[dict[str, Any]]:
    # Sort by the last key first so earlier keys win (a stable multi-key sort).
    for part in reversed([p.strip() for p in spec.split(",") if p.strip()]):
        words = part.split()
        field = words[0]
        descending = len(words) > 1 and words[1].upper() == "DESC"
        objects = sorted(
            objects, key=lambda o: _sort_key(_get(o, field)), reverse=descending
        )
    return objects


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if is_ms_date(value):
        return (1, parse_instant(value).timestamp())
    if isinstance(value, int | Decimal):
        return (2, Decimal(value))
    return (3, str(value).lower())
