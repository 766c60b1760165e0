"""SmsSender through the official twilio client against the Twilio stand-in."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.channels.letters import InvoiceLine
from app.channels.sms import (
    InvalidPhoneNumberError,
    NoSmsConsentError,
    OutboundSms,
    SmsOptedOutError,
    SmsRejectedError,
    SmsRetryError,
    SmsSender,
    compose_sms,
    e164,
    parse_inbound,
    parse_status_callback,
    verify_signature,
)
from app.clock import SimulatedClock
from app.config import Settings
from app.money import Money
from connectors.sandbox.twilio.sandbox import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    TwilioSandbox,
)
from tests.channels.conftest import make_letter
from tests.sandbox.twilio.receiver import WebhookReceiver

DEBTOR_NATIONAL = "021 123 4567"
DEBTOR = "+64211234567"


def sender_for(
    sandbox: TwilioSandbox, status_callback: str = "", token: str = DEFAULT_AUTH_TOKEN
) -> SmsSender:
    return SmsSender(
        DEFAULT_ACCOUNT_SID, token, DEFAULT_FROM, sandbox.url, status_callback
    )


def text(**changes: object) -> OutboundSms:
    fields: dict[str, object] = {
        "key": "case:17/step:3/sms",
        "to": DEBTOR_NATIONAL,
        "body": "Kauri Plumbing Ltd: invoice INV-0042 ($640.00) is overdue.",
        "consent": True,
        "region": "NZ",
    }
    fields.update(changes)
    return OutboundSms(**fields)  # type: ignore[arg-type]


def test_send_with_consent_reaches_twilio_in_e164(
    twilio_sandbox: TwilioSandbox,
) -> None:
    sent = sender_for(twilio_sandbox).send(text())

    assert sent.to == DEBTOR and sent.status == "queued"
    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    [message] = twilio_sandbox.outbound()
    assert message.to == DEBTOR and message.from_ == DEFAULT_FROM
    assert message.body == "Kauri Plumbing Ltd: invoice INV-0042 ($640.00) is overdue."
    assert (
        twilio_sandbox.log.count(
            f"/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json", "POST"
        )
        == 1
    )


def test_no_consent_is_refused_without_calling_twilio(
    twilio_sandbox: TwilioSandbox,
) -> None:
    with pytest.raises(NoSmsConsentError):
        sender_for(twilio_sandbox).send(text(consent=False))
    with pytest.raises(SmsOptedOutError):
        sender_for(twilio_sandbox).send(text(opted_out=True))

    assert twilio_sandbox.log.entries() == []


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("12345", "not a valid"),
        ("+64 9 555 0199", "landline"),
        ("call me", "not a phone"),
    ],
)
def test_numbers_we_cannot_text_are_refused(
    twilio_sandbox: TwilioSandbox, number: str, reason: str
) -> None:
    with pytest.raises(InvalidPhoneNumberError, match=reason):
        sender_for(twilio_sandbox).send(text(to=number))

    assert twilio_sandbox.log.entries() == []


def test_e164_normalises_national_and_international_forms() -> None:
    assert e164("021 123 4567", "NZ") == "+64211234567"
    assert e164("+48 512 345 678") == "+48512345678"
    assert e164("090-1234-5678", "jp") == "+819012345678"


def test_inbound_stop_is_recorded_as_opt_out_and_twilio_then_blocks(
    twilio_sandbox: TwilioSandbox, receiver: WebhookReceiver
) -> None:
    sender = sender_for(twilio_sandbox)
    sender.send(text())

    twilio_sandbox.inbound(DEBTOR, "Stop")

    [hook] = receiver.at("/sms/inbound")
    assert hook.valid
    inbound = parse_inbound(hook.form)
    assert inbound.action == "opt_out"
    assert inbound.from_number == DEBTOR and inbound.to_number == DEFAULT_FROM
    # Had the job missed the webhook, Twilio's own block (21610) still stops the send.
    with pytest.raises(SmsOptedOutError):
        sender.send(text(key="case:17/step:5/sms"))
    assert twilio_sandbox.count() == 1


def test_advanced_opt_out_type_is_honoured(
    twilio_sandbox: TwilioSandbox, receiver: WebhookReceiver
) -> None:
    twilio_sandbox.advanced_opt_out = True

    twilio_sandbox.inbound(DEBTOR, "optout")

    [hook] = receiver.at("/sms/inbound")
    assert hook.form["OptOutType"] == "STOP"
    assert parse_inbound(hook.form).action == "opt_out"


@pytest.mark.parametrize(
    ("body", "action"),
    [
        ("STOP", "opt_out"),
        ("  unsubscribe\n", "opt_out"),
        ("Cancel", "opt_out"),
        ("STOPALL", "opt_out"),
        ("stop please", "message"),  # Twilio matches the whole body only
        ("START", "opt_in"),
        ("unstop", "opt_in"),
        ("help", "help"),
        ("Paid yesterday, sorry!", "message"),
    ],
)
def test_inbound_keywords(body: str, action: str) -> None:
    form = {
        "MessageSid": "SM" + "1" * 32,
        "From": DEBTOR,
        "To": DEFAULT_FROM,
        "Body": body,
    }

    assert parse_inbound(form).action == action


def test_inbound_form_without_sender_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks MessageSid, From"):
        parse_inbound({"To": DEFAULT_FROM, "Body": "STOP"})


def test_signature_check_refuses_tampered_forms(
    twilio_sandbox: TwilioSandbox, receiver: WebhookReceiver
) -> None:
    twilio_sandbox.inbound(DEBTOR, "STOP")
    [hook] = receiver.at("/sms/inbound")
    url = f"{receiver.url}/sms/inbound"

    assert verify_signature(DEFAULT_AUTH_TOKEN, url, hook.form, hook.signature)
    assert not verify_signature(
        DEFAULT_AUTH_TOKEN, url, {**hook.form, "Body": "START"}, hook.signature
    )
    assert not verify_signature("another-token", url, hook.form, hook.signature)
    assert not verify_signature(DEFAULT_AUTH_TOKEN, url, hook.form, "")


def test_status_callbacks_arrive_signed_and_fetch_agrees(
    twilio_sandbox: TwilioSandbox, receiver: WebhookReceiver
) -> None:
    sender = sender_for(twilio_sandbox, status_callback=f"{receiver.url}/sms/status")
    sent = sender.send(text())

    twilio_sandbox.deliver(sent.sid)

    updates = [parse_status_callback(h.form) for h in receiver.at("/sms/status")]
    assert [(u.message_sid, u.status) for u in updates] == [
        (sent.sid, "sent"),
        (sent.sid, "delivered"),
    ]
    assert all(h.valid for h in receiver.at("/sms/status"))
    assert sender.fetch(sent.sid).status == "delivered"


def test_undelivered_carries_the_error_code(
    twilio_sandbox: TwilioSandbox, receiver: WebhookReceiver
) -> None:
    sender = sender_for(twilio_sandbox, status_callback=f"{receiver.url}/sms/status")
    sent = sender.send(text())

    twilio_sandbox.set_status(sent.sid, "undelivered", error_code=30003)

    [hook] = receiver.at("/sms/status")
    assert parse_status_callback(hook.form).error_code == 30003
    assert sender.fetch(sent.sid).error_code == 30003


def test_twilio_5xx_is_a_retry_and_bad_credentials_are_rejected(
    twilio_sandbox: TwilioSandbox,
) -> None:
    with pytest.raises(SmsRejectedError) as caught:
        sender_for(twilio_sandbox, token="TESTONLY-wrong").send(text())
    assert caught.value.code == 20003

    twilio_sandbox.faults.error_rate = 1.0
    with pytest.raises(SmsRetryError):
        sender_for(twilio_sandbox).send(text())
    assert twilio_sandbox.count() == 0


def test_unreachable_twilio_is_a_retry(twilio_sandbox: TwilioSandbox) -> None:
    sender = sender_for(twilio_sandbox)
    twilio_sandbox.stop()

    with pytest.raises(SmsRetryError):
        sender.send(text())


def test_sms_is_off_without_an_account() -> None:
    assert SmsSender.from_settings(Settings()) is None
    configured = Settings(
        twilio_account_sid=DEFAULT_ACCOUNT_SID,
        twilio_auth_token=DEFAULT_AUTH_TOKEN,
        twilio_from=DEFAULT_FROM,
        twilio_base_url="http://127.0.0.1:1",
    )
    assert isinstance(SmsSender.from_settings(configured), SmsSender)


def test_compose_sms_names_invoices_total_link_and_stop() -> None:
    assert compose_sms(make_letter()) == (
        "Kauri Plumbing Ltd: invoices INV-0042, INV-0043 ($652.50) are overdue."
        " Pay at https://pay.example/kauri/CARE-17 or call Aroha Ngata on"
        " +64 9 555 0199 to talk it through. Reply STOP to opt out."
    )


def test_compose_sms_keeps_the_no_break_space_inside_amounts() -> None:
    letter = make_letter(
        invoices=(
            InvoiceLine("2044", date(2025, 3, 20), Money(Decimal("2000"), "EUR")),
        ),
        locale="de_DE",
    )

    assert "invoice 2044 (2.000,00\xa0€) is overdue." in compose_sms(letter)


def test_find_sent_recognises_a_text_twilio_took_before_a_crash(
    twilio_sandbox: TwilioSandbox, clock: SimulatedClock
) -> None:
    sender = sender_for(twilio_sandbox)
    attempt_started = clock.now()
    sent = sender.send(text())  # Twilio took it; then the worker died before recording

    clock.advance(timedelta(minutes=5))
    found = sender.find_sent(text(), since=attempt_started)

    assert found is not None and found.sid == sent.sid
    assert (
        sender.find_sent(text(body="A different message."), since=attempt_started)
        is None
    )
    assert (
        sender.find_sent(text(), since=attempt_started + timedelta(seconds=1)) is None
    )
    assert twilio_sandbox.count() == 1


def test_find_sent_matches_within_the_same_second(
    twilio_sandbox: TwilioSandbox, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(milliseconds=500))  # Twilio will say 12:00:00, not .5
    since = clock.now()
    sent = sender_for(twilio_sandbox).send(text())

    found = sender_for(twilio_sandbox).find_sent(text(), since=since)

    assert found is not None and found.sid == sent.sid


def test_twilio_429_is_a_retry(twilio_sandbox: TwilioSandbox) -> None:
    twilio_sandbox.throttled = True

    with pytest.raises(SmsRetryError, match="429"):
        sender_for(twilio_sandbox).send(text())

    twilio_sandbox.throttled = False
    assert sender_for(twilio_sandbox).send(text()).status == "queued"
