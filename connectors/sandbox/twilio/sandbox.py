"""The Twilio stand-in's controller: messages, opt-outs, callbacks and its server.

It speaks the part of Twilio's REST API 2010-04-01 that CARE uses (create, fetch and
list Messages) and plays Twilio's side of the webhooks: signed status callbacks
(sent, delivered, undelivered) and inbound messages, where STOP blocks the number as
Twilio does (a later send answers error 21610) and START lifts the block.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

import requests
from twilio.request_validator import RequestValidator

from app import clock as clock_mod
from app.channels.sms import OPT_IN_WORDS, OPT_OUT_WORDS
from connectors.sandbox.server import Faults, RequestLog, ServerThread

logger = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 30 + "01"
DEFAULT_AUTH_TOKEN = "TESTONLY-twilio-auth-token"
DEFAULT_FROM = "+15005550006"  # Twilio's own "valid sender" test number
# GSM 03.38 basic characters: a text using only these goes as 7-bit, 160 per segment.
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@dataclass
class SandboxMessage:
    """One message as the stand-in keeps it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str
    direction: str
    created: datetime
    status_callback: str = ""
    sent: datetime | None = None
    updated: datetime | None = None
    error_code: int | None = None
    callbacks: list[dict[str, str]] = field(default_factory=list)

    def resource(self) -> dict[str, object]:
        """The message in Twilio's JSON shape."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": format_datetime(self.created),
            "date_sent": format_datetime(self.sent) if self.sent else None,
            "date_updated": format_datetime(self.updated or self.created),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(segments(self.body)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": self.to,
            "uri": f"{uri}.json",
        }


def segments(body: str) -> int:
    """How many SMS segments `body` takes: GSM-7 160/153, else UCS-2 70/67."""
    single, part = (160, 153) if set(body) <= GSM7 else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // part)


class TwilioSandbox:
    """A local Twilio account: one sid and token, some sender numbers, faults."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        numbers: tuple[str, ...] = (DEFAULT_FROM,),
        inbound_url: str = "",
        advanced_opt_out: bool = False,
        seed: int = 0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.numbers = numbers
        self.inbound_url = inbound_url
        self.advanced_opt_out = advanced_opt_out  # adds OptOutType to inbound forms
        self.messages: dict[str, SandboxMessage] = {}
        self.opted_out: set[tuple[str, str]] = set()  # (debtor number, our number)
        self.faults = Faults(seed=seed)
        self.throttled = False  # answer sends with 429 / 20429, as a full queue does
        self.log = RequestLog()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._server: ServerThread | None = None
        self._session = requests.Session()

    # -- what the API does ------------------------------------------------------

    def new_sid(self) -> str:
        with self._lock:
            return f"SM{self._random.getrandbits(128):032x}"

    def record(self, message: SandboxMessage) -> SandboxMessage:
        with self._lock:
            self.messages[message.sid] = message
        return message

    def outbound(self) -> list[SandboxMessage]:
        """Messages CARE sent, in order."""
        with self._lock:
            return [m for m in self.messages.values() if m.direction == "outbound-api"]

    def count(self, to: str | None = None) -> int:
        """How many messages CARE sent (to `to`, when given)."""
        return sum(1 for m in self.outbound() if to is None or m.to == to)

    def is_opted_out(self, number: str, ours: str) -> bool:
        with self._lock:
            return (number, ours) in self.opted_out

    # -- Twilio's side of the webhooks -------------------------------------------

    def set_status(
        self, sid: str, status: str, error_code: int | None = None
    ) -> int | None:
        """Move message `sid` to `status` and POST its signed status callback."""
        message = self.messages[sid]
        now = clock_mod.now()
        message.status, message.updated = status, now
        if status in ("sent", "delivered") and message.sent is None:
            message.sent = now
        message.error_code = error_code
        if not message.status_callback:
            return None
        form = {
            "AccountSid": message.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        message.callbacks.append(form)
        return self._post_signed(message.status_callback, form)

    def deliver(self, sid: str) -> list[int | None]:
        """Report `sid` sent, then delivered, as the carrier would."""
        return [self.set_status(sid, "sent"), self.set_status(sid, "delivered")]

    def inbound(self, from_number: str, body: str, to: str | None = None) -> int | None:
        """A debtor texts our number (STOP blocks, START unblocks); POSTs the form."""
        ours = to or self.numbers[0]
        word = body.strip().upper()
        with self._lock:
            if word in OPT_OUT_WORDS:
                self.opted_out.add((from_number, ours))
            elif word in OPT_IN_WORDS:
                self.opted_out.discard((from_number, ours))
        message = self.record(
            SandboxMessage(
                sid=self.new_sid(),
                account_sid=self.account_sid,
                to=ours,
                from_=from_number,
                body=body,
                status="received",
                direction="inbound",
                created=clock_mod.now(),
            )
        )
        if not self.inbound_url:
            return None
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": from_number,
            "MessageSid": message.sid,
            "NumMedia": "0",
            "NumSegments": str(segments(body)),
            "SmsMessageSid": message.sid,
            "SmsSid": message.sid,
            "SmsStatus": "received",
            "To": ours,
        }
        if self.advanced_opt_out and (word in OPT_OUT_WORDS or word in OPT_IN_WORDS):
            form["OptOutType"] = "STOP" if word in OPT_OUT_WORDS else "START"
        return self._post_signed(self.inbound_url, form)

    def _post_signed(self, url: str, form: dict[str, str]) -> int | None:
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        try:
            answer = self._session.post(
                url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10
            )
        except requests.RequestException as exc:
            # Twilio logs a failed webhook (error 11200) and moves on; so do we.
            logger.warning("twilio sandbox webhook failed url=%s error=%s", url, exc)
            return None
        return answer.status_code

    # -- the server ---------------------------------------------------------------

    def start(self, port: int = 0) -> ServerThread:
        """Serve the API on 127.0.0.1:`port` (0: a free one) in a daemon thread."""
        from connectors.sandbox.twilio.app import create_app

        self._server = ServerThread(create_app(self), port=port).start()
        return self._server

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Twilio sandbox is not serving")
        return self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._session.close()

    def __enter__(self) -> TwilioSandbox:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
