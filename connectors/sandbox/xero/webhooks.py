"""Xero webhooks from the sandbox: signed deliveries, retries, intent-to-receive.

Format from xero-webhooks.yaml and the deliveries recorded in case C20: a JSON body
`{"events":[...],"firstEventSequence": n,"lastEventSequence": m, "entropy": "..."}`
(Xero's own odd spacing kept), signed in `x-xero-signature` with the base64
HMAC-SHA256 of the raw body under the webhook key. A receiver must answer 200 to a
correctly signed body and 401 to a wrongly signed one; Xero proves that with the
intent-to-receive probe before it sends events, and retries failed deliveries with
back-off for 24 hours before disabling the webhook.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests

logger = logging.getLogger(__name__)

RETRY_FOR = timedelta(hours=24)
MAX_BACKOFF = timedelta(hours=1)
DEADLINE_SECONDS = 5.0  # Xero gives a receiver 5 s to answer
CATEGORIES = {"Invoices": "INVOICE", "Contacts": "CONTACT", "CreditNotes": "CREDITNOTE"}

Poster = Callable[[str, bytes, dict[str, str]], int]


def sign(body: bytes, key: str) -> str:
    """The `x-xero-signature` of a raw body: base64 HMAC-SHA256 under the key."""
    digest = hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def payload(events: list[dict[str, Any]], first: int, last: int, entropy: str) -> bytes:
    """A delivery body byte for byte as Xero lays it out."""
    compact = json.dumps(events, separators=(",", ":"), ensure_ascii=False)
    return (
        f'{{"events":{compact},"firstEventSequence": {first},'
        f'"lastEventSequence": {last}, "entropy": "{entropy}"}}'
    ).encode()


def http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST a delivery; a connection failure or timeout counts as status 0."""
    try:
        return requests.post(
            url, data=body, headers=headers, timeout=DEADLINE_SECONDS
        ).status_code
    except requests.RequestException as exc:
        logger.warning("xero sandbox webhook failed url=%s error=%s", url, exc)
        return 0


@dataclass
class Delivery:
    """One signed body and its attempts."""

    body: bytes
    first_at: datetime
    next_at: datetime
    attempts: int = 0
    statuses: list[int] = field(default_factory=list)
    done: bool = False
    dropped: bool = False


@dataclass(frozen=True)
class IntentResult:
    """What the receiver answered to the intent-to-receive probe."""

    good_status: int  # to the correctly signed probe; must be 200
    bad_status: int  # to the wrongly signed probe; must be 401

    @property
    def ok(self) -> bool:
        return self.good_status == 200 and self.bad_status == 401


class WebhookSender:
    """Queues events as the books change and delivers them when told to."""

    def __init__(
        self,
        url: str | None,
        key: str,
        seed: int = 0,
        post: Poster = http_post,
        api_base: str = "https://api.xero.com/api.xro/2.0",
    ) -> None:
        self.url = url
        self.key = key
        self.post = post
        self.api_base = api_base
        self.sequence = 0
        self.enabled = True
        self.pending: list[dict[str, Any]] = []
        self.deliveries: list[Delivery] = []
        self._random = random.Random(f"xero-webhooks:{seed}")
        self._lock = threading.Lock()

    def emit(
        self,
        tenant_id: str,
        collection: str,
        resource_id: str,
        event_type: str,
        at: datetime,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Queue one event for a change to an object Xero sends events for."""
        category = CATEGORIES.get(collection)
        if category is None or not self.url:
            return
        event: dict[str, Any] = {
            "resourceUrl": f"{self.api_base}/{collection}/{resource_id}",
            "resourceId": resource_id,
            "eventDateUtc": at.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{at.microsecond // 1000:03d}",
            "eventType": event_type,
            "eventCategory": category,
            "tenantId": tenant_id,
            "tenantType": "ORGANISATION",
        }
        if data is not None:
            event["data"] = data
        with self._lock:
            self.pending.append(event)

    def deliver(self, now: datetime) -> list[Delivery]:
        """Send what is queued as one delivery, then retry deliveries that are due."""
        with self._lock:
            events, self.pending = self.pending, []
            if events and self.url and self.enabled:
                first = self.sequence + 1
                self.sequence += len(events)
                body = payload(events, first, self.sequence, self._entropy())
                self.deliveries.append(Delivery(body=body, first_at=now, next_at=now))
            due = [
                d
                for d in self.deliveries
                if not d.done and not d.dropped and d.next_at <= now
            ]
        for delivery in due:
            self._attempt(delivery, now)
        return due

    def _attempt(self, delivery: Delivery, now: datetime) -> None:
        assert self.url
        status = self.post(
            self.url, delivery.body, self._headers(delivery.body, self.key)
        )
        delivery.attempts += 1
        delivery.statuses.append(status)
        if status == 200:
            delivery.done = True
            return
        if now - delivery.first_at >= RETRY_FOR:
            delivery.dropped = True
            self.enabled = False
            logger.warning(
                "xero sandbox webhook disabled url=%s after 24h of failures", self.url
            )
            return
        backoff = min(timedelta(minutes=2 ** (delivery.attempts - 1)), MAX_BACKOFF)
        delivery.next_at = now + backoff
        logger.info(
            "xero sandbox webhook retry status=%s attempt=%s next=%s",
            status,
            delivery.attempts,
            delivery.next_at.isoformat(),
        )

    def probe_intent_to_receive(self, url: str | None = None) -> IntentResult:
        """Xero's handshake: a correctly signed empty body, then a wrong one."""
        target = url or self.url
        if not target:
            raise ValueError("no webhook URL to probe; pass one or set webhook_url")
        good = payload([], 0, 0, self._entropy())
        bad = payload([], 0, 0, self._entropy())
        good_status = self.post(target, good, self._headers(good, self.key))
        wrong_key = self.key + "-not-the-webhook-key"
        bad_status = self.post(target, bad, self._headers(bad, wrong_key))
        result = IntentResult(good_status, bad_status)
        if target == self.url:
            self.enabled = result.ok
        logger.info(
            "xero sandbox intent-to-receive url=%s good=%s bad=%s",
            target,
            good_status,
            bad_status,
        )
        return result

    def _headers(self, body: bytes, key: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json; charset=utf-8",
            "x-xero-signature": sign(body, key),
        }

    def _entropy(self) -> str:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        return "".join(self._random.choice(letters) for _ in range(20))
