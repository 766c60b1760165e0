"""Routes of the Xero Accounting API 2.0 under `/api.xro/2.0`.

Every call needs a bearer token and the `xero-tenant-id` of a connected organisation,
counts against that tenant's rate limits, and is answered in Xero's envelope
(`Id`, `Status`, `ProviderName`, `DateTimeUTC`, then the collection).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from babel.numbers import get_currency_name
from flask import Blueprint, Response, g, request

from connectors.sandbox.server import apply_latency
from connectors.sandbox.xero.errors import (
    NotFound,
    ProblemError,
    XeroError,
    forbidden,
    unauthorized,
)
from connectors.sandbox.xero.listing import (
    SELECTING,
    matching,
    modified_since,
    paginate,
)
from connectors.sandbox.xero.replies import (
    current_sandbox,
    current_tenant,
    envelope,
    find,
    problem,
)
from connectors.sandbox.xero.writes import allocate, history, write

if TYPE_CHECKING:
    pass

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


@accounting.before_request
def _admit() -> Response | None:
    """Authenticate, find the tenant, count the call; refuse as Xero would."""
    sandbox = current_sandbox()
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
        response = problem(
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
        return problem(ProblemError(500, "Internal Server Error", "An error occurred"))
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
    sandbox = current_sandbox()
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
    return problem(exc)


# --- reads -------------------------------------------------------------------------


def _list(collection: str) -> Response:
    sandbox = current_sandbox()
    since = modified_since(request.headers.get("If-Modified-Since"))
    with sandbox.lock:
        tenant = current_tenant()
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
        return envelope(collection, page, pagination)


def _one(collection: str, object_id: str) -> Response:
    with current_sandbox().lock:
        return envelope(collection, [find(collection, object_id)])


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
            return write(name, update=request.method == "POST")

        def one_view(object_id: str) -> Response:
            if request.method == "GET":
                return _one(name, object_id)
            return write(name, update=True, object_id=object_id)

        methods = ["GET", "PUT", "POST"] if writable else ["GET"]
        accounting.add_url_rule(f"/{name}", f"list_{name}", list_view, methods=methods)
        one_methods = ["GET", "POST"] if writable else ["GET"]
        accounting.add_url_rule(
            f"/{name}/<object_id>", f"one_{name}", one_view, methods=one_methods
        )
        accounting.add_url_rule(
            f"/{name}/<object_id>/History",
            f"history_{name}",
            lambda object_id: history(name, object_id),
            methods=["GET", "PUT"],
        )
        if name in ("CreditNotes", "Overpayments", "Prepayments"):
            accounting.add_url_rule(
                f"/{name}/<object_id>/Allocations",
                f"allocations_{name}",
                lambda object_id: allocate(name, object_id),
                methods=["PUT"],
            )

    _bind(_name)


@accounting.get("/Organisation")
def organisation() -> Response:
    with current_sandbox().lock:
        return envelope("Organisations", [current_tenant().organisation])


@accounting.get("/Currencies")
def currencies() -> Response:
    with current_sandbox().lock:
        tenant = current_tenant()
        codes = [
            tenant.base_currency,
            *sorted(c for c in tenant.rates if c != tenant.base_currency),
        ]
    rows = [
        {"Code": c, "Description": get_currency_name(c, locale="en")} for c in codes
    ]
    return envelope("Currencies", rows)
