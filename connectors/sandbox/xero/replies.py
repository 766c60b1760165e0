"""What every Accounting API answer shares: Xero's envelope, its error bodies, and
finding the request's sandbox, tenant and objects."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, g

from connectors.sandbox.xero import wire
from connectors.sandbox.xero.dates import to_ms_date
from connectors.sandbox.xero.errors import NotFound, XeroError
from connectors.sandbox.xero.state import Tenant

if TYPE_CHECKING:
    from connectors.sandbox.xero.sandbox import XeroSandbox

# Collections whose single-object GET also takes the document number.
_EXTRA_ID_LOOKUPS = {"Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber"}


def current_sandbox() -> XeroSandbox:
    """The sandbox this app serves."""
    return current_app.extensions["xero_sandbox"]  # type: ignore[no-any-return]


def problem(exc: XeroError) -> Response:
    """An error in its Xero shape, as JSON."""
    return Response(
        wire.dumps(exc.body()), status=exc.status, mimetype="application/json"
    )


def envelope(
    key: str, items: Any, pagination: dict[str, int] | None = None
) -> Response:
    """A 200 answer in Xero's envelope: Id, Status, ProviderName, DateTimeUTC."""
    sandbox = current_sandbox()
    body: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": sandbox.client.name,
        "DateTimeUTC": to_ms_date(sandbox.now(), offset=False),
    }
    if pagination is not None:
        body["pagination"] = pagination
    body[key] = items
    response = Response(
        wire.dumps(body), status=200, content_type="application/json; charset=utf-8"
    )
    # Xero repeats the body's Id in this header (seen in the recorded cassettes);
    # support asks for it, so clients log it.
    response.headers["Xero-Correlation-Id"] = body["Id"]
    return response


def current_tenant() -> Tenant:
    """The tenant the request named in xero-tenant-id (checked on admission)."""
    return current_sandbox().tenants[g.tenant]


def find(collection: str, object_id: str) -> dict[str, Any]:
    """An object by id (or document number), or NotFound."""
    objects = current_tenant().collection(collection)
    found = objects.get(object_id.lower())
    if found is None and collection in _EXTRA_ID_LOOKUPS:
        key = _EXTRA_ID_LOOKUPS[collection]
        found = next((o for o in objects.values() if o.get(key) == object_id), None)
    if found is None:
        raise NotFound(f"{collection} {object_id}")
    return found
