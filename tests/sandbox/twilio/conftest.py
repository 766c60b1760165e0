"""Fixtures: the Twilio stand-in on a free port, and a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.clock import SimulatedClock
from connectors.sandbox.twilio.sandbox import DEFAULT_AUTH_TOKEN, TwilioSandbox
from tests.sandbox.twilio.receiver import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hooks = WebhookReceiver(DEFAULT_AUTH_TOKEN)
    yield hooks
    hooks.stop()


@pytest.fixture
def twilio_sandbox(
    clock: SimulatedClock, receiver: WebhookReceiver
) -> Iterator[TwilioSandbox]:
    sandbox = TwilioSandbox(inbound_url=f"{receiver.url}/sms/inbound")
    sandbox.start()
    yield sandbox
    sandbox.stop()
