"""SMS to debtors through Twilio's Programmable Messaging API (2010-04-01).

Only to E.164 numbers whose owner consented and has not opted out. Replies of STOP
(and Twilio's other opt-out words) come back on the inbound webhook: `parse_inbound`
reads that form and says whether it is an opt-out, and `verify_signature` checks the
X-Twilio-Signature header with the official RequestValidator.

NOTE: pointing the official client somewhere else. twilio-python builds absolute
https://api.twilio.com URLs; its documented extension point is the `http_client`
argument of `Client` (Twilio: "Custom HTTP clients for the Twilio Python helper
library", twilio-python advanced-examples/custom-http-client.md). `RebasedHttpClient`
is that client with the scheme and host swapped for the configured base URL, so the
SDK's own request building, auth and error parsing all stay in the path.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from app.channels.letters import LetterInput, render_template
from app.channels.text import nfc
from app.config import Settings

logger = logging.getLogger(__name__)

MAX_BODY = 1600  # Twilio refuses longer bodies (error 21617)
# Twilio's default opt-out, opt-in and help words for long codes, matched against the
# whole trimmed body, case-insensitively (Twilio: "Customize users' opt-in and opt-out
# experience with Advanced Opt-Out"; help.twilio.com article 223134027).
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
UNSUBSCRIBED_RECIPIENT = 21610  # Twilio: the recipient replied STOP to this sender
INVALID_TO = 21211
InboundAction = Literal["opt_out", "opt_in", "help", "message"]


class SmsError(Exception):
    """Root of the SMS adapter's errors."""


class NoSmsConsentError(SmsError):
    """The debtor never agreed to SMS: do not send."""


class SmsOptedOutError(SmsError):
    """The debtor opted out (STOP): record it and never send again until START."""


class InvalidPhoneNumberError(SmsError, ValueError):
    """Not a number we can send an SMS to."""


class SmsRetryError(SmsError):
    """Twilio could not take the message now (5xx, 429, network): retry later."""


class SmsRejectedError(SmsError):
    """Twilio refused the message as wrong (a 4xx): retrying will not help."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class OutboundSms:
    """One text to one debtor, under one idempotency key."""

    key: str  # (case, step, channel)
    to: str  # as the ledger or the debtor gave it
    body: str
    consent: bool  # the debtor agreed to SMS from this creditor
    opted_out: bool = False  # a STOP was recorded for this number
    region: str | None = None  # ISO country of the debtor, for national-format numbers


@dataclass(frozen=True)
class SentSms:
    """What Twilio answered for a message."""

    sid: str
    to: str
    status: str  # queued, sending, sent, delivered, undelivered, failed
    error_code: int | None = None


@dataclass(frozen=True)
class InboundSms:
    """A message a debtor sent to our number, from Twilio's webhook form."""

    message_sid: str
    account_sid: str
    from_number: str
    to_number: str
    body: str
    action: InboundAction


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery status callback for a message we sent."""

    message_sid: str
    status: str
    to: str
    error_code: int | None = None


def e164(number: str, region: str | None = None) -> str:
    """`number` in E.164 (+6421...), or InvalidPhoneNumberError saying why not."""
    try:
        parsed = phonenumbers.parse(number, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumberError(
            f"not a phone number: {number!r} ({exc})"
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumberError(f"not a valid phone number: {number!r}")
    if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE:
        raise InvalidPhoneNumberError(f"a landline cannot take SMS: {number!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class RebasedHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending to `base_url` instead of *.twilio.com."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"TWILIO_BASE_URL is not an http(s) URL: {base_url!r}")
        self._scheme, self._netloc = parts.scheme, parts.netloc
        self._prefix = parts.path.rstrip("/")

    def request(
        self, method: str, url: str, *args: object, **kwargs: object
    ) -> Response:
        parts = urlsplit(url)
        rebased = urlunsplit(
            (self._scheme, self._netloc, self._prefix + parts.path, parts.query, "")
        )
        return super().request(method, rebased, *args, **kwargs)  # type: ignore[arg-type]


class SmsSender:
    """Sends texts from one Twilio number with the official client."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        base_url: str = "",
        status_callback: str = "",
        timeout: float = 10.0,
    ) -> None:
        if not (account_sid and auth_token and from_number):
            raise ValueError(
                "SMS needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM"
            )
        self.from_number = e164(from_number)
        self.status_callback = status_callback
        http = (
            RebasedHttpClient(base_url, timeout)
            if base_url
            else TwilioHttpClient(timeout=timeout)
        )
        self._client = Client(account_sid, auth_token, http_client=http)

    @classmethod
    def from_settings(
        cls, settings: Settings, status_callback: str = ""
    ) -> SmsSender | None:
        """The configured sender, or None when SMS is off (no Twilio account set)."""
        if not settings.twilio_account_sid:
            return None
        return cls(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from,
            settings.twilio_base_url,
            status_callback,
        )

    def send(self, sms: OutboundSms) -> SentSms:
        """Send `sms`; refuses without consent or after an opt-out."""
        # TODO: Twilio's Messages API has no idempotency key; a worker killed after
        # Twilio's 201 and before recording the sid resends unless the job first asks
        # `find_sent`. Long texts are billed per segment (153 GSM-7 or 67 UCS-2
        # characters); nothing here caps the cost of a long body.
        if not sms.consent:
            raise NoSmsConsentError(f"no SMS consent key={sms.key}")
        if sms.opted_out:
            raise SmsOptedOutError(f"number opted out key={sms.key}")
        to = e164(sms.to, sms.region)
        body = nfc(sms.body)
        if not body or len(body) > MAX_BODY:
            raise ValueError(
                f"SMS body must be 1-{MAX_BODY} characters, got {len(body)}"
            )
        extra = (
            {"status_callback": self.status_callback} if self.status_callback else {}
        )
        try:
            message = self._client.messages.create(
                to=to, from_=self.from_number, body=body, **extra
            )
        except TwilioRestException as exc:
            raise _translate(exc, sms.key) from exc
        except (TwilioException, OSError) as exc:
            raise SmsRetryError(f"Twilio unreachable key={sms.key}: {exc}") from exc
        logger.info(
            "sms sent key=%s sid=%s status=%s", sms.key, message.sid, message.status
        )
        return SentSms(sid=str(message.sid), to=to, status=str(message.status))

    def find_sent(self, sms: OutboundSms, since: datetime) -> SentSms | None:
        """The message Twilio already holds for `sms` since `since`, if any.

        Twilio's Messages API takes no idempotency key, so a worker that died between
        Twilio's 201 and recording the sid cannot tell from its own rows whether the
        text went. Before resending, the job asks here: same sender, recipient and
        body, created at or after the send was first attempted.
        """
        to = e164(sms.to, sms.region)
        body = nfc(sms.body)
        try:
            recent = self._client.messages.list(to=to, from_=self.from_number, limit=50)
        except TwilioRestException as exc:
            raise _translate(exc, sms.key) from exc
        except (TwilioException, OSError) as exc:
            raise SmsRetryError(f"Twilio unreachable key={sms.key}: {exc}") from exc
        # Twilio's dates have whole seconds: compare at that precision, or a text sent
        # in the same second as `since` would look older and be sent twice.
        floor = since.replace(microsecond=0)
        for message in recent:
            created = message.date_created
            if (
                message.body == body
                and isinstance(created, datetime)
                and created >= floor
            ):
                logger.info(
                    "sms found already sent key=%s sid=%s", sms.key, message.sid
                )
                return SentSms(
                    str(message.sid), to, str(message.status), message.error_code
                )
        return None

    def fetch(self, sid: str) -> SentSms:
        """The message `sid` as Twilio has it now (its delivery status)."""
        try:
            message = self._client.messages(sid).fetch()
        except TwilioRestException as exc:
            raise _translate(exc, sid) from exc
        return SentSms(
            sid=str(message.sid),
            to=str(message.to),
            status=str(message.status),
            error_code=message.error_code,
        )


def compose_sms(letter: LetterInput) -> str:
    """The reminder text for `letter`'s debtor, from templates/sms_reminder.txt."""
    # Collapse the template's line breaks, but not the no-break spaces babel puts
    # inside amounts such as "2.000,00\xa0€".
    return re.sub(
        r"[ \t\r\n]+", " ", render_template("sms_reminder.txt", letter)
    ).strip()


def verify_signature(
    auth_token: str, url: str, form: Mapping[str, str], signature: str
) -> bool:
    """True when `signature` (X-Twilio-Signature) signs this URL and form."""
    # NOTE: `url` must be the URL Twilio called, as configured in the console (the
    # public https one), not what a proxy forwarded; behind a proxy, rebuild it from
    # the configured base URL or every genuine request fails the check.
    if not signature:
        return False
    # The form as received: the validator reads repeated keys from a MultiDict.
    return bool(RequestValidator(auth_token).validate(url, form, signature))


def parse_inbound(form: Mapping[str, str]) -> InboundSms:
    """Twilio's inbound-message webhook form as an InboundSms, opt-out recognised."""
    missing = [f for f in ("MessageSid", "From", "To") if not form.get(f)]
    if missing:
        raise ValueError(f"inbound SMS webhook lacks {', '.join(missing)}")
    body = form.get("Body", "")
    return InboundSms(
        message_sid=form["MessageSid"],
        account_sid=form.get("AccountSid", ""),
        from_number=form["From"],
        to_number=form["To"],
        body=body,
        action=_action(body, form.get("OptOutType", "")),
    )


def parse_status_callback(form: Mapping[str, str]) -> StatusUpdate:
    """Twilio's status callback form (MessageSid, MessageStatus, ErrorCode)."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        raise ValueError("status callback lacks MessageSid or MessageStatus")
    code = form.get("ErrorCode")
    return StatusUpdate(sid, status, form.get("To", ""), int(code) if code else None)


def _action(body: str, opt_out_type: str) -> InboundAction:
    # With Advanced Opt-Out on, Twilio names the keyword type itself; otherwise the
    # whole trimmed body must be one of the default words ("STOP please" is not).
    kind = opt_out_type.strip().upper()
    word = body.strip().upper()
    if kind == "STOP" or word in OPT_OUT_WORDS:
        return "opt_out"
    if kind == "START" or word in OPT_IN_WORDS:
        return "opt_in"
    if kind == "HELP" or word in HELP_WORDS:
        return "help"
    return "message"


def _translate(exc: TwilioRestException, key: str) -> SmsError:
    if exc.code == UNSUBSCRIBED_RECIPIENT:
        return SmsOptedOutError(f"Twilio: recipient unsubscribed key={key}")
    if exc.status == 429 or exc.status >= 500:
        return SmsRetryError(f"Twilio {exc.status} key={key}: {exc.msg}")
    return SmsRejectedError(
        f"Twilio {exc.status} {exc.code} key={key}: {exc.msg}", code=exc.code
    )
