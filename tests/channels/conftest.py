"""Fixtures for the channel tests: a letter's input, the shared public cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from app.channels.letters import InvoiceLine, LetterInput, PaymentInstructions
from app.channels.parties import Debtor, Letterhead, Representative
from app.money import Money
from tests.public_cases import CASES


def load_case(case_id: str) -> dict[str, Any]:
    """One public case from ../shared/cases; a missing copy fails, never skips."""
    path = CASES / f"{case_id}.json"
    if not path.exists():
        pytest.fail(f"public case {path} is missing: tests/cases/ holds the copies")
    return json.loads(path.read_text(encoding="utf-8"))


def case_names() -> list[str]:
    """Every customer or contact name in the public cases, as the ledgers spell them."""
    names: list[str] = []
    for path in sorted(CASES.glob("C*.json")):
        _collect_names(json.loads(path.read_text(encoding="utf-8")), names)
    c30 = load_case("C30")["input"]
    names.extend([*c30["customers"], c30["nfd_variant"]])
    return list(dict.fromkeys(names))


def _collect_names(node: object, names: list[str], parent: str = "") -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            # Party names only: a QBO CustomField's Name is a field label.
            named = key in ("Name", "DisplayName", "name") and parent != "CustomField"
            if named and isinstance(value, str):
                names.append(value)
            _collect_names(value, names, key)
    elif isinstance(node, list):
        for item in node:
            _collect_names(item, names, parent)


def make_letter(debtor_name: str = "Tuatara Tiling", **changes: Any) -> LetterInput:
    """A frontline NZ letter for two invoices, due 17 and 20 March, dated 1 May 2025."""
    fields: dict[str, Any] = {
        "debtor": Debtor(debtor_name, ("12 Queen Street", "Auckland 1010")),
        "creditor": Letterhead(
            "Kauri Plumbing Ltd",
            ("1 Main Road", "Wellington 6011"),
            email="accounts@kauri.example",
            phone="+64 4 555 0100",
        ),
        "representative": Representative(
            "Aroha Ngata", "aroha@care.example", "+64 9 555 0199", "Account manager"
        ),
        "invoices": (
            InvoiceLine("INV-0042", date(2025, 3, 17), Money(Decimal("640.00"), "NZD")),
            InvoiceLine("INV-0043", date(2025, 3, 20), Money(Decimal("12.5"), "NZD")),
        ),
        "payment": PaymentInstructions(
            ("Bank transfer to 12-3456-7890123-00", "Reference: INV-0042"),
            pay_url="https://pay.example/kauri/CARE-17",
        ),
        "as_of": date(2025, 5, 1),
        "locale": "en_NZ",
        "reference": "CARE-17",
    }
    fields.update(changes)
    return LetterInput(**fields)


class RecordingHandler:
    """An aiosmtpd handler that keeps every message it accepts, and can refuse."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        self.refuse_rcpt: dict[str, str] = {}  # address -> SMTP reply, e.g. "550 ..."
        self.quit_reply: str | None = None  # e.g. "421 going away" instead of 221

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: object,
        session: object,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(  # noqa: N802 - aiosmtpd's hook name
        self, server: object, session: object, envelope: Envelope
    ) -> str:
        return self.quit_reply or "221 Bye"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: object, session: object, envelope: Envelope
    ) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


class FreePortController(Controller):
    """aiosmtpd's Controller on port 0: reads the port the OS picked, then probes."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_server() -> Iterator[tuple[FreePortController, RecordingHandler]]:
    """A real SMTP server on 127.0.0.1 and a free port, recording what arrives."""
    handler = RecordingHandler()
    controller = FreePortController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    yield controller, handler
    controller.stop()


# The Twilio stand-in and webhook receiver, shared with tests/sandbox/twilio.
from tests.sandbox.twilio.conftest import receiver, twilio_sandbox  # noqa: E402, F401
