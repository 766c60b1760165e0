"""The Twilio stand-in's Flask app: the Messages API and a few control endpoints."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

import phonenumbers
from flask import Flask, Response, abort, jsonify, request

from app import clock as clock_mod
from connectors.sandbox.server import apply_latency, install_request_log
from connectors.sandbox.twilio.sandbox import API_VERSION, SandboxMessage

if TYPE_CHECKING:
    from connectors.sandbox.twilio.sandbox import TwilioSandbox

BASE = f"/{API_VERSION}/Accounts/<account_sid>"


def create_app(sandbox: TwilioSandbox) -> Flask:
    """A Flask app answering as api.twilio.com does for `sandbox`'s account."""
    app = Flask(__name__)
    install_request_log(app, sandbox.log, lambda: sandbox.account_sid)

    @app.before_request
    def _faults() -> tuple[Response, int] | None:
        if request.path.startswith("/_sandbox") or request.url_rule is None:
            return None
        apply_latency(sandbox.faults)
        if sandbox.faults.roll_error():
            return error(500, 20500, "Internal Server Error")
        return _authenticate(sandbox)

    @app.post(f"{BASE}/Messages.json")
    def create_message(account_sid: str) -> tuple[Response, int] | Response:
        if sandbox.throttled:
            return error(429, 20429, "Too Many Requests")
        form = request.form
        to, sender, body = (
            form.get("To", ""),
            form.get("From", ""),
            form.get("Body", ""),
        )
        if not to:
            return error(400, 21604, "A 'To' phone number is required.")
        if not _is_e164(to):
            return error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if sender not in sandbox.numbers:
            return error(
                400,
                21606,
                f"The From phone number {sender} is not a valid, SMS-capable inbound"
                " phone number or short code for your account.",
            )
        if not body:
            return error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return error(
                400,
                21617,
                "The concatenated message body exceeds the 1600 character limit.",
            )
        if sandbox.is_opted_out(to, sender):
            return error(400, 21610, "Attempt to send to unsubscribed recipient")
        message = sandbox.record(
            SandboxMessage(
                sid=sandbox.new_sid(),
                account_sid=account_sid,
                to=to,
                from_=sender,
                body=body,
                status="queued",
                direction="outbound-api",
                created=clock_mod.now(),
                status_callback=form.get("StatusCallback", ""),
            )
        )
        return jsonify(message.resource()), 201

    @app.get(f"{BASE}/Messages/<sid>.json")
    def fetch_message(account_sid: str, sid: str) -> Response | tuple[Response, int]:
        message = sandbox.messages.get(sid)
        if message is None or message.account_sid != account_sid:
            return error(
                404, 20404, f"The requested resource {request.path} was not found"
            )
        return jsonify(message.resource())

    @app.get(f"{BASE}/Messages.json")
    def list_messages(account_sid: str) -> Response:
        found = [
            m
            for m in sandbox.messages.values()
            if m.account_sid == account_sid and _matches(m, request.args)
        ]
        found.sort(key=lambda m: m.created, reverse=True)  # Twilio lists newest first
        size = int(request.args.get("PageSize", "50"))
        uri = f"{request.path}?PageSize={size}&Page=0"
        return jsonify(
            {
                "messages": [m.resource() for m in found[:size]],
                "end": max(0, min(size, len(found)) - 1),
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            }
        )

    # Control endpoints for the CLI and demos; Twilio has no such thing.
    @app.post("/_sandbox/messages/<sid>/status")
    def control_status(sid: str) -> Response:
        if sid not in sandbox.messages:
            abort(404)
        code = request.form.get("error_code")
        answer = sandbox.set_status(
            sid, request.form.get("status", "delivered"), int(code) if code else None
        )
        return jsonify({"sid": sid, "callback_status": answer})

    @app.post("/_sandbox/inbound")
    def control_inbound() -> Response:
        answer = sandbox.inbound(
            request.form["From"], request.form.get("Body", ""), request.form.get("To")
        )
        return jsonify({"callback_status": answer})

    @app.get("/_sandbox/messages")
    def control_messages() -> Response:
        return jsonify([m.resource() for m in sandbox.messages.values()])

    return app


def error(status: int, code: int, message: str) -> tuple[Response, int]:
    """Twilio's error body: code, message, more_info, status."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return jsonify(body), status


def _authenticate(sandbox: TwilioSandbox) -> tuple[Response, int] | None:
    header = request.headers.get("Authorization", "")
    try:
        user, _, password = (
            base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        user, password = "", ""
    path_sid = (request.view_args or {}).get("account_sid")
    if (
        user != sandbox.account_sid
        or password != sandbox.auth_token
        or path_sid != user
    ):
        return error(401, 20003, "Authenticate")
    return None


def _is_e164(number: str) -> bool:
    if not number.startswith("+"):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return False


def _matches(message: SandboxMessage, args: Mapping[str, str]) -> bool:
    # Twilio filters on To, From and DateSent: "DateSent" is a day, "DateSent>" and
    # "DateSent<" are inclusive bounds the SDK sends as ISO 8601 instants.
    if args.get("To") and message.to != args["To"]:
        return False
    if args.get("From") and message.from_ != args["From"]:
        return False
    sent = message.sent or message.created
    if args.get("DateSent") and sent.date() != _instant(args["DateSent"]).date():
        return False
    if args.get("DateSent>") and sent < _instant(args["DateSent>"]):
        return False
    return not (args.get("DateSent<") and sent > _instant(args["DateSent<"]))


def _instant(value: str) -> datetime:
    if "T" not in value:
        return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
