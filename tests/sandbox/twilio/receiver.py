"""A webhook endpoint for tests: records what Twilio (the stand-in) POSTs, checks it.

It verifies X-Twilio-Signature with CARE's own `verify_signature` over the URL the
stand-in called, and answers 403 when it does not match, as CARE's web layer will.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import Flask, request

from app.channels.sms import verify_signature
from connectors.sandbox.server import ServerThread


@dataclass(frozen=True)
class Received:
    path: str
    form: dict[str, str]
    signature: str
    valid: bool


class WebhookReceiver:
    """POST /sms/status and /sms/inbound, recorded in order."""

    def __init__(self, auth_token: str) -> None:
        self.auth_token = auth_token
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ServerThread(self._app()).start()
        self.url = self._server.url

    def _app(self) -> Flask:
        app = Flask(__name__)

        @app.post("/sms/<kind>")
        def hook(kind: str) -> tuple[str, int]:
            form = request.form.to_dict()
            signature = request.headers.get("X-Twilio-Signature", "")
            valid = verify_signature(
                self.auth_token, request.url, request.form, signature
            )
            with self._lock:
                self.received.append(Received(request.path, form, signature, valid))
            return ("", 204) if valid else ("bad signature", 403)

        return app

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def stop(self) -> None:
        self._server.stop()
