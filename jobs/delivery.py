"""How a step reaches the debtor: the letter's content, the channel sends, and the
`Effect` rows that make each contact happen once.

Each contact is an `Effect` row under a UNIQUE key (case, step, channel, target)
inserted before the send; a retry finds it. Guarantee per channel (see the README): a
letter is a file written atomically under a name derived from its key, so a retry
finds it and never writes a second; an email carries a Message-ID derived from its
key, and is resent only when no SMTP server accepted it; an SMS is sent only from an
effect not yet marked sent. A worker killed after a provider accepted a message but
before the effect row committed (a window of milliseconds) leads to one resend of
that email or SMS, with the same Message-ID.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.channels import letters
from app.channels.addresses import NoEmailAddress, clean_recipients
from app.channels.email import Attachment, EmailSender, OutboundEmail, compose
from app.channels.parties import Debtor as LetterDebtor
from app.channels.parties import Letterhead, Representative
from app.channels.sms import OutboundSms, SmsError, SmsSender, compose_sms
from app.money import Money
from app.referrals import rules_of
from jobs import faults
from jobs.runtime import Runtime

logger = logging.getLogger(__name__)

PROGRAM = Letterhead(
    name="CARE Pre-Collections",
    address_lines=("On behalf of our clients",),
    email="collections@care.example",
)


@dataclass
class StepContext:
    step_id: int
    case_id: int
    creditor_id: int
    connection_id: int
    channel: str
    step_number: int
    final: bool
    first: bool
    region: str | None = None  # the debtor's country, for national-format numbers


def letter_and_target(
    session: Session, rt: Runtime, ctx: StepContext, unpaid: list[Any]
) -> tuple[letters.LetterInput, str | None]:
    from app.models import Creditor, Debtor, ReferralCase, User

    case = session.get(ReferralCase, ctx.case_id)
    assert case is not None
    creditor = session.get(Creditor, case.creditor_id)
    debtor = session.get(Debtor, case.debtor_id)
    rep = session.get(User, case.representative_id) if case.representative_id else None
    assert creditor is not None and debtor is not None
    today = clock.local_today(creditor.timezone)
    rules = rules_of(creditor)
    letter = letters.LetterInput(
        debtor=LetterDebtor(
            name=debtor.name,
            address_lines=address_lines(debtor.address),
            contact_name=debtor.contact_name or "",
        ),
        creditor=Letterhead(
            name=creditor.letterhead_name or creditor.name,
            address_lines=tuple((creditor.letterhead_address or "").splitlines()),
            email=creditor.letterhead_email or "",
            phone=creditor.letterhead_phone or "",
        ),
        representative=Representative(
            name=rep.name if rep and rep.name else "CARE representative",
            email=rep.email if rep else "collections@care.example",
        ),
        invoices=tuple(
            letters.InvoiceLine(
                number=inv.number or inv.ledger_id,
                due_date=inv.due_date,
                amount_due=Money(inv.amount_due, inv.currency),
            )
            for inv in unpaid
            if inv.due_date is not None and inv.due_date < today
        ),
        payment=letters.PaymentInstructions(
            lines=(
                f"Please pay {creditor.name} as usual, quoting the invoice "
                + ("number." if len(unpaid) == 1 else "numbers."),
            ),
        ),
        as_of=today,
        locale=creditor.locale,
        tier="frontline" if rules.tier.value == "frontline" else "first_party",
        program=PROGRAM,
        reference=f"C-{case.id}",
    )
    if ctx.channel == "letter":
        return letter, "post:" + (debtor.ledger_id or str(debtor.id))
    if ctx.channel == "email":
        try:
            found = clean_recipients(debtor.emails)
        except NoEmailAddress:
            # C29: no usable address is a blocked step shown to people, not a crash.
            return letter, None
        return letter, ", ".join(found)
    if ctx.channel == "sms":
        if not debtor.sms_consent or not debtor.phones:
            return letter, None
        return letter, debtor.phones[0]
    return letter, None


def send(
    rt: Runtime,
    ctx: StepContext,
    letter: letters.LetterInput,
    target: str,
    key: str,
) -> tuple[str | None, str | None]:
    kind: Any = "final" if ctx.final else "first"
    folder = Path(rt.settings.letters_dir) / str(ctx.creditor_id)
    if ctx.channel == "letter":
        path = folder / letters.letter_filename(key, kind)
        if not path.exists():
            path = letters.write_letter(letter, folder, key, kind)
        return path.name, str(path)
    if ctx.channel == "email":
        faults.hold(rt.redis, "send")
        stage: Any = "final" if ctx.final else "first" if ctx.first else "reminder"
        subject, body = compose(letter, stage)
        # The first and the final e-mail carry the letter; reminders stay short.
        attachments: tuple[Attachment, ...] = ()
        if stage != "reminder":
            attachments = (
                Attachment(
                    f"{letter.reference}.pdf",
                    letter_pdf(rt, ctx, letter, kind, folder),
                ),
            )
        sender = EmailSender.from_settings(rt.settings)
        sent = sender.send(
            OutboundEmail(
                key=key,
                to=target,
                subject=subject,
                body=body,
                reply_to=letter.representative,
                unsubscribe_subject=f"case:{ctx.case_id}",
                attachments=attachments,
            )
        )
        return sent.message_id, None
    sender_sms = SmsSender.from_settings(rt.settings)
    if sender_sms is None:
        raise SmsError("SMS is not configured (no TWILIO_ACCOUNT_SID)")
    outbound = OutboundSms(
        key=key,
        to=target,
        body=compose_sms(letter),
        consent=True,
        region=ctx.region,
    )
    first_try = first_attempt(rt, key)
    if first_try is not None:
        # A retry after a crash: Twilio takes no idempotency key, so ask it whether
        # the text already went before sending it again.
        found = sender_sms.find_sent(outbound, first_try)
        if found is not None:
            return found.sid, None
    sms = sender_sms.send(outbound)
    return sms.sid, None


def first_attempt(rt: Runtime, key: str) -> Any:
    """When an earlier attempt at this effect began, if this is not the first."""
    from app.models import Effect

    with rt.sessions() as session:
        row = session.scalar(sa.select(Effect).where(Effect.idempotency_key == key))
        if row is None or row.attempts <= 1:
            return None
        return row.created_at


def letter_pdf(
    rt: Runtime, ctx: StepContext, letter: letters.LetterInput, kind: Any, folder: Path
) -> bytes:
    """The letter sent by post at this stage if it is on disk, else rendered anew."""
    from app.models import OutreachStep

    with rt.sessions() as session:
        path = session.scalar(
            sa.select(OutreachStep.content_path).where(
                OutreachStep.case_id == ctx.case_id,
                OutreachStep.channel == "letter",
                OutreachStep.subject == ("final" if ctx.final else "first"),
                OutreachStep.state == "sent",
            )
        )
    if path and Path(path).exists() and Path(path).parent == folder:
        return Path(path).read_bytes()
    return letters.render_letter(letter, kind)


def effect_key(ctx: StepContext, target: str) -> str:
    from app.models import Effect

    return Effect.key_for(ctx.case_id, ctx.step_number, ctx.channel, target)


def claim(rt: Runtime, ctx: StepContext, target: str, key: str) -> tuple[int, bool]:
    """Insert the effect row, or find it; True when it was already sent."""
    from app.models import Effect

    with rt.sessions.begin() as session:
        row = session.scalar(sa.select(Effect).where(Effect.idempotency_key == key))
        if row is None:
            row = Effect(
                creditor_id=ctx.creditor_id,
                case_id=ctx.case_id,
                step_id=ctx.step_id,
                channel=ctx.channel,
                target=target[:300],
                idempotency_key=key,
                state="pending",
            )
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
            except IntegrityError:
                row = session.scalar(
                    sa.select(Effect).where(Effect.idempotency_key == key)
                )
                assert row is not None
        row.attempts += 1
        return row.id, row.state == "sent"


def effect_done(
    rt: Runtime, effect_id: int, state: str, provider_id: str | None, error: str | None
) -> None:
    from app.models import Effect

    with rt.sessions.begin() as session:
        row = session.get(Effect, effect_id)
        assert row is not None
        row.state = state
        row.provider_id = provider_id
        row.last_error = error
        if state == "sent":
            row.sent_at = clock.now()


def address_lines(address: dict[str, Any] | None) -> tuple[str, ...]:
    if not address:
        return ()
    lines = list(address.get("lines") or [])
    city = " ".join(
        str(p)
        for p in (
            address.get("city"),
            address.get("region"),
            address.get("postal_code"),
        )
        if p
    )
    if city:
        lines.append(city)
    if address.get("country"):
        lines.append(str(address["country"]))
    return tuple(lines)


def what(channel: str) -> str:
    return {"email": "e-mail", "sms": "SMS consent or phone", "letter": "address"}.get(
        channel, channel
    )
