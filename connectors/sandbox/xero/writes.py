"""Writes through the Accounting API: batches of creates and updates (with Xero's
summarizeErrors and Idempotency-Key), history notes and allocations."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import Response, request

from connectors.sandbox.xero import wire
from connectors.sandbox.xero.books import Books
from connectors.sandbox.xero.errors import BadRequest, ValidationError
from connectors.sandbox.xero.listing import truthy
from connectors.sandbox.xero.replies import (
    current_sandbox,
    current_tenant,
    envelope,
    find,
)
from connectors.sandbox.xero.state import ID_KEYS, Tenant

if TYPE_CHECKING:
    from connectors.sandbox.xero.sandbox import XeroSandbox

logger = logging.getLogger(__name__)


def _body() -> Any:
    try:
        return wire.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise BadRequest("The request body is not valid JSON") from exc


def _elements(body: Any, key: str) -> list[dict[str, Any]]:
    """The objects of a write: `{"Invoices":[...]}` or one bare object."""
    if isinstance(body, dict) and isinstance(body.get(key), list):
        items = body[key]
    elif isinstance(body, dict):
        items = [body]
    else:
        raise BadRequest(f"The request body must hold {key}")
    if not all(isinstance(i, dict) for i in items):
        raise BadRequest(f"Each of {key} must be an object")
    return items


def write(collection: str, update: bool, object_id: str | None = None) -> Response:
    """PUT creates, POST creates or updates; both take a batch."""
    sandbox = current_sandbox()
    key = request.headers.get("Idempotency-Key")
    replay_key = f"{request.method} {request.path} {key}" if key else None
    body = _body()
    with sandbox.lock:
        tenant = current_tenant()
        if replay_key and replay_key in tenant.replies:
            status, text = tenant.replies[replay_key]
            logger.info(
                "xero sandbox idempotent replay tenant=%s key=%s", tenant.id, key
            )
            return Response(
                text, status=status, content_type="application/json; charset=utf-8"
            )
        response = _apply(sandbox, tenant, collection, body, update, object_id)
        if replay_key and len(key or "") <= 128:
            tenant.replies[replay_key] = (
                response.status_code,
                response.get_data(as_text=True),
            )
        return response


def _apply(
    sandbox: XeroSandbox,
    tenant: Tenant,
    collection: str,
    body: Any,
    update: bool,
    object_id: str | None,
) -> Response:
    items = _elements(body, collection)
    unitdp = 4 if request.args.get("unitdp") == "4" else 2
    books = Books(tenant, sandbox.now(), sandbox.ids, sandbox.client.name, unitdp)
    summarize = request.args.get("summarizeErrors") is None or truthy(
        request.args.get("summarizeErrors")
    )
    results: list[dict[str, Any]] = []
    failed = False
    for item in items:
        if object_id is not None:
            item = {**item, ID_KEYS[collection]: object_id}
        try:
            saved = _save(books, collection, item, update)
            results.append(
                {**saved, "StatusAttributeString": "OK"} if not summarize else saved
            )
        except ValidationError as exc:
            failed = True
            errors = [{"Message": m} for m in exc.messages]
            # The refused object is echoed back; nulls are dropped as Xero's
            # serializer does (it never writes a null field).
            echo = {k: v for k, v in item.items() if v is not None}
            results.append(
                {
                    **echo,
                    "HasErrors": True,
                    "StatusAttributeString": "ERROR",
                    "ValidationErrors": errors,
                }
                if not summarize
                else {**echo, "ValidationErrors": errors}
            )
    if failed and summarize:
        books.rollback()
        raise ValidationError(
            [m["Message"] for r in results for m in r.get("ValidationErrors", [])],
            elements=[r for r in results if r.get("ValidationErrors")],
        )
    sandbox.publish(tenant.id, books.changes)
    return envelope(collection, results)


def _save(
    books: Books, collection: str, item: dict[str, Any], update: bool
) -> dict[str, Any]:
    if collection == "Invoices":
        return books.save_invoice(item, update)
    if collection == "Contacts":
        return books.save_contact(item, update)
    if collection == "CreditNotes":
        return books.save_credit_note(item, update)
    if collection == "Payments":
        if update and item.get("PaymentID"):
            if str(item.get("Status", "")).upper() != "DELETED":
                raise ValidationError(["A payment can only be deleted, not changed"])
            return books.delete_payment(str(item["PaymentID"]))
        return books.create_payment(item)
    raise BadRequest(f"{collection} cannot be written through the sandbox")


def history(collection: str, object_id: str) -> Response:
    """GET an object's history records, or PUT notes onto it."""
    sandbox = current_sandbox()
    with sandbox.lock:
        tenant = current_tenant()
        found = find(collection, object_id)
        key = found[ID_KEYS[collection]]
        if request.method == "GET":
            return envelope("HistoryRecords", list(tenant.history.get(key, [])))
        books = Books(tenant, sandbox.now(), sandbox.ids, sandbox.client.name)
        made = []
        for item in _elements(_body(), "HistoryRecords"):
            record = books.add_note(collection, key, str(item.get("Details") or ""))
            made.append(
                {
                    "DateUTCString": record["DateUTCString"],
                    "DateUTC": record["DateUTC"],
                    "Details": record["Details"],
                    "ValidationErrors": [],
                }
            )
        return envelope("HistoryRecords", made)


def allocate(collection: str, object_id: str) -> Response:
    """PUT allocations of a credit note, overpayment or prepayment to invoices."""
    sandbox = current_sandbox()
    body = _body()
    with sandbox.lock:
        tenant = current_tenant()
        books = Books(tenant, sandbox.now(), sandbox.ids, sandbox.client.name)
        found = find(collection, object_id)
        made = books.allocate(collection, found[ID_KEYS[collection]], body)
        sandbox.publish(tenant.id, books.changes)
        return envelope("Allocations", made)
