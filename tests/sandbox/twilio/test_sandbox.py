"""The Twilio stand-in answers as Twilio's Messages API documents, over raw HTTP."""

from __future__ import annotations

import re

import requests
from twilio.request_validator import RequestValidator

from connectors.sandbox.twilio.sandbox import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    TwilioSandbox,
    segments,
)
from tests.sandbox.twilio.receiver import WebhookReceiver

AUTH = (DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
DEBTOR = "+64211234567"


def messages_url(sandbox: TwilioSandbox) -> str:
    return f"{sandbox.url}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"


def create(sandbox: TwilioSandbox, **form: str) -> requests.Response:
    data = {"To": DEBTOR, "From": DEFAULT_FROM, "Body": "Invoice INV-0042 is overdue."}
    data.update(form)
    return requests.post(messages_url(sandbox), data=data, auth=AUTH, timeout=5)


def test_create_answers_201_with_twilios_message_shape(
    twilio_sandbox: TwilioSandbox,
) -> None:
    answer = create(twilio_sandbox)

    assert answer.status_code == 201
    body = answer.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sid"])
    assert body["status"] == "queued"
    assert body["direction"] == "outbound-api"
    assert body["to"] == DEBTOR and body["from"] == DEFAULT_FROM
    assert body["account_sid"] == DEFAULT_ACCOUNT_SID
    assert body["api_version"] == "2010-04-01"
    assert body["date_created"] == "Thu, 01 May 2025 12:00:00 +0000"
    assert body["date_sent"] is None
    assert body["num_segments"] == "1"
    assert (
        body["uri"]
        == f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages/{body['sid']}.json"
    )
    assert twilio_sandbox.count() == 1


def test_fetch_returns_the_message_and_unknown_sids_404(
    twilio_sandbox: TwilioSandbox,
) -> None:
    sid = create(twilio_sandbox).json()["sid"]
    base = messages_url(twilio_sandbox).removesuffix(".json")

    found = requests.get(f"{base}/{sid}.json", auth=AUTH, timeout=5)
    missing = requests.get(f"{base}/SM{'0' * 32}.json", auth=AUTH, timeout=5)

    assert found.status_code == 200 and found.json()["sid"] == sid
    assert missing.status_code == 404 and missing.json()["code"] == 20404


def test_wrong_credentials_are_401_with_code_20003(
    twilio_sandbox: TwilioSandbox,
) -> None:
    answer = requests.post(
        messages_url(twilio_sandbox),
        data={"To": DEBTOR, "From": DEFAULT_FROM, "Body": "x"},
        auth=(DEFAULT_ACCOUNT_SID, "wrong"),
        timeout=5,
    )

    assert answer.status_code == 401
    assert answer.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert twilio_sandbox.count() == 0


def test_invalid_to_and_missing_body_are_refused(twilio_sandbox: TwilioSandbox) -> None:
    assert create(twilio_sandbox, To="021 123 4567").json()["code"] == 21211
    assert create(twilio_sandbox, Body="").json()["code"] == 21602
    assert create(twilio_sandbox, From="+15005550009").json()["code"] == 21606
    assert twilio_sandbox.count() == 0


def test_inbound_stop_blocks_sends_until_start(
    twilio_sandbox: TwilioSandbox, receiver: WebhookReceiver
) -> None:
    assert twilio_sandbox.inbound(DEBTOR, " stop ") == 204

    blocked = create(twilio_sandbox)
    assert blocked.status_code == 400
    assert blocked.json()["code"] == 21610

    twilio_sandbox.inbound(DEBTOR, "START")
    assert create(twilio_sandbox).status_code == 201
    hooks = receiver.at("/sms/inbound")
    assert [h.form["Body"] for h in hooks] == [" stop ", "START"]
    assert all(h.valid for h in hooks)
    assert hooks[0].form["From"] == DEBTOR and hooks[0].form["To"] == DEFAULT_FROM


def test_status_callbacks_are_signed_with_the_auth_token(
    twilio_sandbox: TwilioSandbox, receiver: WebhookReceiver
) -> None:
    callback = f"{receiver.url}/sms/status"
    sid = create(twilio_sandbox, StatusCallback=callback).json()["sid"]

    assert twilio_sandbox.deliver(sid) == [204, 204]

    hooks = receiver.at("/sms/status")
    assert [h.form["MessageStatus"] for h in hooks] == ["sent", "delivered"]
    expected = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(
        callback, hooks[1].form
    )
    assert hooks[1].signature == expected
    assert twilio_sandbox.messages[sid].status == "delivered"
    assert (
        twilio_sandbox.messages[sid].resource()["date_sent"]
        == "Thu, 01 May 2025 12:00:00 +0000"
    )


def test_list_filters_by_to_newest_first(twilio_sandbox: TwilioSandbox) -> None:
    first = create(twilio_sandbox).json()["sid"]
    create(twilio_sandbox, To="+48512345678")

    answer = requests.get(
        messages_url(twilio_sandbox), params={"To": DEBTOR}, auth=AUTH, timeout=5
    )

    assert [m["sid"] for m in answer.json()["messages"]] == [first]


def test_error_fault_answers_500_and_is_logged(twilio_sandbox: TwilioSandbox) -> None:
    twilio_sandbox.faults.error_rate = 1.0

    answer = create(twilio_sandbox)

    assert answer.status_code == 500 and answer.json()["code"] == 20500
    assert twilio_sandbox.log.count("/Messages.json", method="POST") == 1
    assert twilio_sandbox.count() == 0


def test_segments_follow_gsm7_and_ucs2_limits() -> None:
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2  # 153 per part when concatenated
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3
    assert segments("Zoë " + "a" * 66) == 1  # ë is not GSM-7: UCS-2, 70 fit
    assert segments("Łukasiewicz " + "a" * 59) == 2  # 71 UCS-2 characters
