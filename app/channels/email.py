"""E-mail to debtors over SMTP, with the letter attached.

One message per send: From the program's mailbox (display name: the creditor in the
frontline tier), Reply-To the representative, To the cleaned addresses, a Subject
encoded RFC 2047 UTF-8 when the debtor's name is not ASCII, List-Unsubscribe with a
signed token (RFC 2369, one-click per RFC 8058), and a Message-ID derived from the
send's idempotency key so a resend after a crash is recognisably the same message.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.utils import format_datetime, parseaddr
from typing import Literal

from app import clock as clock_mod
from app.channels import unsubscribe
from app.channels.addresses import NoEmailAddress, clean_recipients
from app.channels.letters import LetterInput, render_template
from app.channels.parties import Representative
from app.channels.text import nfc, one_line, slug
from app.config import Settings

logger = logging.getLogger(__name__)

EmailKind = Literal["first", "reminder", "final"]
__all__ = [
    "Attachment",
    "EmailRejectedError",
    "EmailRetryError",
    "EmailSender",
    "NoEmailAddress",
    "OutboundEmail",
    "SentEmail",
    "compose",
]


class EmailRetryError(Exception):
    """The server could not take the message now (4xx, refused connection): retry."""


class EmailRejectedError(Exception):
    """The server refused the message for good (5xx): retrying will not help."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Attachment:
    """A file to attach; `filename` may be any Unicode name."""

    filename: str
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True)
class OutboundEmail:
    """One message to one debtor, under one idempotency key."""

    key: str  # (case, step, channel): the same key always gives the same Message-ID
    to: str | Sequence[str] | None  # as the ledger holds it; cleaned before sending
    subject: str
    body: str
    reply_to: Representative
    unsubscribe_subject: str  # whom the unsubscribe link names, e.g. "debtor:42"
    sender_name: str = ""  # From display name; the program's when empty
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class SentEmail:
    """What the SMTP server accepted."""

    message_id: str
    recipients: tuple[str, ...]
    refused: dict[str, tuple[int, str]]  # recipients refused while others were taken


class UrlListHeader(UnstructuredHeader):
    """A header of <URL>s folded only between URLs, never into RFC 2047 words."""

    # NOTE: the standard folder turns a token longer than a line (a signed https URL
    # is one) into =?utf-8?q?...?= encoded words, and mail clients then cannot read
    # List-Unsubscribe at all. RFC 5322 allows lines up to 998 characters.
    def fold(self, *, policy: Policy) -> str:
        urls = str(self).split(", ")
        name = self.name  # type: ignore[attr-defined]  # from BaseHeader, mixed in
        return f"{name}: " + f",{policy.linesep} ".join(urls) + policy.linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", UrlListHeader)  # type: ignore[arg-type]
POLICY = SMTP.clone(header_factory=_HEADERS)


def compose(letter: LetterInput, kind: EmailKind = "first") -> tuple[str, str]:
    """Subject and plain-text body for `letter`'s debtor from the e-mail templates."""
    if kind not in ("first", "reminder", "final"):
        raise ValueError(f"e-mail kind must be first, reminder or final, got {kind!r}")
    text = render_template(f"email_{kind}.txt", letter)
    subject, _, body = text.partition("\n")
    return one_line(subject), body.strip("\n") + "\n"


def message_id(key: str, domain: str) -> str:
    """The Message-ID for the send under `key`: stable across retries."""
    if not key.strip():
        raise ValueError("an e-mail needs an idempotency key")
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.care@{domain}>"


class EmailSender:
    """Builds messages and hands them to one SMTP server."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        mail_from: str,
        unsubscribe_secret: str,
        base_url: str,
        user: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        name, address = parseaddr(mail_from)
        if "@" not in address:
            raise ValueError(f"MAIL_FROM has no address: {mail_from!r}")
        self.from_name = name
        self.from_address = address
        self.domain = address.rpartition("@")[2]
        self.host, self.port = host, port
        self.user, self.password = user, password
        self.starttls = starttls
        self.timeout = timeout
        self._secret = unsubscribe_secret
        self._base_url = base_url

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailSender:
        """A sender for the configured SMTP server, signing with SECRET_KEY."""
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            mail_from=settings.mail_from,
            unsubscribe_secret=settings.secret_key,
            base_url=settings.base_url,
            user=settings.smtp_user,
            password=settings.smtp_password,
            # TODO: an SMTP_TLS setting; STARTTLS is assumed on 587 only, and implicit
            # TLS (465) is not supported, so such a relay needs a local relay on 25.
            starttls=settings.smtp_port == 587,
        )

    def build(self, email: OutboundEmail) -> EmailMessage:
        """The message as it will be sent; NoEmailAddress if it has nowhere to go."""
        recipients = clean_recipients(email.to)
        msg = EmailMessage(policy=POLICY)
        msg["From"] = Address(
            one_line(email.sender_name) or self.from_name, addr_spec=self.from_address
        )
        msg["To"] = [Address(addr_spec=r) for r in recipients]
        msg["Reply-To"] = Address(email.reply_to.name, addr_spec=email.reply_to.email)
        msg["Subject"] = one_line(email.subject)
        msg["Date"] = format_datetime(clock_mod.now())
        msg["Message-ID"] = message_id(email.key, self.domain)
        https, mailto = unsubscribe.links(
            self._secret,
            email.unsubscribe_subject,
            self._base_url,
            self._unsub_mailbox(),
        )
        if not (https + mailto).isascii():
            raise ValueError(f"unsubscribe URLs must be ASCII (punycode): {https}")
        msg["List-Unsubscribe"] = f"<{https}>, <{mailto}>"
        # TODO: no DKIM signature here; the relay must sign (covering List-Unsubscribe,
        # as RFC 8058 asks), or large mailbox providers treat these as unauthenticated
        # bulk mail. The https link needs the web layer's POST /unsubscribe/<token>.
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(nfc(email.body))
        for attachment in email.attachments:
            _attach(msg, attachment)
        return msg

    def send(self, email: OutboundEmail) -> SentEmail:
        """Send `email`; NoEmailAddress, EmailRetryError or EmailRejectedError."""
        msg = self.build(email)
        recipients = [a.addr_spec for a in msg["To"].addresses]
        try:
            refused = self._deliver(msg, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refusal(exc.recipients.values(), str(exc.recipients)) from exc
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise _refusal([(exc.smtp_code, text)], text) from exc
        except (OSError, smtplib.SMTPException) as exc:
            # Connection refused or dropped, timeouts: the server never took it.
            raise EmailRetryError(f"SMTP {self.host}:{self.port}: {exc}") from exc
        logger.info(
            "email sent key=%s message_id=%s recipients=%d refused=%d",
            email.key,
            msg["Message-ID"],
            len(recipients),
            len(refused),
        )
        return SentEmail(
            message_id=str(msg["Message-ID"]),
            recipients=tuple(r for r in recipients if r not in refused),
            refused={
                r: (
                    code,
                    text.decode("utf-8", "replace")
                    if isinstance(text, bytes)
                    else str(text),
                )
                for r, (code, text) in refused.items()
            },
        )

    def _deliver(
        self, msg: EmailMessage, recipients: list[str]
    ) -> dict[str, tuple[int, bytes]]:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls()
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password)
            return smtp.send_message(
                msg, from_addr=self.from_address, to_addrs=recipients
            )
        finally:
            _quit(smtp)

    def _unsub_mailbox(self) -> str:
        return f"unsubscribe@{self.domain}"


def _quit(smtp: smtplib.SMTP) -> None:
    # Once the server answered DATA the message is its; a QUIT that fails after that
    # must not turn a delivered message into an error the job would retry (and send
    # twice). smtplib's context manager raises on a QUIT reply other than 221.
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def attachment_filename(filename: str) -> str:
    """An ASCII stand-in for `filename`, for mail clients that ignore RFC 2231."""
    stem, dot, ext = one_line(filename).rpartition(".")
    if not dot:
        stem, ext = one_line(filename), ""
    plain = slug(stem, 80) or "document"
    return f"{plain}.{slug(ext, 10)}" if ext else plain


def _attach(msg: EmailMessage, attachment: Attachment) -> None:
    maintype, _, subtype = attachment.mime_type.partition("/")
    name = one_line(attachment.filename)
    # Content-Disposition carries the real name (RFC 2231 encoded when not ASCII);
    # the legacy Content-Type name= carries an ASCII fallback for older clients.
    msg.add_attachment(
        attachment.content, maintype=maintype, subtype=subtype, filename=name
    )
    part = list(msg.iter_attachments())[-1]
    part.set_param("name", attachment_filename(name), header="Content-Type")


def _refusal(answers: Iterable[tuple[int, object]], text: str) -> Exception:
    codes = [code for code, _ in answers]
    if codes and all(400 <= code < 500 for code in codes):
        return EmailRetryError(f"SMTP temporary failure: {text}")
    return EmailRejectedError(
        f"SMTP refused the message: {text}", code=max(codes, default=None)
    )
