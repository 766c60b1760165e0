"""The gate in front of every API call: token, throttling, injected faults.

In QBO's order of answers: a bad, expired or revoked token gets the lowercase 401
body; a token for another company a 403; more than 500 calls a minute or 10 at once
per realm the XML 429; then the fault controls add latency, stalls and 5xx.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from connectors.sandbox.quickbooks import api, oauth, wire
from connectors.sandbox.server import apply_latency, install_request_log

if TYPE_CHECKING:
    from connectors.sandbox.quickbooks.sandbox import QuickBooksSandbox

logger = logging.getLogger(__name__)


def build_app(sandbox: QuickBooksSandbox) -> Flask:
    """The sandbox's Flask app: OAuth and API routes, the request log, the gate."""
    app = Flask("qbo_sandbox")
    app.register_blueprint(oauth.blueprint(sandbox))
    app.register_blueprint(api.blueprint(sandbox))
    install_request_log(app, sandbox.log, _realm_in_path)
    app.before_request(lambda: _guard(sandbox))
    app.teardown_request(lambda _exc: _release(sandbox))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return Response(
            wire.dumps({"error": exc.name, "status": exc.code}),
            status=exc.code or 500,
            content_type="application/json",
        )

    return app


def _guard(sandbox: QuickBooksSandbox) -> Response | None:
    """Before each API call: token, rate limits, then latency and injected 5xx."""
    if not request.path.startswith("/v3/company/"):
        return None
    realm_id = _realm_in_path() or ""
    g.tenant = realm_id
    now = sandbox.now()
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    grant, why = sandbox.tokens.check_access(bearer, now)
    if bearer in sandbox.faults.revoked:
        grant, why = None, "Token revoked"
    if grant is None:
        body = wire.unauthorized_body(int(now.timestamp() * 1000), why)
        return Response(json.dumps(body), status=401, content_type="application/json")
    if grant.realm_id != realm_id:
        body = wire.unauthorized_body(int(now.timestamp() * 1000), "realm mismatch")
        body["fault"]["error"][0]["message"] = (
            "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
        )
        body["fault"]["error"][0]["code"] = "3100"
        return Response(json.dumps(body), status=403, content_type="application/json")
    if sandbox.faults.rate_limits:
        throttled = _throttle(sandbox, realm_id, now)
        if throttled is not None:
            return throttled
    # the call counts as in flight while it is slow
    apply_latency(sandbox.faults)
    if sandbox.faults.roll_error():
        fault = wire.QboFault(
            "10000",
            "An application error has occurred while processing your request",
            "System Failure Error: the sandbox injected a 5xx (Faults.error_rate)",
            kind="SystemFault",
            status=503,
        )
        time = wire.response_time(
            now,
            sandbox.realms[realm_id].timezone if realm_id in sandbox.realms else "UTC",
        )
        return api.json_response(fault.body(time), 503)
    return None


def _throttle(
    sandbox: QuickBooksSandbox, realm_id: str, now: datetime
) -> Response | None:
    if not sandbox.in_flight.enter(realm_id):
        logger.info("qbo sandbox throttled realm=%s reason=concurrent", realm_id)
        return _throttled(sandbox, realm_id, now)
    g.in_flight = realm_id
    if sandbox.minute.take(realm_id, now) is not None:
        logger.info("qbo sandbox throttled realm=%s reason=minute", realm_id)
        return _throttled(sandbox, realm_id, now)
    return None


def _throttled(sandbox: QuickBooksSandbox, realm_id: str, now: datetime) -> Response:
    tz = sandbox.realms[realm_id].timezone if realm_id in sandbox.realms else "UTC"
    return Response(
        wire.throttle_xml(wire.response_time(now, tz)),
        status=429,
        content_type="application/xml",
    )


def _release(sandbox: QuickBooksSandbox) -> None:
    realm_id = g.pop("in_flight", None)
    if realm_id is not None:
        sandbox.in_flight.leave(realm_id)


def _realm_in_path() -> str | None:
    parts = request.path.split("/")
    if len(parts) > 3 and parts[1] == "v3" and parts[2] == "company":
        return parts[3]
    return None
