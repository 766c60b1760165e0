"""Routes of the Xero Accounting API 2.0 under `/api.xro/2.0`.

Every call needs a bearer token and the `xero-tenant-id` of a connected organisation,
counts against that tenant's rate limits, and is answered in Xero's envelope
(`Id`, `Status`, `ProviderName`, `DateTimeUTC`, then the collection).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from babel.numbers import get_currency_name
from flask import Blueprint, Response, current_app, g, request

from connectors.sandbox.server import apply_latency
from connectors.sandbox.xero import wire
from connectors.sandbox.xero.books import Books
from connectors.sandbox.xero.dates import to_ms_date
from connectors.sandbox.xero.errors import (
    BadRequest,
    NotFound,
    ProblemError,
    ValidationError,
    XeroError,
    forbidden,
    unauthorized,
)
from connectors.sandbox.xero.listing import (
    SELECTING,
    matching,
    modified_since,
    paginate,
    truthy,
)
from connectors.sandbox.xero.state import ID_KEYS, Tenant

if TYPE_CHECKING:
    from connectors.sandbox.xero.sandbox import XeroSandbox

logger = logging.getLogger(__name__)
accounting = Blueprint("xero_accounting", __name__, url_prefix="/api.xro/2.0")

# Which scopes let a call read or write each collection: the broad scope, and the
# granular ones Xero requires of apps created from 2026-03-02 (LEDGER-APIS.md §4).
_READ_SCOPES = {
    "Invoices": ("accounting.transactions", "accounting.invoices"),
    "CreditNotes": ("accounting.transactions", "accounting.invoices"),
    "Payments": ("accounting.transactions", "accounting.payments"),
    "Overpayments": ("accounting.transactions", "accounting.payments"),
    "Prepayments": ("accounting.transactions", "accounting.payments"),
    "Contacts": ("accounting.contacts",),
    "Organisation": ("accounting.settings",),
    "Currencies": ("accounting.settings",),
}
_EXTRA_ID_LOOKUPS = {"Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber"}


def _sandbox() -> XeroSandbox:
    return current_app.extensions["xero_sandbox"]  # type: ignore[no-any-return]


@accounting.before_request
def _admit() -> Response | None:
    """Authenticate, find the tenant, count the call; refuse as Xero would."""
    sandbox = _sandbox()
    now = sandbox.now()
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    with sandbox.lock:
        if not token or token in sandbox.faults.revoked:
            raise unauthorized("AuthenticationUnsuccessful")
        grant = sandbox.identity.check_access(token, now)
        # NOTE: a missing, wrong or disconnected xero-tenant-id gets 403 Forbidden
        # "AuthenticationUnsuccessful" at Xero (xero-node#432, nango#203,
        # laravel-xero#40 quote the body).
        tenant_id = (request.headers.get("xero-tenant-id") or "").strip().lower()
        if (
            tenant_id not in sandbox.tenants
            or tenant_id not in sandbox.identity.connections
        ):
            raise forbidden()
        _check_scope(grant["scope"])
    g.tenant = tenant_id
    refusal = sandbox.limits.enter(tenant_id, now, enforce=sandbox.faults.rate_limits)
    if refusal is not None:
        logger.info(
            "xero sandbox 429 tenant=%s problem=%s retry_after=%s",
            tenant_id,
            refusal.problem,
            refusal.retry_after,
        )
        # NOTE: the body of Xero's 429 is unverified; clients act on the status and on
        # Retry-After and X-Rate-Limit-Problem (xero-python's RateLimitException does).
        response = _problem(
            ProblemError(
                429, "Too Many Requests", f"Rate limit exceeded: {refusal.problem}"
            )
        )
        response.headers["Retry-After"] = str(refusal.retry_after)
        response.headers["X-Rate-Limit-Problem"] = refusal.problem
        return response
    g.admitted = True
    apply_latency(sandbox.faults)
    if sandbox.faults.roll_error():
        return _problem(ProblemError(500, "Internal Server Error", "An error occurred"))
    return None


def _check_scope(scope: list[str]) -> None:
    collection = request.path.removeprefix("/api.xro/2.0/").split("/")[0]
    allowed = _READ_SCOPES.get(collection)
    if allowed is None:
        return
    reading = request.method == "GET"
    for name in allowed:
        if name in scope or (reading and f"{name}.read" in scope):
            return
    # NOTE: a token without the scope gets 401 "AuthorizationUnsuccessful" at Xero
    # (Xero-NetStandard#298, a token lacking the assets scope).
    raise unauthorized("AuthorizationUnsuccessful")


@accounting.after_request
def _limits_headers(response: Response) -> Response:
    sandbox = _sandbox()
    tenant = getattr(g, "tenant", None)
    if tenant:
        response.headers.update(sandbox.limits.headers(tenant, sandbox.now()))
        if getattr(g, "admitted", False):
            sandbox.limits.leave(tenant)
            g.admitted = False
    return response


@accounting.errorhandler(XeroError)
def _xero_error(exc: XeroError) -> Response:
    if isinstance(exc, NotFound):
        return Response(exc.body(), status=404, mimetype="text/html")
    return _problem(exc)


def _problem(exc: XeroError) -> Response:
    return Response(
        wire.dumps(exc.body()), status=exc.status, mimetype="application/json"
    )


def _envelope(
    key: str, items: Any, pagination: dict[str, int] | None = None
) -> Response:
    sandbox = _sandbox()
    body: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": sandbox.client.name,
        "DateTimeUTC": to_ms_date(sandbox.now(), offset=False),
    }
    if pagination is not None:
        body["pagination"] = pagination
    body[key] = items
    return Response(
        wire.dumps(body), status=200, content_type="application/json; charset=utf-8"
    )


def _tenant() -> Tenant:
    return _sandbox().tenants[g.tenant]


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


# --- reads -------------------------------------------------------------------------


def _list(collection: str) -> Response:
    sandbox = _sandbox()
    since = modified_since(request.headers.get("If-Modified-Since"))
    with sandbox.lock:
        tenant = _tenant()
        # Paging a big book re-runs the same filter for every page; the selection is
        # kept until the tenant's next write (its revision) so each page is a slice.
        key = (
            collection,
            tenant.revision,
            since,
            tuple((name, request.args.get(name)) for name in SELECTING),
        )
        chosen = sandbox.selections.get((tenant.id, key))
        if chosen is None:
            objects = tenant.collection(collection).values()
            chosen = matching(collection, objects, request.args, since)
            sandbox.remember_selection((tenant.id, key), chosen)
        page, pagination = paginate(collection, chosen, request.args)
        return _envelope(collection, page, pagination)


def _find(collection: str, object_id: str) -> dict[str, Any]:
    objects = _tenant().collection(collection)
    found = objects.get(object_id.lower())
    if found is None and collection in _EXTRA_ID_LOOKUPS:
        key = _EXTRA_ID_LOOKUPS[collection]
        found = next((o for o in objects.values() if o.get(key) == object_id), None)
    if found is None:
        raise NotFound(f"{collection} {object_id}")
    return found


def _one(collection: str, object_id: str) -> Response:
    with _sandbox().lock:
        return _envelope(collection, [_find(collection, object_id)])


# --- writes ------------------------------------------------------------------------


def _write(collection: str, update: bool, object_id: str | None = None) -> Response:
    """PUT creates, POST creates or updates; both take a batch."""
    sandbox = _sandbox()
    key = request.headers.get("Idempotency-Key")
    replay_key = f"{request.method} {request.path} {key}" if key else None
    body = _body()
    with sandbox.lock:
        tenant = _tenant()
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
    return _envelope(collection, results)


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


# --- routes ------------------------------------------------------------------------

# TODO: Accounts, Items, BatchPayments, Attachments, OnlineInvoice and the PDF
# endpoints are not served (404); a client using them cannot be tried here yet.

for _name in (
    "Invoices",
    "Contacts",
    "Payments",
    "CreditNotes",
    "Overpayments",
    "Prepayments",
):

    def _bind(name: str) -> None:
        writable = name in ("Invoices", "Contacts", "Payments", "CreditNotes")

        def list_view() -> Response:
            if request.method == "GET":
                return _list(name)
            return _write(name, update=request.method == "POST")

        def one_view(object_id: str) -> Response:
            if request.method == "GET":
                return _one(name, object_id)
            return _write(name, update=True, object_id=object_id)

        methods = ["GET", "PUT", "POST"] if writable else ["GET"]
        accounting.add_url_rule(f"/{name}", f"list_{name}", list_view, methods=methods)
        one_methods = ["GET", "POST"] if writable else ["GET"]
        accounting.add_url_rule(
            f"/{name}/<object_id>", f"one_{name}", one_view, methods=one_methods
        )
        accounting.add_url_rule(
            f"/{name}/<object_id>/History",
            f"history_{name}",
            lambda object_id: _history(name, object_id),
            methods=["GET", "PUT"],
        )
        if name in ("CreditNotes", "Overpayments", "Prepayments"):
            accounting.add_url_rule(
                f"/{name}/<object_id>/Allocations",
                f"allocations_{name}",
                lambda object_id: _allocate(name, object_id),
                methods=["PUT"],
            )

    _bind(_name)


def _history(collection: str, object_id: str) -> Response:
    sandbox = _sandbox()
    with sandbox.lock:
        tenant = _tenant()
        found = _find(collection, object_id)
        key = found[ID_KEYS[collection]]
        if request.method == "GET":
            return _envelope("HistoryRecords", list(tenant.history.get(key, [])))
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
        return _envelope("HistoryRecords", made)


def _allocate(collection: str, object_id: str) -> Response:
    sandbox = _sandbox()
    body = _body()
    with sandbox.lock:
        tenant = _tenant()
        books = Books(tenant, sandbox.now(), sandbox.ids, sandbox.client.name)
        found = _find(collection, object_id)
        made = books.allocate(collection, found[ID_KEYS[collection]], body)
        sandbox.publish(tenant.id, books.changes)
        return _envelope("Allocations", made)


@accounting.get("/Organisation")
def organisation() -> Response:
    with _sandbox().lock:
        return _envelope("Organisations", [_tenant().organisation])


@accounting.get("/Currencies")
def currencies() -> Response:
    with _sandbox().lock:
        tenant = _tenant()
        codes = [
            tenant.base_currency,
            *sorted(c for c in tenant.rates if c != tenant.base_currency),
        ]
    rows = [
        {"Code": c, "Description": get_currency_name(c, locale="en")} for c in codes
    ]
    return _envelope("Currencies", rows)
