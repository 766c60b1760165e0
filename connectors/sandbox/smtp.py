"""A real SMTP server on 127.0.0.1 that keeps what it receives (aiosmtpd).

The demo and the tests send e-mail through it exactly as through a provider's relay,
then count what arrived, each message with its Message-ID (the idempotency key's
digest), to check that nothing was sent twice.
"""

from __future__ import annotations

import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class _Keeper:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class _FreePortController(Controller):
    def _trigger_server(self) -> None:
        # Port 0 lets the OS pick; read it back before aiosmtpd probes the server.
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        super()._trigger_server()


class MailSink:
    """An SMTP server on a free port; `messages` is everything it accepted."""

    def __init__(self, port: int = 0) -> None:
        self._keeper = _Keeper()
        self._controller = _FreePortController(
            self._keeper, hostname="127.0.0.1", port=port
        )

    def start(self) -> MailSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._keeper.lock:
            return list(self._keeper.messages)

    def duplicates(self) -> int:
        """Messages whose Message-ID arrived more than once."""
        ids = [str(m["Message-ID"]) for m in self.messages]
        return len(ids) - len(set(ids))
