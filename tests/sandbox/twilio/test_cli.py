"""`care sandbox twilio` runs the stand-in on its own, as a demo would use it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from app.channels.sms import OutboundSms, SmsSender

CLI = [sys.executable, "-c", "from app.cli import main; main()"]


@pytest.fixture
def cli_sandbox() -> Iterator[dict[str, str]]:
    process = subprocess.Popen(
        [*CLI, "sandbox", "twilio", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_prints_the_settings_and_serves_the_api(
    cli_sandbox: dict[str, str],
) -> None:
    sender = SmsSender(
        cli_sandbox["TWILIO_ACCOUNT_SID"],
        cli_sandbox["TWILIO_AUTH_TOKEN"],
        cli_sandbox["TWILIO_FROM"],
        cli_sandbox["TWILIO_BASE_URL"],
    )

    sent = sender.send(
        OutboundSms("case:1/step:3/sms", "+64211234567", "Hello", consent=True)
    )
    recorded = requests.get(
        f"{cli_sandbox['TWILIO_BASE_URL']}/_sandbox/messages", timeout=5
    )

    assert [m["sid"] for m in recorded.json()] == [sent.sid]
    assert recorded.json()[0]["body"] == "Hello"
