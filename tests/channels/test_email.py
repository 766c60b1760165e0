from __future__ import annotations

import email
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.smtp import AuthResult

from app.channels import unsubscribe
from app.channels.addresses import NoEmailAddress
from app.channels.email import (
    Attachment,
    EmailRejectedError,
    EmailRetryError,
    EmailSender,
    OutboundEmail,
    compose,
    message_id,
)
from app.channels.letters import render_letter
from app.channels.parties import Representative
from app.clock import SimulatedClock
from tests.channels.conftest import (
    FreePortController,
    RecordingHandler,
    load_case,
    make_letter,
)

SECRET = "TESTONLY-unsubscribe-secret"
REP = Representative("Aroha Ngata", "aroha@care.example", "+64 9 555 0199")


def sender_for(controller: FreePortController) -> EmailSender:
    return EmailSender(
        host="127.0.0.1",
        port=controller.port,
        mail_from="CARE Pre-Collections <collections@care.example>",
        unsubscribe_secret=SECRET,
        base_url="https://care.example",
        timeout=5,
    )


def outbound(to: object, **changes: object) -> OutboundEmail:
    fields: dict[str, object] = {
        "key": "case:17/step:0/email",
        "to": to,
        "subject": "Overdue invoices: Tuatara Tiling",
        "body": "Dear Tuatara Tiling,\n\nPlease see the attached letter.\n",
        "reply_to": REP,
        "unsubscribe_subject": "debtor:42",
    }
    fields.update(changes)
    return OutboundEmail(**fields)  # type: ignore[arg-type]


def received(handler: RecordingHandler, index: int = -1) -> EmailMessage:
    raw = handler.messages[index].original_content
    assert raw is not None
    return email.message_from_bytes(raw, policy=default_policy)  # type: ignore[return-value]


def raw_header(handler: RecordingHandler, name: str, index: int = -1) -> str:
    raw = handler.messages[index].original_content or b""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers must be pure ASCII
    unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ")
    for line in unfolded.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name} header")


def test_c29_batch_sends_to_everyone_reachable_and_blocks_the_rest(
    smtp_server: tuple[FreePortController, RecordingHandler],
) -> None:
    controller, handler = smtp_server
    case = load_case("C29")
    contacts = {c["n"]: c for c in case["input"]["contacts"]}
    batch: list[object] = [
        contacts[1]["EmailAddress"],
        contacts[2].get("PrimaryEmailAddr", {}).get("Address"),
        contacts[3]["PrimaryEmailAddr"]["Address"],
        contacts[4]["EmailAddress"],
    ] + [
        f"ap{i}@normal{i}.example"
        for i in range(case["input"]["normal_contacts_in_batch"])
    ]
    sender = sender_for(controller)

    statuses = []
    for i, to in enumerate(batch):
        try:
            sender.send(outbound(to, key=f"case:{i}/step:0/email"))
            statuses.append("sent")
        except NoEmailAddress as exc:
            statuses.append(exc.status)

    assert statuses[:2] == ["blocked: no e-mail", "blocked: no e-mail"]
    assert statuses[2:] == ["sent"] * 22
    assert len(handler.messages) == 2 + case["expected"]["normal_contacts_sent"]
    assert handler.messages[0].rcpt_tos == case["expected"]["3"]["recipients"]
    assert handler.messages[1].rcpt_tos == case["expected"]["4"]["recipients"]
    assert received(handler, 0)["To"] == (
        "accounts@brightwater.example, owner@brightwater.example"
    )


@pytest.mark.parametrize("name_index", range(4))
def test_c30_subject_is_rfc2047_and_decodes_back_exactly(
    smtp_server: tuple[FreePortController, RecordingHandler], name_index: int
) -> None:
    controller, handler = smtp_server
    name = load_case("C30")["expected"]["pdf_text_contains_exact"][name_index]
    subject, body = compose(make_letter(name))

    sender_for(controller).send(
        outbound("ap@tuatara.example", subject=subject, body=body)
    )

    assert subject == f"Overdue invoices: {name}"
    raw = raw_header(handler, "Subject")
    assert "=?utf-8?" in raw.lower()
    assert str(make_header(decode_header(raw))) == subject
    assert received(handler)["Subject"] == subject
    assert f"Dear {name}," in received(handler).get_body().get_content()


def test_c30_decomposed_name_in_subject_arrives_composed(
    smtp_server: tuple[FreePortController, RecordingHandler],
) -> None:
    controller, handler = smtp_server
    nfd = load_case("C30")["input"]["nfd_variant"]

    sender_for(controller).send(
        outbound("ap@tuatara.example", subject=f"Overdue: {nfd}")
    )

    assert received(handler)["Subject"] == "Overdue: Zoë Ørsted-Łukasiewicz"


def test_headers_from_reply_to_unsubscribe_and_message_id(
    smtp_server: tuple[FreePortController, RecordingHandler], clock: SimulatedClock
) -> None:
    controller, handler = smtp_server

    sent = sender_for(controller).send(
        outbound("  ap@tuatara.example ", sender_name="Zoë Ørsted-Łukasiewicz Ltd")
    )

    msg = received(handler)
    assert msg["From"].addresses[0].display_name == "Zoë Ørsted-Łukasiewicz Ltd"
    assert msg["From"].addresses[0].addr_spec == "collections@care.example"
    assert "=?utf-8?" in raw_header(handler, "From").lower()
    assert msg["Reply-To"] == "Aroha Ngata <aroha@care.example>"
    assert msg["To"] == "ap@tuatara.example"
    assert msg["Date"] == "Thu, 01 May 2025 12:00:00 +0000"
    assert handler.messages[-1].mail_from == "collections@care.example"
    assert msg["Message-ID"] == sent.message_id
    assert sent.message_id == message_id("case:17/step:0/email", "care.example")
    assert sent.recipients == ("ap@tuatara.example",)
    token = unsubscribe.make_token(SECRET, "debtor:42")
    assert msg["List-Unsubscribe"] == (
        f"<https://care.example/unsubscribe/{token}>, "
        f"<mailto:unsubscribe@care.example?subject=unsubscribe%20{token}>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.read_token(SECRET, token) == "debtor:42"
    # On the wire too: long signed URLs must not become RFC 2047 encoded words,
    # which no mail client reads as List-Unsubscribe.
    assert raw_header(handler, "List-Unsubscribe") == msg["List-Unsubscribe"]
    assert raw_header(handler, "Message-ID") == sent.message_id
    assert raw_header(handler, "Reply-To") == "Aroha Ngata <aroha@care.example>"


def test_resend_under_the_same_key_has_the_same_message_id(
    smtp_server: tuple[FreePortController, RecordingHandler],
) -> None:
    controller, handler = smtp_server
    sender = sender_for(controller)

    first = sender.send(outbound("ap@tuatara.example"))
    again = sender.send(outbound("ap@tuatara.example"))
    other = sender.send(outbound("ap@tuatara.example", key="case:17/step:2/email"))

    assert first.message_id == again.message_id != other.message_id
    assert received(handler, 0)["Message-ID"] == received(handler, 1)["Message-ID"]


def test_letter_is_attached_with_utf8_name_and_ascii_fallback(
    smtp_server: tuple[FreePortController, RecordingHandler],
) -> None:
    controller, handler = smtp_server
    pdf = render_letter(make_letter("Zoë Ørsted-Łukasiewicz"))
    attachment = Attachment("Letter – Zoë Ørsted-Łukasiewicz.pdf", pdf)

    sender_for(controller).send(
        outbound("ap@tuatara.example", attachments=(attachment,))
    )

    parts = list(received(handler).iter_attachments())
    assert len(parts) == 1
    assert parts[0].get_content_type() == "application/pdf"
    assert parts[0].get_filename() == "Letter – Zoë Ørsted-Łukasiewicz.pdf"
    assert parts[0].get_param("name") == "Letter-Zoe-Orsted-Lukasiewicz.pdf"
    assert "filename*0*=utf-8''Letter%20%E2%80%93%20Zo%C3%AB" in raw_header_of_part(
        handler
    )
    assert parts[0].get_content() == pdf


def raw_header_of_part(handler: RecordingHandler) -> str:
    raw = (handler.messages[-1].original_content or b"").decode("ascii")
    start = raw.index("Content-Disposition: attachment")
    return raw[start : raw.index("\r\n\r\n", start)].replace("\r\n ", " ")


def test_no_address_means_no_connection_attempt() -> None:
    # Port 9 (discard) on a closed host would raise EmailRetryError if we connected.
    sender = EmailSender(
        host="127.0.0.1",
        port=9,
        mail_from="collections@care.example",
        unsubscribe_secret=SECRET,
        base_url="https://care.example",
    )
    with pytest.raises(NoEmailAddress):
        sender.send(outbound(""))


def test_server_down_is_a_retry() -> None:
    sender = EmailSender(
        host="127.0.0.1",
        port=free_closed_port(),
        mail_from="collections@care.example",
        unsubscribe_secret=SECRET,
        base_url="https://care.example",
        timeout=2,
    )
    with pytest.raises(EmailRetryError):
        sender.send(outbound("ap@tuatara.example"))


def free_closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_permanent_refusal_of_every_recipient_is_rejected(
    smtp_server: tuple[FreePortController, RecordingHandler],
) -> None:
    controller, handler = smtp_server
    handler.refuse_rcpt["ap@tuatara.example"] = "550 5.1.1 No such user"

    with pytest.raises(EmailRejectedError, match="No such user") as caught:
        sender_for(controller).send(outbound("ap@tuatara.example"))

    assert caught.value.code == 550
    assert handler.messages == []


def test_temporary_refusal_is_a_retry(
    smtp_server: tuple[FreePortController, RecordingHandler],
) -> None:
    controller, handler = smtp_server
    handler.refuse_rcpt["ap@tuatara.example"] = "451 4.3.0 Try again later"

    with pytest.raises(EmailRetryError, match="Try again later"):
        sender_for(controller).send(outbound("ap@tuatara.example"))


def test_one_refused_recipient_is_reported_and_the_others_get_it(
    smtp_server: tuple[FreePortController, RecordingHandler],
) -> None:
    controller, handler = smtp_server
    handler.refuse_rcpt["owner@brightwater.example"] = "550 5.1.1 No such user"

    sent = sender_for(controller).send(
        outbound("accounts@brightwater.example, owner@brightwater.example")
    )

    assert sent.recipients == ("accounts@brightwater.example",)
    assert sent.refused == {"owner@brightwater.example": (550, "5.1.1 No such user")}
    assert handler.messages[0].rcpt_tos == ["accounts@brightwater.example"]


def test_compose_final_email_names_the_date_and_total() -> None:
    subject, body = compose(make_letter(), "final")

    assert subject == "Final reminder: overdue invoices for Tuatara Tiling"
    assert "INV-0042: due 17 March 2025, 45 days late, $640.00" in body
    assert "Total: $652.50" in body
    assert "Please pay by 15 May 2025" in body


def test_logs_in_when_a_user_is_configured() -> None:
    logins: list[tuple[str, bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        logins.append((mechanism, auth_data.login, auth_data.password))
        ok = auth_data.password == b"TESTONLY-smtp-password"
        return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd answers 535

    handler = RecordingHandler()
    # AUTH over plain text is only for this loopback test; production relays use TLS.
    controller = FreePortController(
        handler,
        hostname="127.0.0.1",
        port=0,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        good = EmailSender(
            host="127.0.0.1",
            port=controller.port,
            mail_from="collections@care.example",
            unsubscribe_secret=SECRET,
            base_url="https://care.example",
            user="care",
            password="TESTONLY-smtp-password",
        )
        bad = EmailSender(
            host="127.0.0.1",
            port=controller.port,
            mail_from="collections@care.example",
            unsubscribe_secret=SECRET,
            base_url="https://care.example",
            user="care",
            password="wrong",
        )
        good.send(outbound("ap@tuatara.example"))
        with pytest.raises(EmailRejectedError) as caught:
            bad.send(outbound("ap@tuatara.example"))
    finally:
        controller.stop()

    # smtplib tries PLAIN, then LOGIN after a refusal.
    assert [m for m, _, _ in logins] == ["PLAIN", "PLAIN", "LOGIN"]
    assert {u for _, u, _ in logins} == {b"care"}
    assert len(handler.messages) == 1
    assert caught.value.code == 535


def test_a_line_break_in_a_subject_cannot_add_a_header(
    smtp_server: tuple[FreePortController, RecordingHandler],
) -> None:
    controller, handler = smtp_server

    sender_for(controller).send(
        outbound("ap@tuatara.example", subject="Overdue\r\nBcc: someone@evil.example")
    )

    msg = received(handler)
    assert msg["Subject"] == "Overdue Bcc: someone@evil.example"
    assert msg["Bcc"] is None
    assert handler.messages[0].rcpt_tos == ["ap@tuatara.example"]


def test_a_representative_with_a_non_ascii_name_decodes_back(
    smtp_server: tuple[FreePortController, RecordingHandler],
) -> None:
    controller, handler = smtp_server
    rep = Representative("Nguyễn Thị Hương", "huong@care.example")

    sender_for(controller).send(outbound("ap@tuatara.example", reply_to=rep))

    reply_to = received(handler)["Reply-To"].addresses[0]
    assert (reply_to.display_name, reply_to.addr_spec) == (
        "Nguyễn Thị Hương",
        "huong@care.example",
    )
    assert "=?utf-8?" in raw_header(handler, "Reply-To").lower()


def test_a_failing_quit_after_delivery_is_still_a_send(
    smtp_server: tuple[FreePortController, RecordingHandler],
) -> None:
    controller, handler = smtp_server
    handler.quit_reply = "421 4.3.2 Shutting down"

    sent = sender_for(controller).send(outbound("ap@tuatara.example"))

    assert sent.recipients == ("ap@tuatara.example",)
    assert len(handler.messages) == 1
