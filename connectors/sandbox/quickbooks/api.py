"""The QuickBooks Online Accounting API v3 at `/v3/company/<realmId>/...`.

Query (GET `?query=` and POST `application/text`), read, create, full and sparse
update, `?operation=delete`, `?operation=void` (and `operation=update&include=void`
for payments), `/cdc`, `/batch`, `/exchangerate`. Any `minorversion` is accepted and
answered as 75. Errors come back as the SDKs expect them: JSON Fault bodies, the
lowercase 401 body, the XML 429.
"""

from __future__ import annotations

import copy
import logging
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, g, request

from connectors.sandbox.quickbooks import books, wire
from connectors.sandbox.quickbooks.cdc import change_feed
from connectors.sandbox.quickbooks.entities import BY_SEGMENT, WRITABLE
from connectors.sandbox.quickbooks.queries import run_query
from connectors.sandbox.quickbooks.state import Change, Realm
from connectors.sandbox.quickbooks.wire import QboFault

if TYPE_CHECKING:
    from connectors.sandbox.quickbooks.sandbox import QuickBooksSandbox

logger = logging.getLogger(__name__)

# TODO: reports, PDFs (/<entity>/<id>/pdf), /send and multipart /upload are not
# served; a client calling them gets a 404.
BATCH_LIMIT = 30  # python-quickbooks chunks at 30 (batch.py); Intuit's limits page too


def json_response(body: Any, status: int = 200) -> Response:
    response = Response(
        wire.dumps(body), status=status, content_type="application/json;charset=UTF-8"
    )
    response.headers["intuit_tid"] = str(uuid.uuid4())
    return response


def blueprint(sandbox: QuickBooksSandbox) -> Blueprint:
    """Routes under /v3/company/<realm>."""
    bp = Blueprint("qbo_api", __name__, url_prefix="/v3/company/<realm_id>")

    @bp.errorhandler(QboFault)
    def fault(exc: QboFault) -> Response:
        realm = sandbox.realms.get(g.get("tenant") or "")
        time = realm.time() if realm else wire.response_time(sandbox.now(), "UTC")
        return json_response(exc.body(time), exc.status)

    @bp.route("/query", methods=["GET", "POST"])
    def query(realm_id: str) -> Response:
        realm = sandbox.realm(realm_id)
        if request.method == "GET":
            text = request.args.get("query", "")
        else:
            text = _utf8(request.get_data())
        return json_response(run_query(realm, text, sandbox.quirks.page_overrun))

    @bp.get("/cdc")
    def cdc(realm_id: str) -> Response:
        realm = sandbox.realm(realm_id)
        body = change_feed(
            realm,
            request.args.get("entities", ""),
            request.args.get("changedSince", ""),
        )
        return json_response(body)

    @bp.get("/exchangerate")
    def exchange_rate(realm_id: str) -> Response:
        realm = sandbox.realm(realm_id)
        return json_response(_exchange_rate(realm))

    @bp.get("/preferences")
    def preferences(realm_id: str) -> Response:
        realm = sandbox.realm(realm_id)
        return json_response({"Preferences": realm.preferences, "time": realm.time()})

    @bp.get("/<segment>/<object_id>")
    def read(realm_id: str, segment: str, object_id: str) -> Response:
        realm = sandbox.realm(realm_id)
        entity = _entity(segment)
        if entity == "CompanyInfo":
            object_id = "1" if object_id == realm.realm_id else object_id
        obj = realm.get(entity, object_id)
        if obj is None:
            raise wire.not_found(entity, object_id)
        return json_response({entity: obj, "time": realm.time()})

    @bp.post("/batch")
    def batch(realm_id: str) -> Response:
        realm = sandbox.realm(realm_id)
        return json_response(_batch(sandbox, realm, _body()))

    @bp.post("/<segment>")
    def write(realm_id: str, segment: str) -> Response:
        realm = sandbox.realm(realm_id)
        entity = _entity(segment)
        if entity not in WRITABLE:
            raise QboFault(
                "500",
                "Unsupported Operation",
                f"Operation Create is not supported for {entity}",
            )
        operation = request.args.get("operation", "")
        include = request.args.get("include", "")
        request_id = request.args.get("requestid", "")
        # NOTE: `requestid` makes a retried write safe: Intuit answers a repeat with
        # the first answer instead of writing twice (python-quickbooks passes it).
        key = (entity, request_id)
        if request_id and key in realm.answered:
            return json_response(realm.answered[key])
        obj, changes = _write(realm, entity, _body(), operation, include)
        sandbox.notify(changes)
        body = {entity: obj, "time": realm.time()}
        if request_id:
            realm.answered[key] = copy.deepcopy(body)
        return json_response(body)

    return bp


def _entity(segment: str) -> str:
    entity = BY_SEGMENT.get(segment)
    if entity is None:
        # NOTE: "URIs are case sensitive" (Intuit REST quick reference); the SDK
        # lowercases entity names, so only the lowercase form is served.
        raise QboFault(
            "500", "Unsupported Operation", f"Operation {segment} is not supported"
        )
    return entity


def _utf8(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QboFault(
            "500",
            "Unsupported Operation",
            f"Request body is not valid UTF-8 at byte {exc.start}",
        ) from exc
    if "\x00" in text:
        raise wire.invalid("Request body holds a NUL character")
    return text


def _body() -> dict[str, Any]:
    text = _utf8(request.get_data())
    try:
        body = wire.loads(text)
    except ValueError as exc:
        raise QboFault(
            "2010",
            "Request has invalid or unsupported property",
            f"Unable to parse the request body as JSON: {exc}",
        ) from exc
    if not isinstance(body, dict):
        raise wire.invalid("The request body must be one JSON object")
    return body


def _write(
    realm: Realm, entity: str, body: dict[str, Any], operation: str, include: str
) -> books.Result:
    if operation == "delete":
        return books.delete(realm, entity, body)
    if operation == "void" or (operation == "update" and include == "void"):
        return books.void(realm, entity, body)
    if operation not in ("", "update", "create"):
        raise QboFault(
            "500", "Unsupported Operation", f"Operation {operation} is not supported"
        )
    if body.get("Id"):
        return books.update(realm, entity, body, sparse=bool(body.get("sparse")))
    return books.create(realm, entity, body)


def _exchange_rate(realm: Realm) -> dict[str, Any]:
    source = request.args.get("sourcecurrencycode", "").upper()
    if not source:
        raise wire.required("sourcecurrencycode")
    if not realm.multi_currency:
        raise wire.business("Multicurrency is not enabled for this company")
    as_of_text = request.args.get("asofdate") or realm.today().isoformat()
    try:
        as_of = date.fromisoformat(as_of_text)
    except ValueError as exc:
        raise wire.invalid(
            f"asofdate {as_of_text!r} is not a date", "asofdate"
        ) from exc
    rate = realm.rate(source, as_of)
    if rate is None:
        raise wire.not_found("ExchangeRate", f"{source}/{as_of_text}")
    return {
        "ExchangeRate": {
            "SourceCurrencyCode": source,
            "TargetCurrencyCode": realm.home_currency,
            "Rate": rate,
            "AsOfDate": as_of.isoformat(),
            "domain": "QBO",
            "sparse": False,
            "SyncToken": "0",
            "MetaData": {"LastUpdatedTime": realm.stamp()},
        },
        "time": realm.time(),
    }


def _batch(
    sandbox: QuickBooksSandbox, realm: Realm, body: dict[str, Any]
) -> dict[str, Any]:
    items = body.get("BatchItemRequest")
    if not isinstance(items, list) or not items:
        raise wire.required("BatchItemRequest")
    if len(items) > BATCH_LIMIT:
        raise wire.invalid(
            f"Number of items in a batch exceeds the limit of {BATCH_LIMIT}",
            "BatchItemRequest",
        )
    answers = []
    for item in items:
        bid = str(item.get("bId", ""))
        try:
            answers.append({"bId": bid, **_batch_item(sandbox, realm, item)})
        except QboFault as exc:
            # NOTE: a failed item answers inside the 200, the others still run.
            answers.append(
                {"bId": bid, "Fault": {"Error": [exc.error()], "type": exc.kind}}
            )
    return {"BatchItemResponse": answers, "time": realm.time()}


def _batch_item(
    sandbox: QuickBooksSandbox, realm: Realm, item: dict[str, Any]
) -> dict[str, Any]:
    if "Query" in item:
        result = run_query(realm, str(item["Query"]), sandbox.quirks.page_overrun)
        return {"QueryResponse": result["QueryResponse"]}
    entities = [key for key in item if key in WRITABLE]
    if len(entities) != 1:
        raise wire.invalid("A batch item holds one entity or one Query")
    entity = entities[0]
    operation = str(item.get("operation", "create"))
    if operation not in ("create", "update", "delete"):
        raise wire.invalid(f"Batch operation {operation!r} is not supported")
    obj, changes = _write(realm, entity, dict(item[entity]), operation, "")
    sandbox.notify(changes)
    return {entity: obj}


__all__ = ["Change", "blueprint", "json_response"]
