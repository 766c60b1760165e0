"""The Flask app factory of the Xero sandbox: identity and accounting on one server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, request

from connectors.sandbox.server import install_request_log
from connectors.sandbox.xero.api import accounting
from connectors.sandbox.xero.errors import NotFound
from connectors.sandbox.xero.oauth import identity

if TYPE_CHECKING:
    from connectors.sandbox.xero.sandbox import XeroSandbox


def create_app(sandbox: XeroSandbox) -> Flask:
    """A Flask app serving `sandbox` at the paths Xero serves."""
    app = Flask("xero_sandbox")
    app.extensions["xero_sandbox"] = sandbox
    app.url_map.strict_slashes = False
    app.register_blueprint(identity)
    app.register_blueprint(accounting)
    install_request_log(app, sandbox.log, lambda: request.headers.get("xero-tenant-id"))

    @app.errorhandler(404)
    def _not_found(exc: Exception) -> Response:
        # An unknown path gets the same plain sentence as an unknown id.
        return Response(NotFound().body(), status=404, mimetype="text/html")

    return app
