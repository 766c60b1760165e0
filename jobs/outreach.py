"""Outreach jobs: one planned step of a case, sent once, and never after payment.

Before any debtor-facing send the step re-reads the case's invoices from the ledger
(the payment gate, shared case C23): a payment that landed after the step was planned,
or whose webhook is late or lost, stops it. Each contact is an `Effect` row under a
UNIQUE key (case, step, channel, target) inserted before the send; a retry finds it.

Guarantee per channel (see the README): a letter is a file written atomically under
a name derived from its key, so a retry finds it and never writes a second; an email
carries a Message-ID derived from its key, and is resent only when no SMTP server
accepted it; an SMS is sent only from an effect not yet marked sent. A worker killed
after a provider accepted a message but before the effect row committed (a window of
milliseconds) leads to one resend of that email or SMS, with the same Message-ID.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rq import Retry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock, contact_windows, settlement
from app.channels import letters
from app.channels.addresses import NoEmailAddress, clean_recipients
from app.channels.email import Attachment, EmailSender, OutboundEmail, compose
from app.channels.parties import Debtor as LetterDebtor
from app.channels.parties import Letterhead, Representative
from app.channels.sms import OutboundSms, SmsError, SmsSender, compose_sms
from app.money import Money
from app.referrals import TIMED_CHANNELS, rules_of
from connectors.base import ReconnectError, WaitError
from jobs import faults
from jobs.ledgers import connector_for
from jobs.queues import OUTREACH, enqueue_unique, unique_job
from jobs.runtime import Runtime, runtime

logger = logging.getLogger(__name__)

RETRY = Retry(max=3, interval=[30, 120, 600])
PROGRAM = Letterhead(
    name="CARE Pre-Collections",
    address_lines=("On behalf of our clients",),
    email="collections@care.example",
)


def step_id_of(step_id: int, *_: Any, **__: Any) -> str:
    return f"step:{step_id}"


def enqueue_step(step_id: int) -> str | None:
    rt = runtime()
    return enqueue_unique(
        rt.redis, OUTREACH, run_step, step_id_of(step_id), step_id, retry=RETRY
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


@unique_job(step_id_of)
def run_step(step_id: int) -> str:
    """Carry out one outreach step if it is still due, allowed and owed."""
    rt = runtime()
    with rt.sessions.begin() as session:
        verdict = _check(session, step_id)
    if isinstance(verdict, str):
        logger.info("step not sent step=%s: %s", step_id, verdict)
        return verdict
    ctx = verdict

    try:
        unpaid = _payment_gate(rt, ctx)
    except (WaitError, ReconnectError) as exc:
        logger.warning("step waits step=%s case=%s: %s", step_id, ctx.case_id, exc)
        return f"waiting: {exc}"
    if not unpaid:
        from jobs.writes import enqueue_writes

        enqueue_writes(ctx.connection_id)  # the case closed: its notes go out now
        return _finish(rt, ctx.step_id, "skipped", "skipped: paid")

    if ctx.channel == "call":
        return _finish(rt, ctx.step_id, "sent", "call task for the representative")
    with rt.sessions.begin() as session:
        letter, target = _letter_and_target(session, rt, ctx, unpaid)
    if target is None:
        return _finish(rt, ctx.step_id, "skipped", f"blocked: no {_what(ctx.channel)}")

    key = _effect_key(ctx, target)
    effect_id, already = _claim(rt, ctx, target, key)
    if already:
        return _finish(rt, ctx.step_id, "sent", "sent earlier")
    try:
        provider_id, path = _send(rt, ctx, letter, target, key)
    except (NoEmailAddress, SmsError) as exc:
        _effect_done(rt, effect_id, "failed", None, str(exc))
        return _finish(rt, ctx.step_id, "failed", f"blocked: {exc}")
    _effect_done(rt, effect_id, "sent", provider_id, None)
    return _finish(rt, ctx.step_id, "sent", f"sent {ctx.channel}", path)


def _check(session: Session, step_id: int) -> StepContext | str:
    from app.models import Debtor, LedgerConnection, OutreachStep, ReferralCase

    step = session.get(OutreachStep, step_id)
    if step is None:
        return "no such step"
    if step.state != "scheduled":
        return f"already {step.state}"
    case = session.get(ReferralCase, step.case_id)
    assert case is not None
    if case.state in ("resolved_paid", "withdrawn", "written_off", "escalated"):
        _close_step(step, "cancelled", f"case {case.state}")
        return f"case {case.state}"
    if case.state != "active":
        return f"paused: case {case.state}"
    debtor = session.get(Debtor, case.debtor_id)
    assert debtor is not None
    connection = session.get(LedgerConnection, debtor.connection_id)
    assert connection is not None
    if connection.status != "connected":
        return "paused: the ledger connection needs reconnecting"
    if debtor.opted_out and step.channel in ("email", "sms"):
        _close_step(step, "skipped", "debtor opted out")
        return "opted out"

    now = clock.now()
    later = session.scalar(
        sa.select(OutreachStep.id).where(
            OutreachStep.case_id == case.id,
            OutreachStep.state == "scheduled",
            OutreachStep.step_number > step.step_number,
            OutreachStep.due_at <= now,
            OutreachStep.due_at > step.due_at,
        )
    )
    if later is not None:
        # After downtime only the latest due step goes out (C27): no backlog burst.
        _close_step(step, "skipped", "superseded by a later step")
        return "superseded"

    if step.channel in TIMED_CHANNELS:
        allowed = _next_window(session, case.creditor_id, debtor, now)
        if allowed > now:
            step.due_at = allowed
            return f"deferred to {allowed.isoformat()}"
    return StepContext(
        step_id=step.id,
        case_id=case.id,
        creditor_id=case.creditor_id,
        connection_id=connection.id,
        channel=step.channel,
        step_number=step.step_number,
        final=step.subject == "final",
        first=step.subject == "first",
        region=debtor.country,
    )


def _next_window(session: Session, creditor_id: int, debtor: Any, now: Any) -> Any:
    from app.models import Creditor, Effect, ReferralCase

    creditor = session.get(Creditor, creditor_id)
    assert creditor is not None
    touches = session.scalars(
        sa.select(Effect.sent_at)
        .join(ReferralCase, ReferralCase.id == Effect.case_id)
        .where(
            ReferralCase.debtor_id == debtor.id,
            Effect.state == "sent",
            Effect.sent_at > now - timedelta(days=7),
        )
    ).all()
    window = rules_of(creditor).contact_window
    place = contact_windows.place_of(debtor, creditor)
    if place is None:
        # An unknown country or zone must not stop the debtor's outreach for good.
        logger.warning("no contact window debtor=%s; sending now", debtor.id)
        return now
    sent = [t for t in touches if t is not None]
    return contact_windows.next_allowed(now, place, window, sent)


def _payment_gate(rt: Runtime, ctx: StepContext) -> list[Any]:
    """Re-read the case's invoices from the ledger; the ones still owed."""
    from app.models import CaseInvoice, Invoice

    with rt.sessions() as session:
        rows = session.execute(
            sa.select(Invoice.id, Invoice.ledger_id)
            .join(CaseInvoice, CaseInvoice.invoice_id == Invoice.id)
            .where(CaseInvoice.case_id == ctx.case_id, CaseInvoice.removed_at.is_(None))
        ).all()
    connector = connector_for(rt, ctx.connection_id)
    # One read for the case's invoices (one call on either ledger for a few).
    fresh = connector.read_invoices([ledger_id for _, ledger_id in rows])

    changed = []
    with rt.sessions.begin() as session:
        for invoice_id, ledger_id in rows:
            read = fresh[ledger_id]
            row = session.get(Invoice, invoice_id)
            assert row is not None
            if (row.amount_due, row.status) != (read.amount_due, read.status):
                row.amount_due = read.amount_due
                row.status = read.status.value
                if read.home_amount_due is not None:
                    row.home_amount_due = read.home_amount_due
                changed.append(invoice_id)
        if changed:
            settlement.settle(session, ctx.creditor_id, changed, who="system:outreach")
        owed = [
            session.get(Invoice, invoice_id)
            for invoice_id, ledger_id in rows
            if fresh[ledger_id].status.value == "open"
            and fresh[ledger_id].amount_due > 0
        ]
    return [inv for inv in owed if inv is not None]


def _letter_and_target(
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
            address_lines=_address(debtor.address),
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
                f"Please pay {creditor.name} as usual, quoting the invoice numbers.",
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


def _send(
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
                    _letter_pdf(rt, ctx, letter, kind, folder),
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
    first_try = _first_attempt(rt, key)
    if first_try is not None:
        # A retry after a crash: Twilio takes no idempotency key, so ask it whether
        # the text already went before sending it again.
        found = sender_sms.find_sent(outbound, first_try)
        if found is not None:
            return found.sid, None
    sms = sender_sms.send(outbound)
    return sms.sid, None


def _first_attempt(rt: Runtime, key: str) -> Any:
    """When an earlier attempt at this effect began, if this is not the first."""
    from app.models import Effect

    with rt.sessions() as session:
        row = session.scalar(sa.select(Effect).where(Effect.idempotency_key == key))
        if row is None or row.attempts <= 1:
            return None
        return row.created_at


def _letter_pdf(
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


def _effect_key(ctx: StepContext, target: str) -> str:
    from app.models import Effect

    return Effect.key_for(ctx.case_id, ctx.step_number, ctx.channel, target)


def _claim(rt: Runtime, ctx: StepContext, target: str, key: str) -> tuple[int, bool]:
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


def _effect_done(
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


def _finish(
    rt: Runtime, step_id: int, state: str, outcome: str, path: str | None = None
) -> str:
    from app.models import OutreachStep

    with rt.sessions.begin() as session:
        step = session.get(OutreachStep, step_id)
        # The payment gate may have closed the case, cancelling this step with the
        # rest: record on it why it was not sent.
        paid_now = (
            step is not None and step.state == "cancelled" and step.outcome == "paid"
        )
        if step is not None and (step.state == "scheduled" or paid_now):
            _close_step(step, state, outcome)
            if path:
                step.content_path = path
    logger.info("step done step=%s state=%s outcome=%s", step_id, state, outcome)
    return outcome


def _close_step(step: Any, state: str, outcome: str) -> None:
    step.state = state
    step.outcome = outcome[:200]
    step.done_at = clock.now()


def _address(address: dict[str, Any] | None) -> tuple[str, ...]:
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


def _what(channel: str) -> str:
    return {"email": "e-mail", "sms": "SMS consent or phone", "letter": "address"}.get(
        channel, channel
    )
