"""Webhook notifications: each change POSTed to the app, signed like Intuit signs it.

`intuit-signature` is base64(HMAC-SHA256(verifier token, raw body)). The body is the
CloudEvents array Intuit requires from 2026 (`type: qbo.invoice.updated.v1`), or the
legacy `eventNotifications` object. A failed delivery (no answer in 3 s, or not 2xx)
is retried on Intuit's published schedule, then dropped. Delivery runs when
`deliver_pending()` is called (tests) or from a background thread (servers). See
https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from connectors.sandbox.quickbooks.state import Change

logger = logging.getLogger(__name__)

# NOTE: Intuit retries at 0s, 10s, 20s, 30s, 5m, 20m, 2h, 4h, 6h (enhanced webhooks
# monitoring post, 2025-10-14); after the last one the sandbox drops the delivery.
RETRY_SCHEDULE = tuple(
    timedelta(seconds=s) for s in (10, 20, 30, 300, 1200, 7200, 14400, 21600)
)
DELIVERY_TIMEOUT = 3.0
_OPERATIONS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Void": "voided",
    "Merge": "merged",
}


def sign(body: bytes, verifier_token: str) -> str:
    """The `intuit-signature` header value for `body`."""
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass
class Delivery:
    """One POST to make, with its attempts so far."""

    body: bytes
    due: datetime
    attempts: int = 0
    statuses: list[int | str] = field(default_factory=list)
    delivered: bool = False
    dropped: bool = False
    sending: bool = False  # an attempt is under way (thread or deliver_pending)


# TODO: Intuit gathers changes into one POST per 1, 3 or 5 minutes; the sandbox posts
# once per write, so a receiver sees more and smaller deliveries than in production.


class Notifier:
    """Builds, signs and delivers webhook bodies; retries on the injected clock."""

    def __init__(
        self,
        url: str | None,
        verifier_token: str,
        now: Callable[[], datetime],
        timezone_of: Callable[[str], str],
        fmt: str = "cloudevents",
        seed: int = 0,
    ) -> None:
        if fmt not in ("cloudevents", "legacy"):
            raise ValueError(f"webhook format is cloudevents or legacy, not {fmt!r}")
        self.url = url
        self.verifier_token = verifier_token
        self.format = fmt
        self.now = now
        self.timezone_of = timezone_of
        self.deliveries: list[Delivery] = []
        self._random = random.Random(f"qbo-webhooks-{seed}")
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self, changes: list[Change]) -> Delivery | None:
        """Queue one delivery for the changes of one write."""
        if not self.url or not changes:
            return None
        unique = list(
            {(c.realm_id, c.entity, c.object_id): c for c in changes}.values()
        )
        body = (
            self.cloudevents(unique)
            if self.format == "cloudevents"
            else self.legacy(unique)
        )
        delivery = Delivery(body=body, due=self.now())
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    def cloudevents(self, changes: list[Change]) -> bytes:
        """A CloudEvents 1.0 array, one event per changed object."""
        events = []
        for change in changes:
            events.append(
                {
                    "specversion": "1.0",
                    "id": str(uuid.UUID(int=self._random.getrandbits(128), version=4)),
                    "source": "intuit.sandbox",
                    "type": f"qbo.{change.entity.lower()}."
                    f"{_OPERATIONS[change.operation]}.v1",
                    "datacontenttype": "application/json",
                    "time": change.at.isoformat(timespec="milliseconds").replace(
                        "+00:00", "Z"
                    ),
                    "intuitentityid": change.object_id,
                    "intuitaccountid": change.realm_id,
                    "data": {},
                }
            )
        return json.dumps(events, separators=(",", ":")).encode()

    def legacy(self, changes: list[Change]) -> bytes:
        """The pre-2026 `eventNotifications` body, grouped by realm."""
        by_realm: dict[str, list[dict[str, str]]] = {}
        for change in changes:
            local = change.at.astimezone(ZoneInfo(self.timezone_of(change.realm_id)))
            by_realm.setdefault(change.realm_id, []).append(
                {
                    "name": change.entity,
                    "id": change.object_id,
                    "operation": change.operation,
                    "lastUpdated": local.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
            )
        notifications = [
            {"realmId": realm, "dataChangeEvent": {"entities": entities}}
            for realm, entities in by_realm.items()
        ]
        return json.dumps(
            {"eventNotifications": notifications}, separators=(",", ":")
        ).encode()

    def deliver_pending(self) -> int:
        """POST every delivery that is due now; returns how many succeeded."""
        with self._lock:
            due = [
                d
                for d in self.deliveries
                if not (d.delivered or d.dropped or d.sending) and d.due <= self.now()
            ]
            for delivery in due:
                delivery.sending = True
        delivered = 0
        for delivery in due:
            try:
                delivered += self._attempt(delivery)
            finally:
                delivery.sending = False
        return delivered

    def pending(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if not d.delivered and not d.dropped]

    def _attempt(self, delivery: Delivery) -> bool:
        headers = {
            "Content-Type": "application/json",
            "intuit-signature": sign(delivery.body, self.verifier_token),
            "User-Agent": "Intuit-Webhooks-Sandbox",
        }
        delivery.attempts += 1
        try:
            response = self._session.post(
                self.url or "",
                data=delivery.body,
                headers=headers,
                timeout=DELIVERY_TIMEOUT,
            )
            status: int | str = response.status_code
            ok = 200 <= response.status_code < 300
        except requests.RequestException as exc:
            status, ok = type(exc).__name__, False
        delivery.statuses.append(status)
        if ok:
            delivery.delivered = True
            return True
        if delivery.attempts > len(RETRY_SCHEDULE):
            delivery.dropped = True
            logger.warning("qbo sandbox webhook dropped attempts=%s", delivery.attempts)
        else:
            delivery.due = self.now() + RETRY_SCHEDULE[delivery.attempts - 1]
            logger.info(
                "qbo sandbox webhook retry attempts=%s status=%s",
                delivery.attempts,
                status,
            )
        return False

    def start(self, interval: float = 0.2) -> None:
        """Deliver in a daemon thread every `interval` real seconds."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="qbo-webhooks", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.deliver_pending()
            except Exception:  # a bad URL must not kill the thread
                logger.exception("qbo sandbox webhook delivery failed")
